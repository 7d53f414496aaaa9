package dev.landfall.io.files;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unbounded discovery of watch mode: lists {@code filePatterns} every {@code pollInterval} and
 * emits each file once it is <em>stable</em>, i.e. its modification time is at least one poll
 * interval old (a file still being written keeps moving its modification time, so it is taken only
 * after a whole poll without a write). Names starting with {@code .} or {@code _} (temporary and
 * marker files) are never taken. A file whose size or modification time changes later is emitted
 * again (the ledger decides what that means). With {@code stopAfterIdle} the watch ends once it has
 * been idle that long, which ends the pipeline: no new file, and (given a {@link FilesInFlight}) no
 * file still being processed, for that long. The idle clock starts at the start of the watch, and
 * is reset by every new file and by every file that finishes. All patterns are listed in one poll,
 * so they share one idle clock.
 *
 * <p>The watch's state (in Flink, in every checkpoint) is the files it has emitted that the {@link
 * FinishedFiles} record has not yet reported finished ({@link PollFilesFn}), so it is bounded by
 * the files in flight, not by every file ever seen as Beam's {@code Watch} is. Without a record of
 * finished files (no ledger), it keeps every file emitted, as Beam's {@code Watch}.
 */
public class WatchForStableFiles extends PTransform<PBegin, PCollection<MatchResult.Metadata>> {
  private final List<String> filePatterns;
  private final Duration pollInterval;
  private final Duration stopAfterIdle;
  private final FilesInFlight inFlight;
  private final FinishedFiles finished;

  /**
   * What the watch knows of the files it has handed on: whether any of them is still being
   * processed, and since when they all are finished (the file ledger answers this).
   */
  @FunctionalInterface
  public interface FilesInFlight extends Serializable {
    /**
     * For the files taken since {@code since}: zero while any of them is still being processed,
     * else how long ago the last of them finished; null when none has been taken.
     */
    java.time.Duration quietFor(java.time.Instant since) throws Exception;
  }

  /**
   * The record of the files finished (the file ledger): a listed file that is finished and
   * unchanged is not handed on at all, so a poll over many done files costs a listing and a
   * look-up; and a file handed on leaves the watch's state once it is finished.
   */
  @FunctionalInterface
  public interface FinishedFiles extends Serializable {
    /**
     * The files finished since {@code since} (a value this method returned, or null: all), as
     * {@link #key}s, and the next {@code since} to ask with.
     */
    KV<java.time.Instant, List<Long>> finishedSince(java.time.Instant since) throws Exception;

    /** A file's identity as listed: its path, size and modification time (milliseconds). */
    static long key(String path, long size, long modifiedMillis) {
      long h = 1125899906842597L;
      for (int i = 0; i < path.length(); i++) {
        h = 31 * h + path.charAt(i);
      }
      h = 31 * h + size;
      h = 31 * h + modifiedMillis;
      return h ^ (h >>> 29) * 0x9E3779B97F4A7C15L;
    }
  }

  /**
   * @param stopAfterIdle null: watch forever
   * @param inFlight null: idle counts from the last new file only
   */
  public WatchForStableFiles(
      List<String> filePatterns,
      Duration pollInterval,
      Duration stopAfterIdle,
      FilesInFlight inFlight) {
    this(filePatterns, pollInterval, stopAfterIdle, inFlight, null);
  }

  private WatchForStableFiles(
      List<String> filePatterns,
      Duration pollInterval,
      Duration stopAfterIdle,
      FilesInFlight inFlight,
      FinishedFiles finished) {
    this.filePatterns = filePatterns;
    this.pollInterval = pollInterval;
    this.stopAfterIdle = stopAfterIdle;
    this.inFlight = inFlight;
    this.finished = finished;
  }

  /** Leaves out of every poll the files {@code finished} holds, unchanged. */
  public WatchForStableFiles skippingFinished(FinishedFiles finished) {
    return new WatchForStableFiles(filePatterns, pollInterval, stopAfterIdle, inFlight, finished);
  }

