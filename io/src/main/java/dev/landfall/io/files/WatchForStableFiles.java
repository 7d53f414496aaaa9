package dev.landfall.io.files;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
 * The unbounded discovery of watch mode: lists {@code filePattern} every {@code pollInterval} and
 * emits each file once it is <em>stable</em>, i.e. its modification time is at least one poll
 * interval old (a file still being written keeps moving its modification time, so it is taken
 * only after a whole poll without a write). Names starting with {@code .} or {@code _} (temporary
 * and marker files) are never taken. A file whose size or modification time changes later is
 * emitted again (the ledger decides what that means). With {@code stopAfterIdle} the watch ends
 * after that long without a new file, which ends the pipeline.
 */
public class WatchForStableFiles extends PTransform<PBegin, PCollection<MatchResult.Metadata>> {
  private final String filePattern;
  private final Duration pollInterval;
  private final Duration stopAfterIdle;

  /** @param stopAfterIdle null: watch forever */
  public WatchForStableFiles(String filePattern, Duration pollInterval, Duration stopAfterIdle) {
    this.filePattern = filePattern;
    this.pollInterval = pollInterval;
    this.stopAfterIdle = stopAfterIdle;
  }

  @Override
  public PCollection<MatchResult.Metadata> expand(PBegin begin) {
    Watch.Growth<String, MatchResult.Metadata, MatchResult.Metadata> watch =
        Watch.growthOf(new StableFilesFn(pollInterval.getMillis()))
            .withPollInterval(pollInterval)
            .withOutputCoder(MetadataCoderV2.of());
    watch = watch.withTerminationPerInput(stopAfterIdle == null
        ? Watch.Growth.never()
        : Watch.Growth.afterTimeSinceNewOutput(stopAfterIdle));
    return begin
        .apply("FilePattern", Create.of(filePattern))
        .apply("PollForStableFiles", watch)
        .apply("Files", Values.create());
  }

  static class StableFilesFn extends Watch.Growth.PollFn<String, MatchResult.Metadata> {
    private final long minAgeMillis;

    StableFilesFn(long minAgeMillis) {
      this.minAgeMillis = minAgeMillis;
    }

    @Override
    public Watch.Growth.PollResult<MatchResult.Metadata> apply(String pattern, Context c)
        throws IOException {
      Instant now = Instant.now();
      List<MatchResult.Metadata> stable = new ArrayList<>();
      for (MatchResult.Metadata m :
          FileSystems.match(pattern, EmptyMatchTreatment.ALLOW).metadata()) {
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
      return Watch.Growth.PollResult.incomplete(now, stable);
    }
  }
}
