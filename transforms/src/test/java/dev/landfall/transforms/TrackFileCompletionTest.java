package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.transforms.metrics.JobCounters;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Per-file completion on an unbounded input (TestStream): a file completes exactly once, when the
 * items accounted for reach the items its reader produced, whatever order the reports arrive in;
 * and the state of completed files is cleared, however many files pass through.
 */
class TrackFileCompletionTest {
  @Test
  void eachFileCompletesOnceWhenAllItsItemsAreAccountedFor() {
    Pipeline p = TestPipelines.direct();
    TestStream<KV<String, Long>> expected =
        TestStream.create(TrackFileCompletion.countCoder())
            .addElements(KV.of("a.csv", 5L), KV.of("empty.csv", 0L))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .addElements(KV.of("b.csv", 3L))
            .advanceWatermarkToInfinity();
    TestStream<KV<String, Long>> accounted =
        TestStream.create(TrackFileCompletion.countCoder())
            // b reports before its reader's total arrives; a in three parts.
            .addElements(KV.of("b.csv", 2L), KV.of("a.csv", 2L))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .addElements(KV.of("a.csv", 1L), KV.of("b.csv", 1L))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .addElements(KV.of("a.csv", 2L), KV.of("c.csv", 1L))
            .advanceWatermarkToInfinity();
    PCollection<KV<String, Long>> done =
        PCollectionTuple.of(TrackFileCompletion.EXPECTED, p.apply("Expected", expected))
            .and(TrackFileCompletion.ACCOUNTED, p.apply("Accounted", accounted))
            .apply(new TrackFileCompletion());
    // c.csv never had its total reported: it is still in flight, never completed.
    PAssert.that(done)
        .containsInAnyOrder(KV.of("a.csv", 5L), KV.of("b.csv", 3L), KV.of("empty.csv", 0L));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, "files-completed"), equalTo(3L));
    assertThat(counter(result, "files-in-flight"), equalTo(1L));
  }

  @Test
  void stateOfCompletedFilesIsClearedHoweverManyFilesPass() {
    for (int files : new int[] {10, 1000}) {
      Pipeline p = TestPipelines.direct();
      java.util.List<KV<String, Long>> totals = new java.util.ArrayList<>();
      java.util.List<KV<String, Long>> parts = new java.util.ArrayList<>();
      for (int i = 0; i < files; i++) {
        totals.add(KV.of("f" + i, 4L));
        parts.add(KV.of("f" + i, 1L));
        parts.add(KV.of("f" + i, 3L));
      }
      PCollectionTuple.of(
              TrackFileCompletion.EXPECTED,
              p.apply("Totals", Create.of(totals).withCoder(TrackFileCompletion.countCoder())))
          .and(
              TrackFileCompletion.ACCOUNTED,
              p.apply("Parts", Create.of(parts).withCoder(TrackFileCompletion.countCoder())))
          .apply(new TrackFileCompletion());
      PipelineResult result = p.run();
      result.waitUntilFinish();
      assertThat(counter(result, "files-completed"), equalTo((long) files));
      assertThat(
          "state entries left after " + files + " files",
          counter(result, "files-in-flight"),
          equalTo(0L));
    }
  }

  private static long counter(PipelineResult result, String name) {
    return JobCounters.sum(result, TrackFileCompletion.class, name);
  }
}