  @Override
  public PCollection<MatchResult.Metadata> expand(PBegin begin) {
    StableFilesFn poll =
        new StableFilesFn(
            filePatterns, pollInterval.getMillis(), finished, begin.getPipeline().getOptions());
    return begin
        .apply("FilePatterns", Create.of(String.join(" + ", filePatterns)))
        .apply(
            "PollForStableFiles",
            ParDo.of(
                new PollFilesFn(
                    poll,
                    pollInterval,
                    stopAfterIdle == null ? null : new Idle(stopAfterIdle, inFlight))))
        .setCoder(FileMetadataCoder.of())
        // Hands the files to the next steps through a shuffle, as Beam's Watch did (its
        // PollResultSplit is a keyed step). Chained to the poll, the next steps never finished a
        // bundle on Flink once the pattern's source had ended (--stopAfterIdle): the operator's
        // end runs the poll's timers in a loop until the watch stops, and no bundle timer runs.
        .apply("SpreadNewFiles", Reshuffle.viaRandomKey());
  }

  /**
   * Stops polling once the watch has been idle for {@code idle}: no new file since the later of the
   * start of the watch and the last new file, and, with a {@link FilesInFlight}, no file in flight
   * and none finished for as long. (Beam's {@code afterTimeSinceNewOutput} never stops a watch that
   * has seen no file at all, which would keep an empty input waiting forever, and knows nothing of
   * files still being processed.) It is asked with the watch's start and its last new file ({@link
   * PollFilesFn}'s state).
   */
  static class Idle implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(WatchForStableFiles.class);
    private final Duration idle;
    private final FilesInFlight inFlight;

    Idle(Duration idle, FilesInFlight inFlight) {
      this.idle = idle;
      this.inFlight = inFlight;
    }

