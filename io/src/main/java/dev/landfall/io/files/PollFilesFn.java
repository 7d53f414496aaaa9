package dev.landfall.io.files;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongPredicate;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.splittabledofn.ManualWatermarkEstimator;
import org.apache.beam.sdk.transforms.splittabledofn.RestrictionTracker;
import org.apache.beam.sdk.transforms.splittabledofn.SplitResult;
import org.apache.beam.sdk.transforms.splittabledofn.WatermarkEstimators;
import org.apache.beam.sdk.util.VarInt;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The polling of {@link WatchForStableFiles}: a splittable {@code DoFn} that lists the patterns
 * every poll interval and emits each stable file it has not emitted yet, until the watch is idle.
 *
 * <p>Its restriction ({@link PollState}) is the watch's state, which Flink keeps in every
 * checkpoint and savepoint: when the watch started, when it last found a new file, and the keys
 * ({@link WatchForStableFiles.FinishedFiles#key}: path, size, modification time) of the files it
 * has emitted and the ledger has not yet reported finished. A key leaves the state when the ledger
 * reports its file finished, so the state holds the files in flight (and the few the ledger left
 * {@code changed} or rejected as a whole during the run), not every file ever seen. Beam's {@code
 * Watch}, which this replaces, keeps a hash of every output for as long as the watch runs.
 *
 * <p>Why the state is needed at all, when the ledger records every file: the ledger's claim reads a
 * {@code processing} file again (that is how a restarted run finishes what an earlier one left), so
 * a poll must not hand on a file that is still in flight. After a failover Flink restores the state
 * of the last checkpoint, and a file emitted after it is not in that state: the next poll emits it
 * again and its claim reads it again, with idempotent writes, as before.
 */
@DoFn.UnboundedPerElement
final class PollFilesFn extends DoFn<String, MatchResult.Metadata> {
  private static final Logger LOG = LoggerFactory.getLogger(WatchForStableFiles.class);

  /** Files in the watch's state after the latest poll. */
  private static final Gauge STATE_FILES =
      Metrics.gauge(WatchForStableFiles.class, "watch-state-files");

  private final WatchForStableFiles.StableFilesFn poll;
  private final Duration pollInterval;

  /** When to stop; null: never. */
  private final WatchForStableFiles.Idle idle;

  PollFilesFn(
      WatchForStableFiles.StableFilesFn poll,
      Duration pollInterval,
      WatchForStableFiles.Idle idle) {
    this.poll = poll;
    this.pollInterval = pollInterval;
    this.idle = idle;
  }

  @GetInitialRestriction
  public PollState initialRestriction() {
    Instant now = Instant.now();
    return PollState.polling(now, now, new long[0]);
  }

  @NewTracker
  public PollTracker newTracker(@Restriction PollState state) {
    return new PollTracker(state);
  }

  @GetRestrictionCoder
  public Coder<PollState> restrictionCoder() {
    return PollStateCoder.INSTANCE;
  }

  @GetInitialWatermarkEstimatorState
  public Instant initialWatermarkState(@Timestamp Instant timestamp) {
    return timestamp;
  }

  @NewWatermarkEstimator
  public WatermarkEstimators.Manual newWatermarkEstimator(@WatermarkEstimatorState Instant state) {
    return new WatermarkEstimators.Manual(state);
  }

  @ProcessElement
  public ProcessContinuation process(
      RestrictionTracker<PollState, Poll> tracker,
      ManualWatermarkEstimator<Instant> watermark,
      OutputReceiver<MatchResult.Metadata> out)
      throws IOException {
    PollState state = tracker.currentRestriction();
    if (state.emitted != null) {
      // What a poll emitted before a checkpoint split it off: emitted again only if a runner
      // runs this part once more (Flink does not; its failover restores a checkpoint instead).
      if (tracker.tryClaim(new Poll(state.emitted, null))) {
        Instant now = Instant.now();
        for (MatchResult.Metadata m : state.emitted) {
          out.outputWithTimestamp(m, now);
        }
      }
      return ProcessContinuation.stop();
    }
    List<MatchResult.Metadata> listed = poll.poll();
    Poll next = next(state, listed, poll::isFinished, Instant.now());
    if (!tracker.tryClaim(next)) {
      return ProcessContinuation.stop(); // checkpointed meanwhile: the rest polls again
    }
    STATE_FILES.set(next.state.inFlight.length);
    if (!next.files.isEmpty()) {
      LOG.debug(
          "watch: {} new files, {} in the watch's state",
          next.files.size(),
          next.state.inFlight.length);
    }
    Instant now = Instant.now();
    for (MatchResult.Metadata m : next.files) {
      out.outputWithTimestamp(m, now);
    }
    watermark.setWatermark(now);
    if (idle != null
        && idle.canStopPolling(Instant.now(), next.state.started, next.state.lastNew)) {
      LOG.info(
          "watch: idle, stopping (started {}, last new file {})",
          next.state.started,
          next.state.lastNew);
      return ProcessContinuation.stop();
    }
    return ProcessContinuation.resume().withResumeDelay(pollInterval);
  }

  /**
   * One poll's outcome: the files of {@code listed} that {@code state} has not emitted (and that
   * are not finished), and the next state: the emitted files the ledger has not reported finished,
   * plus the new ones.
   */
  static Poll next(
      PollState state, List<MatchResult.Metadata> listed, LongPredicate finished, Instant now) {
    List<MatchResult.Metadata> fresh = new ArrayList<>();
    Set<Long> freshKeys = new LinkedHashSet<>();
    for (MatchResult.Metadata m : listed) {
      long key = key(m);
      if (Arrays.binarySearch(state.inFlight, key) >= 0
          || finished.test(key)
          || !freshKeys.add(key)) {
        continue;
      }
      fresh.add(m);
    }
    long[] kept = Arrays.stream(state.inFlight).filter(k -> !finished.test(k)).toArray();
    long[] inFlight = Arrays.copyOf(kept, kept.length + freshKeys.size());
    int i = kept.length;
    for (long k : freshKeys) {
      inFlight[i++] = k;
    }
    Arrays.sort(inFlight);
    return new Poll(
        fresh, PollState.polling(state.started, fresh.isEmpty() ? state.lastNew : now, inFlight));
  }

  /** A listed file's key, as the ledger's finished files are reported. */
  static long key(MatchResult.Metadata m) {
    return WatchForStableFiles.FinishedFiles.key(
        m.resourceId().toString(), m.sizeBytes(), m.lastModifiedMillis());
  }

  /**
   * The watch's state: polling (when it started, when it last found a new file, the keys of the
   * files emitted and not reported finished, sorted), or the files one poll emitted ({@code
   * emitted} not null: the part a checkpoint split off, done once its files are out).
   */
  static final class PollState implements Serializable {
    private static final long serialVersionUID = 1L;
    static final PollState DONE = emitted(List.of());

    final Instant started;
    final Instant lastNew;
    final long[] inFlight;
    final List<MatchResult.Metadata> emitted;

    private PollState(
        Instant started, Instant lastNew, long[] inFlight, List<MatchResult.Metadata> emitted) {
      this.started = started;
      this.lastNew = lastNew;
      this.inFlight = inFlight;
      this.emitted = emitted;
    }

    static PollState polling(Instant started, Instant lastNew, long[] inFlight) {
      return new PollState(started, lastNew, inFlight, null);
    }

    static PollState emitted(List<MatchResult.Metadata> files) {
      return new PollState(null, null, null, List.copyOf(files));
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof PollState)) {
        return false;
      }
      PollState p = (PollState) o;
      return java.util.Objects.equals(started, p.started)
          && java.util.Objects.equals(lastNew, p.lastNew)
          && Arrays.equals(inFlight, p.inFlight)
          && java.util.Objects.equals(emitted, p.emitted);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(started, lastNew, Arrays.hashCode(inFlight), emitted);
    }

    @Override
    public String toString() {
      return emitted != null
          ? "PollState{emitted " + emitted.size() + " files}"
          : "PollState{started="
              + started
              + ", lastNew="
              + lastNew
              + ", inFlight="
              + inFlight.length
              + " files}";
    }
  }

  /** What one call claims: the files it emits, and the state after them (null: none, done). */
  static final class Poll {
    final List<MatchResult.Metadata> files;
    final PollState state;

    Poll(List<MatchResult.Metadata> files, PollState state) {
      this.files = files;
      this.state = state;
    }
  }

  /**
   * The tracker: a call claims one poll; a checkpoint after the claim splits off the files the poll
   * emitted (done) and leaves the next state to resume from; a checkpoint before it leaves the
   * whole state, and the call's claim then fails (its poll is done again). Synchronized: a runner
   * may checkpoint from another thread while the call runs.
   */
  static final class PollTracker extends RestrictionTracker<PollState, Poll> {
    private PollState state;
    private Poll claimed;
    private boolean stopped;

    PollTracker(PollState state) {
      this.state = state;
    }

    @Override
    public synchronized boolean tryClaim(Poll poll) {
      if (stopped) {
        return false;
      }
      claimed = poll;
      stopped = true;
      return true;
    }

    @Override
    public synchronized PollState currentRestriction() {
      return state;
    }

    @Override
    public synchronized SplitResult<PollState> trySplit(double fractionOfRemainder) {
      PollState residual;
      if (claimed == null) {
        residual = state;
        state = PollState.DONE;
      } else if (claimed.state == null) {
        return null; // the emitted files of an earlier poll, claimed: nothing is left
      } else {
        residual = claimed.state;
        state = PollState.emitted(claimed.files);
      }
      stopped = true;
      return SplitResult.of(state, residual);
    }

    @Override
    public synchronized void checkDone() throws IllegalStateException {
      if (!stopped) {
        throw new IllegalStateException(
            "a poll ended without claiming its result or being checkpointed");
      }
    }

    @Override
    public synchronized IsBounded isBounded() {
      return state.emitted != null ? IsBounded.BOUNDED : IsBounded.UNBOUNDED;
    }

    @Override
    public synchronized String toString() {
      return "PollTracker{" + state + (stopped ? ", stopped" : "") + "}";
    }
  }

  /** Encodes the watch's state: it is in every checkpoint and savepoint of a watch. */
  static final class PollStateCoder extends AtomicCoder<PollState> {
    private static final long serialVersionUID = 1L;
    static final PollStateCoder INSTANCE = new PollStateCoder();
    private static final int POLLING = 0;
    private static final int EMITTED = 1;

    @Override
    public void encode(PollState s, OutputStream out) throws IOException {
      DataOutputStream data = new DataOutputStream(out);
      if (s.emitted != null) {
        data.writeByte(EMITTED);
        VarInt.encode(s.emitted.size(), data);
        for (MatchResult.Metadata m : s.emitted) {
          FileMetadataCoder.of().encode(m, data);
        }
      } else {
        data.writeByte(POLLING);
        data.writeLong(s.started.getMillis());
        data.writeLong(s.lastNew.getMillis());
        VarInt.encode(s.inFlight.length, data);
        for (long k : s.inFlight) {
          data.writeLong(k);
        }
      }
      data.flush();
    }

    @Override
    public PollState decode(InputStream in) throws IOException {
      DataInputStream data = new DataInputStream(in);
      int kind = data.readByte();
      if (kind == EMITTED) {
        int n = VarInt.decodeInt(data);
        List<MatchResult.Metadata> files = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          files.add(FileMetadataCoder.of().decode(data));
        }
        return PollState.emitted(files);
      }
      if (kind != POLLING) {
        throw new IOException("not a watch state (kind " + kind + ")");
      }
      Instant started = new Instant(data.readLong());
      Instant lastNew = new Instant(data.readLong());
      long[] inFlight = new long[VarInt.decodeInt(data)];
      for (int i = 0; i < inFlight.length; i++) {
        inFlight[i] = data.readLong();
      }
      return PollState.polling(started, lastNew, inFlight);
    }
  }
}
