package dev.landfall.io.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.InstantCoder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MetadataCoderV2;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.Watch;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The unbounded discovery of watch mode: lists {@code filePatterns} every {@code pollInterval} and
 * emits each file once it is <em>stable</em>, i.e. its modification time is at least one poll
 * interval old (a file still being written keeps moving its modification time, so it is taken
 * only after a whole poll without a write). Names starting with {@code .} or {@code _} (temporary
 * and marker files) are never taken. A file whose size or modification time changes later is
 * emitted again (the ledger decides what that means). With {@code stopAfterIdle} the watch ends
 * after that long without a new file (counted from the start while none has come), which ends the
 * pipeline. All patterns are listed in one poll, so they share one idle clock.
 */
public class WatchForStableFiles extends PTransform<PBegin, PCollection<MatchResult.Metadata>> {
  private final List<String> filePatterns;
  private final Duration pollInterval;
  private final Duration stopAfterIdle;

  /** @param stopAfterIdle null: watch forever */
  public WatchForStableFiles(List<String> filePatterns, Duration pollInterval,
      Duration stopAfterIdle) {
    this.filePatterns = filePatterns;
    this.pollInterval = pollInterval;
    this.stopAfterIdle = stopAfterIdle;
  }

  @Override
  public PCollection<MatchResult.Metadata> expand(PBegin begin) {
    Watch.Growth<String, MatchResult.Metadata, MatchResult.Metadata> watch =
        Watch.growthOf(new StableFilesFn(filePatterns, pollInterval.getMillis()))
            .withPollInterval(pollInterval)
            .withOutputCoder(MetadataCoderV2.of());
    watch = watch.withTerminationPerInput(stopAfterIdle == null
        ? Watch.Growth.never()
        : new IdleSinceStartOrNewOutput(stopAfterIdle));
    return begin
        .apply("FilePatterns", Create.of(String.join(" + ", filePatterns)))
        .apply("PollForStableFiles", watch)
        .apply("Files", Values.create());
  }

  /**
   * Stops polling once nothing new has come for {@code idle}, counting from the start of the watch
   * until the first file arrives. Beam's {@code afterTimeSinceNewOutput} never stops a watch that
   * has seen no file at all, which would keep an empty or absent input waiting forever.
   */
  static class IdleSinceStartOrNewOutput
      implements Watch.Growth.TerminationCondition<String, Instant> {
    private final Duration idle;

    IdleSinceStartOrNewOutput(Duration idle) {
      this.idle = idle;
    }

    @Override
    public Coder<Instant> getStateCoder() {
      return InstantCoder.of();
    }

    @Override
    public Instant forNewInput(Instant now, String input) {
      return now;
    }

    @Override
    public Instant onSeenNewOutput(Instant now, Instant lastNewOutput) {
      return now;
    }

    @Override
    public boolean canStopPolling(Instant now, Instant lastNewOutput) {
      return new Duration(lastNewOutput, now).isLongerThan(idle);
    }

    @Override
    public String toString(Instant lastNewOutput) {
      return "IdleSinceStartOrNewOutput{idle=" + idle + ", lastNewOutput=" + lastNewOutput + "}";
    }
  }

  static class StableFilesFn extends Watch.Growth.PollFn<String, MatchResult.Metadata> {
    private final List<String> patterns;
    private final long minAgeMillis;

    StableFilesFn(List<String> patterns, long minAgeMillis) {
      this.patterns = patterns;
      this.minAgeMillis = minAgeMillis;
    }

    @Override
    public Watch.Growth.PollResult<MatchResult.Metadata> apply(String label, Context c)
        throws IOException {
      Instant now = Instant.now();
      List<MatchResult.Metadata> stable = new ArrayList<>();
      for (MatchResult result : FileSystems.match(patterns, EmptyMatchTreatment.ALLOW)) {
        addStable(result.metadata(), now, stable);
      }
      return Watch.Growth.PollResult.incomplete(now, stable);
    }

    private void addStable(List<MatchResult.Metadata> matched, Instant now,
        List<MatchResult.Metadata> stable) {
      for (MatchResult.Metadata m : matched) {
        String name = m.resourceId().getFilename();
        if (name == null || name.startsWith(".") || name.startsWith("_")) {
          continue;
        }
        long modified = m.lastModifiedMillis();
        if (modified > 0 && now.getMillis() - modified < minAgeMillis) {
          continue; // still being written, or just landed: next poll
        }
        stable.add(m);
      }
    }
  }
}