    /**
     * Whether a watch that started at {@code started} and last found a file at {@code lastNew} may
     * stop {@code now}.
     */
    boolean canStopPolling(Instant now, Instant started, Instant lastNew) {
      if (!new Duration(lastNew, now).isLongerThan(idle)) {
        return false;
      }
      if (inFlight == null) {
        return true;
      }
      java.time.Duration quiet;
      try {
        quiet = inFlight.quietFor(java.time.Instant.ofEpochMilli(started.getMillis()));
      } catch (Exception e) {
        // Not knowing is not idle: keep watching, and ask again at the next poll.
        LOG.warn(
            "watch: cannot tell whether files are still in flight, keeping on: {}", e.getMessage());
        return false;
      }
      return quiet == null || quiet.toMillis() > idle.getMillis();
    }
  }

  /**
   * One listing of the patterns: the stable files the ledger does not hold as finished and
   * unchanged. It keeps, per worker and outside Flink's state, the keys of the finished files (a
   * cache of the ledger, filled again after a restart).
   */
  static class StableFilesFn implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(WatchForStableFiles.class);
    private static final org.apache.beam.sdk.metrics.Counter LISTINGS_FAILED =
        org.apache.beam.sdk.metrics.Metrics.counter(WatchForStableFiles.class, "listings-failed");
    private final List<String> patterns;

    /** The poll interval: how old a file must be, and how long between two listings. */
    private final long minAgeMillis;

    private final FinishedFiles finished;

    /** Where an S3 client for the {@code s3://} patterns comes from, or null (none, or Beam's). */
    private final dev.landfall.io.s3.S3Listing.ClientSource s3Source;

    private transient software.amazon.awssdk.services.s3.S3Client s3;

    /** Whether, and when ({@link System#nanoTime}), this instance last listed the patterns. */
    private transient boolean listed;

    private transient long lastListingNanos;

    /** The finished files' keys seen so far, and where to ask on from (null: from the start). */
    private transient java.util.Set<Long> finishedKeys;

    private transient java.time.Instant finishedSince;

    StableFilesFn(List<String> patterns, long minAgeMillis) {
      this(patterns, minAgeMillis, null, null);
    }

    StableFilesFn(
        List<String> patterns,
        long minAgeMillis,
        FinishedFiles finished,
        org.apache.beam.sdk.options.PipelineOptions options) {
      this.patterns = patterns;
      this.minAgeMillis = minAgeMillis;
      this.finished = finished;
      this.s3Source =
          options == null || patterns.stream().noneMatch(dev.landfall.io.s3.S3Listing::handles)
              ? null
              : new dev.landfall.io.s3.S3Listing.ClientSource(options);
    }

    /** The S3 client of the job's options for {@code s3://} patterns; null: Beam's listing. */
    private software.amazon.awssdk.services.s3.S3Client s3() {
      if (s3 == null && s3Source != null) {
        s3 = s3Source.create();
      }
      return s3;
    }

    /** Adds the files finished since the last call to {@link #finishedKeys}; false: unknown. */
    private boolean refreshFinished() {
      if (finished == null) {
        return false;
      }
      try {
        KV<java.time.Instant, List<Long>> since = finished.finishedSince(finishedSince);
        if (finishedKeys == null) {
          finishedKeys = new java.util.HashSet<>();
        }
        finishedKeys.addAll(since.getValue());
        finishedSince = since.getKey();
        return true;
      } catch (Exception e) {
        // Not knowing is not finished: hand every file on (the ledger's claim decides).
        LOG.warn("watch: cannot read the finished files, listing them all: {}", e.getMessage());
        return false;
      }
    }

    /**
     * The files of one poll: listed, stable, and not finished as far as the ledger has said; an
     * empty list when the listing failed through its retries.
     */
    List<MatchResult.Metadata> poll() throws IOException {
      // The poll asks to be called again after the poll interval. The DirectRunner does so; the
      // FlinkRunner (Beam 2.62, Flink 1.19) calls again at once once the patterns' source has
      // ended (with --stopAfterIdle: the operator's end runs its pending timers in a loop), and
      // an idle watch listed the folder about 10,000 times a second. Waiting out the rest of the
      // interval here keeps one listing per interval on every runner (the wait is interrupted
      // when the job is cancelled).
      // On the monotonic clock, to the nanosecond: the wall clock can jump, and its milliseconds
      // let two listings come up to a millisecond less than an interval apart.
      long wait =
          lastListingNanos + TimeUnit.MILLISECONDS.toNanos(minAgeMillis) - System.nanoTime();
      if (listed && wait > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("watch cancelled while waiting to poll");
        }
      }
      listed = true;
      lastListingNanos = System.nanoTime();
      Instant now = Instant.now();
      List<MatchResult.Metadata> stable = new ArrayList<>();
      // The keys known so far serve even when this refresh fails.
      boolean skipFinished = refreshFinished() || finishedKeys != null;
      long skipped = 0;
      List<List<MatchResult.Metadata>> lists;
      try {
        lists = list();
      } catch (IOException e) {
        // The listing failed through its retries (an outage, not a blip): this poll finds
        // nothing new, the next one lists again; the watch goes on.
        LISTINGS_FAILED.inc();
        LOG.warn("watch: {}; trying again at the next poll", e.getMessage());
        return stable;
      }
      for (List<MatchResult.Metadata> matched : lists) {
        skipped += addStable(matched, now, stable, skipFinished);
      }
      LOG.debug("watch: {} finished files left out of this poll", skipped);
      return stable;
    }

    /** Whether the ledger has said that the file listed as {@code key} is finished. */
    boolean isFinished(long key) {
      return finishedKeys != null && finishedKeys.contains(key);
    }

    /**
     * The files of each pattern: absolute local globs through {@link LocalListing} (one stat per
     * file), others (S3, relative paths) through Beam's file systems.
     */
    private List<List<MatchResult.Metadata>> list() throws IOException {
      List<List<MatchResult.Metadata>> lists = new ArrayList<>();
      List<String> others = new ArrayList<>();
      for (String p : patterns) {
        if (LocalListing.handles(p)) {
          lists.add(LocalListing.match(p));
        } else {
          others.add(p);
        }
      }
      if (!others.isEmpty()) {
        lists.addAll(Listings.match(others, s3()));
      }
      return lists;
    }

    /** Adds the stable files of {@code matched}; returns how many finished ones it left out. */
    private long addStable(
        List<MatchResult.Metadata> matched,
        Instant now,
        List<MatchResult.Metadata> stable,
        boolean skipFinished) {
      long skipped = 0;
      for (MatchResult.Metadata m : matched) {
        String name = m.resourceId().getFilename();
        if (name == null || name.startsWith(".") || name.startsWith("_")) {
          continue;
        }
        if (skipFinished
            && finishedKeys.contains(
                FinishedFiles.key(
                    m.resourceId().toString(), m.sizeBytes(), m.lastModifiedMillis()))) {
          skipped++;
          continue; // finished and unchanged: nothing for the watch to do
        }
        long modified = m.lastModifiedMillis();
        if (modified > 0 && now.getMillis() - modified < minAgeMillis) {
          continue; // still being written, or just landed: next poll
        }
        stable.add(m);
      }
      return skipped;
    }
  }
}
