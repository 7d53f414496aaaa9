package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.csv.ReadCsvFiles;
import dev.landfall.io.csv.ReadDeduplicatedCsv;
import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReadDeduplicatedCsvTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final String HEADER =
      "event_id,event_time,account_id,service,region,resource_id,usage_quantity,unit_price,cost,currency";

  @TempDir Path dir;

  private void write(String relative, String... ids) throws Exception {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (String id : ids) {
      sb.append(
              id.equals("bad")
                  ? "x,not-a-time,a,compute,r,z,1,1,1,USD"
                  : id + ",2024-01-01T00:00:00Z,a,compute,r,z,1,1," + relative.length() + ",USD")
          .append('\n');
    }
    Path p = dir.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.write(p, sb.toString().getBytes(StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "buckets={0}")
  @ValueSource(ints = {0, 3})
  void theSmallestFileAndLineWinsAcrossFilesAndEveryRowIsCountedOnce(int buckets) throws Exception {
    write("date=2024-01-02/b.csv", "e1", "e2", "e2", "bad", "e4");
    write("date=2024-01-01/a.csv", "e3", "e1");
    write("date=2024-01-01/c.csv", "e4", "e3", "e5");
    int root = dir.toString().length() + 1; // lambdas below must not capture the test
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    Pipeline p = Pipeline.create(o);
    ReadDeduplicatedCsv.Result out =
        p.apply(new MatchInputFiles(dir.toString(), "**/*.csv"))
            .apply(new ReadDeduplicatedCsv(DEF).inBuckets(buckets));
    PAssert.that(
            out.unique()
                .apply(
                    "Describe",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            r ->
                                r.getString(DatasetDefinition.SOURCE_FILE).substring(root)
                                    + ":"
                                    + r.getInt64(DatasetDefinition.SOURCE_LINE)
                                    + ":"
                                    + r.getString("event_id"))))
        .containsInAnyOrder(
            "date=2024-01-01/a.csv:2:e3",
            "date=2024-01-01/a.csv:3:e1",
            "date=2024-01-02/b.csv:3:e2",
            "date=2024-01-01/c.csv:2:e4",
            "date=2024-01-01/c.csv:4:e5");
    PAssert.that(
            out.duplicates()
                .apply(
                    "DuplicatesPerFile",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (KV<String, Long> kv) ->
                                kv.getKey().substring(root) + "=" + kv.getValue())))
        .containsInAnyOrder("date=2024-01-02/b.csv=3", "date=2024-01-01/c.csv=1");
    PAssert.that(
            out.fileItems()
                .apply(
                    "ItemsPerFile",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (KV<String, Long> kv) ->
                                kv.getKey().substring(root) + "=" + kv.getValue())))
        .containsInAnyOrder(
            "date=2024-01-02/b.csv=5", "date=2024-01-01/a.csv=2", "date=2024-01-01/c.csv=3");
    PAssert.that(
            out.rejects()
                .apply(
                    "Rejects",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            r ->
                                r.getString("source_file").substring(root)
                                    + ":"
                                    + r.getInt64("line_number"))))
        .containsInAnyOrder("date=2024-01-02/b.csv:5");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(JobCounters.sum(result, ReadCsvFiles.class, "rows-read"), equalTo(10L));
    assertThat(JobCounters.sum(result, ReadCsvFiles.class, "files-read"), equalTo(3L));
    assertThat(JobCounters.sum(result, DeduplicateByKey.class, "rows-valid"), equalTo(5L));
    assertThat(JobCounters.sum(result, DeduplicateByKey.class, "rows-duplicate"), equalTo(4L));
    assertThat(JobCounters.sum(result, ParseAndValidate.class, "rows-rejected"), equalTo(1L));
  }
}
