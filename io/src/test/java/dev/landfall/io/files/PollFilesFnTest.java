package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.files.PollFilesFn.Poll;
import dev.landfall.io.files.PollFilesFn.PollState;
import dev.landfall.io.files.PollFilesFn.PollTracker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.LocalResources;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watch's state holds the files it emitted until the ledger reports them finished: each file is
 * emitted once, and the state stays bounded by the files in flight however many have landed.
 */
class PollFilesFnTest {
  private static final Instant T0 = new Instant(1_700_000_000_000L);

  @TempDir Path dir;

  private static MatchResult.Metadata file(String name, long size, long modified) {
    return MatchResult.Metadata.builder()
        .setResourceId(LocalResources.fromString("/in/date=2024-01-01/" + name, false))
        .setIsReadSeekEfficient(true)
        .setSizeBytes(size)
        .setLastModifiedMillis(modified)
        .build();
  }

  private static PollState start() {
    return PollState.polling(T0, T0, new long[0]);
  }

  @Test
  void aFileIsEmittedOnceAndLeavesTheStateWhenFinished() {
    Set<Long> finished = new HashSet<>();
    MatchResult.Metadata a = file("a.csv", 10, 1000);
    MatchResult.Metadata b = file("b.csv", 20, 1000);

    Poll first = PollFilesFn.next(start(), List.of(a, b, a), finished::contains, T0.plus(1));
    assertThat(first.files, equalTo(List.of(a, b)));
    assertThat(first.state.inFlight.length, equalTo(2));
    assertThat(first.state.lastNew, equalTo(T0.plus(1)));

    Poll second = PollFilesFn.next(first.state, List.of(a, b), finished::contains, T0.plus(2));
    assertThat("in flight: not emitted again", second.files, empty());
    assertThat(second.state.lastNew, equalTo(T0.plus(1)));

    finished.add(PollFilesFn.key(a));
    Poll third = PollFilesFn.next(second.state, List.of(b), finished::contains, T0.plus(3));
    assertThat(third.files, empty());
    assertThat(
        "a finished: out of the state",
        third.state.inFlight,
        equalTo(new long[] {PollFilesFn.key(b)}));

    // The same path written again (new size and time) is a new file to the watch.
    MatchResult.Metadata a2 = file("a.csv", 11, 2000);
    Poll fourth = PollFilesFn.next(third.state, List.of(a2, b), finished::contains, T0.plus(4));
    assertThat(fourth.files, equalTo(List.of(a2)));
  }

  @Test
  void theStateIsBoundedByTheFilesInFlightNotByTheFilesSeen() {
    // 10,000 files land, 100 per poll; each finishes two polls after it was emitted, and the
    // listing shows every file ever landed that is not finished (as the ledger-aware poll does).
    Set<Long> finished = new HashSet<>();
    List<MatchResult.Metadata> landed = new ArrayList<>();
    List<List<MatchResult.Metadata>> emittedPerPoll = new ArrayList<>();
    Set<String> emitted = new HashSet<>();
    PollState state = start();
    int largest = 0;
    for (int poll = 0; poll < 102; poll++) {
      for (int i = 0; poll < 100 && i < 100; i++) {
        landed.add(file("f-" + poll + "-" + i + ".csv", 100, 1000 + poll));
      }
      if (poll >= 2) {
        emittedPerPoll.get(poll - 2).forEach(m -> finished.add(PollFilesFn.key(m)));
      }
      List<MatchResult.Metadata> listing =
          landed.stream()
              .filter(m -> !finished.contains(PollFilesFn.key(m)))
              .collect(Collectors.toList());
      Poll next = PollFilesFn.next(state, listing, finished::contains, T0.plus(poll));
      for (MatchResult.Metadata m : next.files) {
        assertThat("emitted once: " + m, emitted.add(m.resourceId().toString()), equalTo(true));
      }
      emittedPerPoll.add(next.files);
      state = next.state;
      largest = Math.max(largest, state.inFlight.length);
    }
    assertThat(emitted.size(), equalTo(10_000));
    assertThat("at most three polls' files in flight", largest, lessThanOrEqualTo(300));
    // The last files finish: nothing is left.
    emittedPerPoll.forEach(l -> l.forEach(m -> finished.add(PollFilesFn.key(m))));
    state = PollFilesFn.next(state, List.of(), finished::contains, T0.plus(200)).state;
    assertThat(state.inFlight.length, equalTo(0));
  }

