package dev.landfall.pipeline;

import dev.landfall.io.ledger.FileLedger;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One progress line every {@code --progressEvery} while a job runs, read from the file ledger:
 * files read of files claimed, records read, megabytes read of megabytes to read, the rate over the
 * last interval and the time left at that rate. The job's own metrics are no use here: on both
 * runners {@code pipeline.run()} returns when the job has ended. A backfill's file counts as read
 * once the reader has recorded its records in the ledger; when all are read the line says so until
 * the job ends (the sinks, then the ledger and the aggregates). A watch prints a line only when
 * something moved.
 */
final class ProgressReporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LandfallPipeline.class);

  private final FileLedger ledger;
  private final Instant since;
  private final Duration every;
  private final boolean watch;
  private final Thread thread;

  private ProgressReporter(FileLedger ledger, Instant since, Duration every, boolean watch) {
    this.ledger = ledger;
    this.since = since;
    this.every = every;
    this.watch = watch;
    this.thread = new Thread(this::run, "landfall-progress");
    this.thread.setDaemon(true);
  }

  /** Starts reporting; null (nothing to do) without a ledger or with a zero interval. */
  static ProgressReporter start(
      java.util.Optional<FileLedger> ledger, Instant since, Duration every, boolean watch) {
    if (ledger.isEmpty() || every.isZero() || every.isNegative()) {
      return null;
    }
    ProgressReporter r = new ProgressReporter(ledger.get(), since, every, watch);
    r.thread.start();
    return r;
  }

  private void run() {
    FileLedger.Progress last = null;
    long lastNanos = System.nanoTime();
    while (!Thread.currentThread().isInterrupted()) {
      try {
        Thread.sleep(every.toMillis());
      } catch (InterruptedException e) {
        return;
      }
      try {
        FileLedger.Progress now = ledger.progressSince(since);
        long nanos = System.nanoTime();
        if (!(watch && now.equals(last))) {
          LOG.info(line(last, now, (nanos - lastNanos) / 1e9, watch));
        }
        last = now;
        lastNanos = nanos;
      } catch (Exception e) {
        // The database may be restarting; the job's own retries deal with that.
        LOG.debug("progress: the ledger did not answer: {}", e.getMessage());
      }
    }
  }

  /**
   * The progress line for {@code now}, with rates over the {@code seconds} since {@code before}
   * (null: the first line, rates since the start are not known).
   */
  static String line(
      FileLedger.Progress before, FileLedger.Progress now, double seconds, boolean watch) {
    StringBuilder sb = new StringBuilder("progress: ");
    double rows =
        before == null || seconds <= 0 ? -1 : (now.records() - before.records()) / seconds;
    if (watch) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%,d files done of %,d claimed, %,d rows",
              now.filesDone(),
              now.files(),
              now.records()));
      if (rows >= 0) {
        sb.append(String.format(Locale.ROOT, ", %,.0f rows/s", rows));
      }
      return sb.toString();
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "%,d of %,d files read, %,d rows, %s of %s",
            now.filesRead(),
            now.files(),
            now.records(),
            mb(now.bytesRead()),
            mb(now.bytes())));
    if (now.bytes() > 0) {
      sb.append(String.format(Locale.ROOT, " (%d%%)", now.bytesRead() * 100 / now.bytes()));
    }
    long left = now.bytes() - now.bytesRead();
    if (now.files() > 0 && now.filesRead() == now.files() && left <= 0) {
      // The rest of the job: the sinks, then (after the job) the ledger and the aggregates.
      return sb.append(", all read; storing and closing").toString();
    }
    if (rows >= 0) {
      sb.append(String.format(Locale.ROOT, ", %,.0f rows/s", rows));
      double bytesPerSecond = (now.bytesRead() - before.bytesRead()) / seconds;
      if (bytesPerSecond > 0) {
        sb.append(", about ").append(duration(Math.round(left / bytesPerSecond))).append(" left");
      }
    }
    return sb.toString();
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%,.0f MB", bytes / 1e6);
  }

  private static String duration(long seconds) {
    if (seconds < 60) {
      return seconds + "s";
    }
    if (seconds < 3600) {
      return (seconds / 60) + "m " + (seconds % 60) + "s";
    }
    return (seconds / 3600) + "h " + (seconds % 3600 / 60) + "m";
  }

  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join(5_000);
  }
}
