package dev.landfall.io.csv;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.pipeline.sample.BillingSampleGenerator;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the FlinkRunner (local, parallelism 2) the second pass of a CSV backfill reads each file on
 * the worker {@link BalancedFileKeys} chose for it: the rule it assumes for Flink's partitioning of
 * a grouping holds. The worker is the subtask in the name of the thread that handles the file's
 * rows ("... (1/2)#0").
 */
class BalancedSecondPassFlinkTest {
  private static final String NS = "balanced-second-pass-test";
  private static final Pattern SUBTASK = Pattern.compile("\\((\\d+)/(\\d+)\\)#\\d+$");

  @TempDir Path dir;

  @Test
  void eachFileIsReadByTheWorkerPlannedForIt() throws Exception {
    BillingSampleGenerator.standard(12_000, 11).writeTo(dir);
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    FlinkPipelineOptions options = PipelineOptionsFactory.as(FlinkPipelineOptions.class);
    options.setRunner(FlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    Pipeline p = Pipeline.create(options);
    ReadDeduplicatedCsv.Result read =
        p.apply(FileIO.match().filepattern(dir + "/**"))
            .apply(FileIO.readMatches())
            .apply(new ReadDeduplicatedCsv(def).inBuckets(16).balancedOver(2));
    read.unique().apply(ParDo.of(new WorkerOfRowFn()));
    read.fileItems().apply(ParDo.of(new ItemsFn()));
    PipelineResult result = p.run();
    result.waitUntilFinish();

    Map<String, Long> items = new HashMap<>();
    Map<String, List<Integer>> workersOfFile = new TreeMap<>();
    for (MetricResult<Long> c :
        result.metrics().queryMetrics(MetricsFilter.builder().build()).getCounters()) {
      if (!c.getName().getNamespace().equals(NS)) {
        continue;
      }
      String name = c.getName().getName();
      if (name.startsWith("items:")) {
        items.put(name.substring(6), c.getAttempted());
      } else {
        int at = name.lastIndexOf('@');
        workersOfFile
            .computeIfAbsent(name.substring(5, at), k -> new ArrayList<>())
            .add(Integer.parseInt(name.substring(at + 1)));
      }
    }
    List<String> names = new ArrayList<>(new TreeMap<>(items).keySet());
    assertThat("files read in the second pass", workersOfFile.size(), equalTo(names.size()));
    int[] keys = BalancedFileKeys.keys(names, items, 2);
    Map<String, List<Integer>> planned = new TreeMap<>();
    for (int rank = 0; rank < names.size(); rank++) {
      planned.put(names.get(rank), List.of(BalancedFileKeys.workerOf(keys[rank], 2)));
    }
    assertThat(workersOfFile, equalTo(planned));
  }

  /** Counts each row under its file and the subtask (0-based) of the thread handling it. */
  static final class WorkerOfRowFn extends DoFn<Row, Void> {
    @ProcessElement
    public void process(@Element Row row) {
      Matcher m = SUBTASK.matcher(Thread.currentThread().getName());
      int worker = m.find() ? Integer.parseInt(m.group(1)) - 1 : -1;
      Metrics.counter(NS, "file:" + row.getString(DatasetDefinition.SOURCE_FILE) + "@" + worker)
          .inc();
    }
  }

  /** The first pass's record count of each file. */
  static final class ItemsFn extends DoFn<KV<String, Long>, Void> {
    @ProcessElement
    public void process(@Element KV<String, Long> items) {
      Metrics.counter(NS, "items:" + items.getKey()).inc(items.getValue());
    }
  }
}
