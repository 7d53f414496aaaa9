package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph's stages one by one on the DirectRunner, without a database (Parquet output only): each
 * stage is built from a plan on a pipeline of its own and checked with {@link PAssert}.
 */
class LandfallGraphTest {
  @TempDir Path dir;
  private BillingSampleGenerator.Expected expected;
  private LandfallOptions options;
  private RunPlan plan;

  @BeforeEach
  void sample() throws Exception {
    expected = BillingSampleGenerator.standard(3_000, 7).writeTo(dir.resolve("in"));
    options =
        LandfallPipeline.options(
            "--input=" + dir.resolve("in"),
            "--workDir=" + dir.resolve("work"),
            "--output=" + dir.resolve("out"),
            "--sinks=parquet");
    plan = RunPlan.from(options);
  }

  @Test
  void discoverFindsEveryInputFile() {
    Pipeline p = Pipeline.create(options);
    PCollection<FileIO.ReadableFile> files = LandfallGraph.discover(p, plan, Optional.empty());
    PAssert.thatSingleton(files.apply(Count.globally())).isEqualTo(expected.files);
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));
  }

  @Test
  void readKeepsOneRowPerKeyAndAccountsForEveryRecord() {
    Pipeline p = Pipeline.create(options);
    LandfallGraph.CleanRows read =
        LandfallGraph.read(LandfallGraph.discover(p, plan, Optional.empty()), plan);
    PAssert.thatSingleton(read.unique.apply("CountUnique", Count.globally()))
        .isEqualTo(expected.valid);
    PAssert.thatSingleton(read.rejects.apply("CountRejects", Count.globally()))
        .isEqualTo(expected.rejected);
    PAssert.thatSingleton(read.fileItems.apply(Values.create()).apply(Sum.longsGlobally()))
        .isEqualTo(expected.valid + expected.duplicate + expected.rejected);
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));
  }

  @Test
  void completeWithoutADatabaseLeavesTheRowsAsTheyAre() {
    Pipeline p = Pipeline.create(options);
    PCollection<Row> unique =
        LandfallGraph.read(LandfallGraph.discover(p, plan, Optional.empty()), plan).unique;
    PCollection<Row> completed = LandfallGraph.complete(unique, plan, RunResources.parquetOnly());
    PAssert.thatSingleton(completed.apply(Count.globally())).isEqualTo(expected.valid);
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));
  }

  @Test
  void writeGivesParquetFilesSizedByDataNotOnePerInputFile() throws Exception {
    Pipeline p = Pipeline.create(options);
    LandfallGraph.build(p, plan, RunResources.parquetOnly());
    assertThat(p.run().waitUntilFinish(), equalTo(PipelineResult.State.DONE));
    // 7 days of 2 small input files each. The DirectRunner closes a file per bundle (here one
    // input file); a folder is merged once it holds more than ceil(bytes / target) + 2 files.
    try (Stream<Path> files = Files.walk(dir.resolve("out"))) {
      Map<Path, Long> perFolder =
          files
              .filter(f -> f.toString().endsWith(".parquet"))
              .collect(Collectors.groupingBy(Path::getParent, Collectors.counting()));
      assertThat(perFolder.size(), equalTo(7));
      assertThat(perFolder.values(), everyItem(lessThanOrEqualTo(3L)));
    }
  }
}
