package dev.landfall.pipeline;

import dev.landfall.pipeline.options.FlinkRunnerSettings;
import dev.landfall.pipeline.options.LandfallOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * landfall's defaults for the FlinkRunner. A watch run is meant to run for weeks, so unless {@code
 * --checkpointingInterval} is given it checkpoints every {@value #WATCH_CHECKPOINT_MILLIS} ms,
 * exactly once ({@code --checkpointingInterval=0} turns checkpointing off). With {@code
 * --stopAfterIdle} the (finished) impulse source is let go at once, so that the job can end when
 * the watch does: Flink 1.19 goes on checkpointing the other tasks.
 *
 * <p>Checkpointed watch runs also finish each bundle before a checkpoint ({@code
 * --finishBundleBeforeCheckpointing}). Beam's default keeps what a bundle emits during a checkpoint
 * in a buffer until the operator next gets input; in an idle watch job that strands the last counts
 * of a file, and the file is never marked done until another file arrives.
 *
 * <p>A backfill on Flink reuses objects ({@code --objectReuse=true}) unless the command line says
 * otherwise. Flink's batch (DataSet) runtime then hands an element from one chained step to the
 * next without copying it; Beam's elements are immutable, and Beam's serializer makes a new object
 * on every read whether or not Flink offers one to reuse. At 1M rows it saved about 10% of the CPU
 * time on average (docs/performance.md, "What changed today"). A watch run keeps Flink's default
 * (off).
 */
public final class FlinkDefaults {
  private static final Logger LOG = LoggerFactory.getLogger(FlinkDefaults.class);

  /** Checkpoint interval of a watch run on Flink when none is given. */
  public static final long WATCH_CHECKPOINT_MILLIS = 60_000;

  private FlinkDefaults() {}

  /** True when {@code --runner} names the FlinkRunner. */
  public static boolean isFlink(LandfallOptions options) {
    return options.getRunner() != null && options.getRunner().getSimpleName().equals("FlinkRunner");
  }

  /** True for a FlinkRunner run submitted with {@code --attachedMode=false}. */
  public static boolean isDetached(LandfallOptions options) {
    return isFlink(options) && !options.as(FlinkRunnerSettings.class).getAttachedMode();
  }

  /**
   * Turns on object reuse for a backfill on Flink when {@code args} (the command line the options
   * came from) does not set {@code --objectReuse}; does nothing on other runners or for a watch.
   */
  public static void reuseObjectsInBackfill(LandfallOptions options, String... args) {
    if (!isFlink(options) || options.getWatch()) {
      return;
    }
    for (String a : args) {
      if (a.equals("--objectReuse") || a.startsWith("--objectReuse=")) {
        return;
      }
    }
    options.as(FlinkRunnerSettings.class).setObjectReuse(true);
  }

  /** Fills in the checkpointing defaults; does nothing on other runners or for a backfill. */
  public static void apply(LandfallOptions options) {
    if (!isFlink(options) || !options.getWatch()) {
      return;
    }
    FlinkRunnerSettings flink = options.as(FlinkRunnerSettings.class);
    long interval =
        flink.getCheckpointingInterval() == null ? -1 : flink.getCheckpointingInterval();
    if (interval == 0) {
      flink.setCheckpointingInterval(-1L);
      LOG.warn(
          "--checkpointingInterval=0: checkpointing is off; a failure or restart of this"
              + " watch job starts it again from the ledger, and it cannot be stopped with a savepoint");
      return;
    }
    if (interval < 0) {
      flink.setCheckpointingInterval(WATCH_CHECKPOINT_MILLIS);
      interval = WATCH_CHECKPOINT_MILLIS;
    }
    flink.setFinishBundleBeforeCheckpointing(true);
    if (!options.getStopAfterIdle().isEmpty()
        && (flink.getShutdownSourcesAfterIdleMs() == null
            || flink.getShutdownSourcesAfterIdleMs() < 0)) {
      flink.setShutdownSourcesAfterIdleMs(0L);
    }
    LOG.info("watch on Flink: checkpoint every {} ms ({})", interval, flink.getCheckpointingMode());
  }
}