  @Test
  void aCheckpointAfterAPollKeepsItsFilesAndResumesFromTheNextState() {
    MatchResult.Metadata a = file("a.csv", 10, 1000);
    PollState next = PollState.polling(T0, T0.plus(1), new long[] {PollFilesFn.key(a)});
    PollTracker tracker = new PollTracker(start());
    assertThat(tracker.tryClaim(new Poll(List.of(a), next)), equalTo(true));
    SplitResult<PollState> split = tracker.trySplit(0);
    assertThat(split.getPrimary(), equalTo(PollState.emitted(List.of(a))));
    assertThat(split.getResidual(), equalTo(next));
    tracker.checkDone();

    // A checkpoint before the poll claimed anything: the whole state is left, the claim fails.
    PollTracker early = new PollTracker(next);
    SplitResult<PollState> all = early.trySplit(0);
    assertThat(all.getResidual(), equalTo(next));
    assertThat(early.tryClaim(new Poll(List.of(), next)), equalTo(false));
    early.checkDone();

    // The emitted part, claimed, cannot be split further.
    PollTracker replay = new PollTracker(PollState.emitted(List.of(a)));
    assertThat(replay.tryClaim(new Poll(List.of(a), null)), equalTo(true));
    assertThat(replay.trySplit(0), nullValue());

    assertThrows(IllegalStateException.class, () -> new PollTracker(next).checkDone());
  }

  @Test
  void theStateSurvivesItsCoder() throws Exception {
    MatchResult.Metadata a = file("a.csv", 10, 1000);
    for (PollState s :
        List.of(
            start(),
            PollState.polling(T0, T0.plus(5), new long[] {-7, 3, Long.MAX_VALUE}),
            PollState.emitted(List.of(a, file("b.csv", 0, 1))),
            PollState.DONE)) {
      CoderProperties.coderDecodeEncodeEqual(PollFilesFn.PollStateCoder.INSTANCE, s);
    }
  }

  /** What the pipeline below has emitted, which its "ledger" then reports finished. */
  private static final Set<Long> FINISHED = ConcurrentHashMap.newKeySet();

  /** Reports each file finished as soon as it is emitted. */
  static class FinishFn extends DoFn<MatchResult.Metadata, MatchResult.Metadata> {
    @ProcessElement
    public void process(@Element MatchResult.Metadata m, OutputReceiver<MatchResult.Metadata> out) {
      FINISHED.add(PollFilesFn.key(m));
      out.output(m);
    }
  }

  @Test
  void aWatchEmitsEachFileOnceAndEndsWithAnEmptyState() throws Exception {
    FINISHED.clear();
    for (String name : List.of("a.csv", "b.csv", "c.csv")) {
      Path f = dir.resolve("date=2024-01-01").resolve(name);
      Files.createDirectories(f.getParent());
      Files.writeString(f, "x\n");
      Files.setLastModifiedTime(
          f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    }
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    Pipeline p = Pipeline.create(o);
    PCollection<MatchResult.Metadata> files =
        p.apply(
            new WatchForStableFiles(
                    List.of(dir + "/**/*.csv"),
                    Duration.millis(200),
                    Duration.standardSeconds(2),
                    null)
                .skippingFinished(
                    since -> KV.of(java.time.Instant.now(), new ArrayList<>(FINISHED))));
    PCollection<String> names =
        files
            .apply("Finish", ParDo.of(new FinishFn()))
            .apply(
                MapElements.into(TypeDescriptors.strings()).via(m -> m.resourceId().getFilename()));
    PAssert.that(names).containsInAnyOrder("a.csv", "b.csv", "c.csv");
    PipelineResult result = p.run();
    result.waitUntilFinish();

    MetricQueryResults metrics =
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(
                        MetricNameFilter.named(WatchForStableFiles.class, "watch-state-files"))
                    .build());
    List<Long> gauges = new ArrayList<>();
    for (MetricResult<GaugeResult> g : metrics.getGauges()) {
      gauges.add(g.getAttempted().getValue());
    }
    assertThat("the state emptied once the files were finished", gauges, containsInAnyOrder(0L));
  }
}
