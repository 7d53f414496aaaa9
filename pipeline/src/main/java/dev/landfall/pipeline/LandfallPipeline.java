package dev.landfall.pipeline;

import dev.landfall.io.ledger.RunHistory;
import dev.landfall.io.parquet.CompactParquetPartitions;
import dev.landfall.io.parquet.ParquetCompaction;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.report.QualityReport;
import dev.landfall.pipeline.logging.LogFile;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.options.OptionsHelp;
import java.nio.file.Path;
import java.time.Instant;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The landfall job: Hive-partitioned CSV files to clean, de-duplicated Parquet and PostgreSQL
 * tables (rows, aggregates, rejects), on whichever runner {@code --runner} names.
 *
 * <p>Run from source with {@code mvn -pl pipeline exec:java -Dexec.args="--input=..."} or from the
 * bundled jar with {@code bin/landfall --input=...}. With no {@code --input} it generates sample
 * data; with no {@code --jdbcUrl} it starts an embedded PostgreSQL. {@code --input} and {@code
 * --output} may be {@code s3://bucket/prefix} (see {@link S3Setup}).
 */
public final class LandfallPipeline {
  private static final Logger LOG = LoggerFactory.getLogger(LandfallPipeline.class);

  private LandfallPipeline() {}

  public static void main(String[] args) {
    if (OptionsHelp.requested(args)) {
      OptionsHelp.print(System.out);
      return;
    }
    LandfallOptions options = null;
    RunSummary summary;
    try {
      options = options(args);
      summary = run(options);
    } catch (Throwable e) {
      System.exit(
          UserErrors.report(e, args, options == null ? null : options.getWorkDir(), System.err));
      return;
    }
    System.out.println(summary.render());
    if (summary.submitted) {
      // Submitted to a cluster: nothing left to wait for (the Flink client's threads would
      // otherwise keep this JVM alive).
      System.exit(0);
    }
    if (!summary.succeeded()) {
      System.exit(1);
    }
  }

  /**
   * Parses and validates a command line into options, with landfall's runner defaults that depend
   * on which flags were given (see {@link FlinkDefaults#reuseObjectsInBackfill}).
   */
  public static LandfallOptions options(String... args) {
    PipelineOptionsFactory.register(LandfallOptions.class);
    LandfallOptions options =
        PipelineOptionsFactory.fromArgs(args).withValidation().as(LandfallOptions.class);
    FlinkDefaults.reuseObjectsInBackfill(options, args);
    return options;
  }

  /**
   * Checks the whole command ({@link RunPlan}), prepares inputs and database ({@link RunSetup}),
   * runs the job ({@link LandfallGraph}) to completion, does the ledger's work after it ({@link
   * AfterJob}) and returns its summary.
   */
  public static RunSummary run(LandfallOptions options) throws Exception {
    long started = System.nanoTime();
    // S3 flags onto Beam's options (the definition may live in S3), then every setting checked.
    S3Setup.configure(options);
    RunPlan plan = RunPlan.from(options);
    // Every line of every library, with thread names, to <workDir>/logs/ while the run lasts.
    try (LogFile log = LogFile.start(plan.workDir())) {
      return run(plan, options, started).withLogFile(log.path());
    }
  }

  /** {@link #run(LandfallOptions)} once the command is checked. */
  private static RunSummary run(RunPlan plan, LandfallOptions options, long started)
      throws Exception {
    // Every s3:// bucket checked before anything else runs.
    S3Setup.check(options);
    // A watch run on Flink checkpoints unless told otherwise.
    FlinkDefaults.apply(options);
    RunSetup.prepareInput(plan, options);
    if (plan.compact()) {
      return compact(plan, options, started);
    }
    if (plan.dryRun()) {
      return DryRun.run(plan, options, started);
    }
    try (EmbeddedPostgresServer embedded = RunSetup.startEmbeddedIfNeeded(plan, options)) {
      Instant runStart = Instant.now();
      Database db = null;
      if (plan.postgres()) {
        db = new Database(options.getJdbcUrl(), options.getDbUser());
        RunSetup.prepareDatabase(plan, db);
      }
      RunSetup.checkWritable(plan, options);
      RunHistory runs = null;
      long runId = -1;
      RunResources resources = RunResources.parquetOnly();
      if (db != null) {
        runs = new RunHistory(db, options.getDbSchema());
        runId =
            runs.start(
                plan.definition().name,
                plan.watch() ? "watch" : "backfill",
                options.getRunner().getSimpleName(),
                dev.landfall.io.postgres.SchemaEvolution.hash(plan.definition()));
        resources = RunSetup.resources(plan, db, runId);
      }
      try {
        RunSummary summary;
        try {
          summary = runJob(plan, options, embedded, resources, runStart, started).withRunId(runId);
        } catch (Exception e) {
          if (runs != null) {
            try {
              runs.end("failed", null, rootCause(e));
            } catch (java.sql.SQLException recording) {
              e.addSuppressed(recording);
            }
          }
          throw e;
        }
        if (runs != null && !summary.submitted) {
          writeReport(plan, options, db, summary, runStart);
        }
        if (runs != null) {
          try {
            if (summary.submitted) {
              // The name the cluster knows the job by: bin/landfall status --flinkMaster asks it.
              runs.recordFlinkJob(options.getJobName());
            }
            runs.end(
                summary.submitted ? "submitted" : summary.succeeded() ? "succeeded" : "failed",
                new RunHistory.Counts(
                    summary.filesRead,
                    summary.filesRejected,
                    summary.rowsRead,
                    summary.rowsValid,
                    summary.rowsDuplicate,
                    summary.rowsRejected),
                null);
          } catch (java.sql.SQLException e) {
            LOG.warn(
                "could not record the end of run #{} in landfall_runs: {}", runId, e.getMessage());
          }
        }
        return summary;
      } finally {
        if (runs != null) {
          runs.close();
        }
      }
    }
  }

  /**
   * Writes the run's data-quality report ({@link QualityReport}) under {@code <workDir>/reports/}
   * and names it in the summary; a report that cannot be written costs a warning, not the run.
   */
  private static void writeReport(
      RunPlan plan, LandfallOptions options, Database db, RunSummary summary, Instant runStart) {
    long start = System.nanoTime();
    try {
      Path report =
          QualityReport.write(
              db,
              DatasetTables.of(plan.definition(), options.getDbSchema()),
              new QualityReport.Run(
                  summary.runId(),
                  plan.watch() ? "watch" : "backfill",
                  options.getRunner().getSimpleName(),
                  summary.succeeded() ? "succeeded" : "ended " + summary.state,
                  runStart,
                  summary.seconds,
                  summary.rowsRead,
                  summary.rowsValid,
                  summary.rowsDuplicate,
                  summary.rowsRejected),
              plan.workDir().resolve("reports"));
      summary.withReport(report);
      LOG.info(
          "quality report written in {} ms: {}", (System.nanoTime() - start) / 1_000_000, report);
    } catch (java.sql.SQLException | java.io.IOException | RuntimeException e) {
      LOG.warn("could not write the run's quality report: {}", rootCause(e));
    }
  }

  /** Builds and runs the job, and the ledger's work after it; returns the run's summary. */
  private static RunSummary runJob(
      RunPlan plan,
      LandfallOptions options,
      EmbeddedPostgresServer embedded,
      RunResources resources,
      Instant runStart,
      long started)
      throws Exception {
    AfterJob afterJob = new AfterJob(plan, resources, runStart);
    Pipeline pipeline = Pipeline.create(options);
    LandfallGraph.build(pipeline, plan, resources);
    PipelineResult result;
    PipelineResult.State state;
    try (ProgressReporter progress =
        ProgressReporter.start(
            resources.ledger(),
            runStart,
            java.time.Duration.ofMillis(plan.progressEvery().getMillis()),
            plan.watch())) {
      result = pipeline.run();
      if (plan.detached()) {
        // The job runs on the cluster; the ledger and the Flink UI follow it from here.
        LOG.info("submitted to the Flink cluster (detached): {}", result);
        return RunSummary.submitted(plan, options, (System.nanoTime() - started) / 1e9);
      }
      state = waitWithProgress(result);
    } catch (RuntimeException e) {
      afterJob.failed(e);
      throw e;
    }
    long finishedAfterJob = afterJob.ended(state);
    return RunSummary.from(
        result,
        state,
        plan,
        options,
        embedded,
        (System.nanoTime() - started) / 1e9,
        finishedAfterJob,
        resources.finishedBefore());
  }

  /**
   * The {@code --compact} job: merges the small Parquet files of every partition folder of the
   * dataset (see {@link ParquetCompaction}). Reads no input and needs no database.
   */
  static RunSummary compact(RunPlan plan, LandfallOptions options, long started) {
    RunSetup.checkWritable(plan, options);
    ParquetCompaction compaction = LandfallGraph.compaction(plan);
    if (!options.getJdbcUrl().isEmpty()) {
      // A watch job writing into the same folders takes the same locks.
      compaction =
          compaction.withFolderLocks(new Database(options.getJdbcUrl(), options.getDbUser()));
    }
    Pipeline pipeline = Pipeline.create(options);
    pipeline.apply(
        "CompactParquet",
        new CompactParquetPartitions(
            WriteParquetPartitions.datasetFolder(plan.output(), plan.definition()), compaction));
    PipelineResult result = pipeline.run();
    PipelineResult.State state = waitWithProgress(result);
    return RunSummary.from(result, state, plan, options, null, (System.nanoTime() - started) / 1e9);
  }

  /** The innermost cause of a failure, as "Type: message". */
  static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** Waits for the job, logging the row counts every 10 s while it runs. */
  static PipelineResult.State waitWithProgress(PipelineResult result) {
    while (true) {
      PipelineResult.State state = result.waitUntilFinish(Duration.standardSeconds(10));
      if (state != null && state.isTerminal()) {
        return state;
      }
      try {
        RunSummary.Progress p = RunSummary.progress(result);
        LOG.info(
            "progress: {} files, {} rows read, {} rejected so far",
            p.files,
            p.rowsRead,
            p.rowsRejected);
      } catch (UnsupportedOperationException | IllegalStateException e) {
        LOG.info("still running");
      }
    }
  }
}
