package dev.landfall.pipeline;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.ledger.FileStatusEvents;
import dev.landfall.io.ledger.RecordFileItems;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.PipelineResult;

/**
 * The ledger's work once a job this command waited for has ended: files a failed job took are
 * marked failed (the next run reads them again; the sinks are idempotent), a backfill's files are
 * closed ({@link RecordFileItems}, {@link FileLedger#finishRecorded}) and their status events
 * logged and posted, and the aggregate groups of its rows are computed from the rows table.
 */
final class AfterJob {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AfterJob.class);
  private final RunPlan plan;
  private final Optional<FileLedger> runLedger;
  private final Instant runStart;
  private final boolean storedBefore;

  /**
   * @param resources the run's ledger (without the postgres output there is nothing to do) and
   *     whether earlier runs had stored rows before this one started
   * @param runStart when the run began claiming files
   */
  AfterJob(RunPlan plan, RunResources resources, Instant runStart) {
    this.plan = plan;
    this.runLedger = resources.ledger();
    this.runStart = runStart;
    this.storedBefore = resources.storedBefore();
  }

  /** The job failed to run: the files it took are not done. */
  void failed(RuntimeException e) throws Exception {
    if (runLedger.isPresent()) {
      runLedger.get().failUnfinished(runStart, LandfallPipeline.rootCause(e));
    }
  }

  /** The job ended in {@code state}; returns how many files were closed here. */
  long ended(PipelineResult.State state) throws Exception {
    if (runLedger.isEmpty()) {
      return 0;
    }
    FileLedger ledger = runLedger.get();
    if (state != PipelineResult.State.DONE) {
      ledger.failUnfinished(runStart, "the job ended " + state);
      return 0;
    }
    long finished = plan.finishesFilesAfterJob() ? finishFiles(ledger) : 0;
    if (plan.finishesFilesAfterJob()) {
      // The aggregates of a backfill come from the rows it stored, computed by PostgreSQL as a
      // watch computes them: every group at once after a first backfill, else the groups of the
      // files this run finished (files ingested by earlier runs share some of them).
      long start = System.nanoTime();
      if (storedBefore) {
        ledger.refreshGroupsOfFilesFinishedSince(runStart);
      } else {
        ledger.refreshAllAggregates();
      }
      LOG.info(
          "aggregates computed from the stored rows in {} ms",
          (System.nanoTime() - start) / 1_000_000);
    }
    return finished;
  }

  /** Closes the files this run read in the ledger; logs and posts each status event. */
  private long finishFiles(FileLedger ledger) throws Exception {
    List<String> events = ledger.finishRecorded(runStart);
    try (FileStatusEvents status = new FileStatusEvents(plan.webhookUrl())) {
      for (String event : events) {
        status.publish(event, "");
      }
      // This command exits next: give the webhook's posts a chance to be sent.
      status.awaitPosts(Duration.ofSeconds(30));
    }
    return events.size();
  }
}
