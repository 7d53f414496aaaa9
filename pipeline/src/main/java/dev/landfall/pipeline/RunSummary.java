package dev.landfall.pipeline;

import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import java.util.Locale;
import java.util.function.ToLongFunction;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/**
 * What a run did, from its Beam metrics: files, rows read / valid / duplicate / rejected, time, and
 * where the outputs are with a ready way to query them.
 */
public final class RunSummary {
  public final PipelineResult.State state;

  /** True when the job was only submitted (Flink, --attachedMode=false): it runs on. */
  public final boolean submitted;

  public final long filesRead;
  public final long filesRejected;

  /** Files over the definition's quality rules: none of their rows stored. */
  public final long filesQuarantined;

  public final long filesSkipped;

  /** Files the ledger says were ingested by an earlier run, unchanged: not read again. */
  public final long filesAlreadyDone;

  /** Files changed since an earlier run ingested them, not re-read (no --reingestChanged). */
  public final long filesChanged;

  /** Files marked done or failed in the ledger by this run. */
  public final long filesFinished;

  /** Files the ledger let through to be read (new, unfinished, or changed and re-ingested). */
  public final long filesClaimed;

  /** Files whose completion was still being tracked when the run ended (0 after a clean end). */
  public final long filesInFlight;

  /** Rows whose key was not in a lookup table (kept, with empty attributes), per lookup. */
  public final long rowsLookupMissing;

  public final long rowsRead;
  public final long rowsValid;
  public final long rowsDuplicate;
  public final long rowsRejected;
  public final long bytesRead;
  public final double seconds;

  /** A --compact run: only the compaction counts below mean anything. */
  public final boolean compaction;

  public final long parquetFilesMerged;
  public final long parquetFilesWritten;
  public final long parquetRowsMerged;
  public final String parquetFolder;
  public final String jdbcUrl;
  public final String tables;
  public final String psql;
  private final String schema;

  private RunSummary(
      PipelineResult.State state,
      MetricQueryResults m,
      RunPlan plan,
      LandfallOptions o,
      EmbeddedPostgresServer embedded,
      double seconds,
      boolean submitted,
      long finishedAfterJob,
      long finishedBefore) {
    DatasetDefinition def = plan.definition();
    this.state = state;
    this.submitted = submitted;
    this.filesRead = counter(m, "files-read");
    this.filesRejected = counter(m, "files-rejected");
    this.filesQuarantined = counter(m, "files-quarantined");
    this.filesSkipped = counter(m, "files-skipped");
    // A watch leaves finished files out of its polls (they never reach the claim step that
    // counts them): the ledger's count when the run started stands for them.
    this.filesAlreadyDone = finishedBefore >= 0 ? finishedBefore : counter(m, "files-already-done");
    this.filesChanged = counter(m, "files-changed");
    this.filesFinished = counter(m, "files-finished") + finishedAfterJob;
    this.filesClaimed = counter(m, "files-claimed");
    this.filesInFlight = counter(m, "files-in-flight");
    this.rowsLookupMissing = counter(m, "rows-lookup-missing");
    this.rowsRead = counter(m, "rows-read");
    this.rowsValid = counter(m, "rows-valid");
    this.rowsDuplicate = counter(m, "rows-duplicate");
    this.rowsRejected = counter(m, "rows-rejected");
    this.bytesRead = counter(m, "bytes-read");
    this.seconds = seconds;
    this.compaction = plan.compact();
    this.parquetFilesMerged = counter(m, "parquet-files-merged");
    this.parquetFilesWritten = counter(m, "parquet-files-written");
    this.parquetRowsMerged = counter(m, "parquet-rows-merged");
    this.parquetFolder =
        plan.parquet() ? WriteParquetPartitions.datasetFolder(plan.output(), def) : null;
    this.jdbcUrl =
        plan.postgres() && !o.getJdbcUrl().isEmpty()
            ? new Database(o.getJdbcUrl(), o.getDbUser()).safeUrl()
            : null;
    String s = plan.dbSchema();
    this.schema = s;
    // Only the tables this definition has: the aggregates table exists only with aggregates.
    this.tables =
        s
            + "."
            + def.name
            + (def.aggregates != null ? ", " + s + "." + def.name + "_agg" : "")
            + ", "
            + s
            + "."
            + def.name
            + "_rejects";
    this.psql =
        embedded != null
            ? embedded.psqlCommand()
            : jdbcUrl != null ? "psql \"" + jdbcUrl.substring(5) + "\"" : null;
  }

  static RunSummary from(
      PipelineResult result,
      PipelineResult.State state,
      RunPlan plan,
      LandfallOptions options,
      EmbeddedPostgresServer embedded,
      double seconds) {
    return from(result, state, plan, options, embedded, seconds, 0, -1);
  }

  /**
   * As above; {@code finishedAfterJob} files were closed in the ledger after the job ended; {@code
   * finishedBefore} (watch mode; else -1) files were finished when the run started.
   */
  static RunSummary from(
      PipelineResult result,
      PipelineResult.State state,
      RunPlan plan,
      LandfallOptions options,
      EmbeddedPostgresServer embedded,
      double seconds,
      long finishedAfterJob,
      long finishedBefore) {
    MetricQueryResults m = result.metrics().queryMetrics(MetricsFilter.builder().build());
    return new RunSummary(
        state, m, plan, options, embedded, seconds, false, finishedAfterJob, finishedBefore);
  }

  /** A job submitted to a cluster without waiting for it (no counts yet). */
  static RunSummary submitted(RunPlan plan, LandfallOptions options, double seconds) {
    MetricQueryResults none =
        MetricQueryResults.create(
            java.util.List.of(), java.util.List.of(), java.util.List.of(), java.util.List.of());
    return new RunSummary(
        PipelineResult.State.RUNNING, none, plan, options, null, seconds, true, 0, -1);
  }

  /** Counts of a job still running. */
  static final class Progress {
    long files;
    long rowsRead;
    long rowsRejected;
  }

  static Progress progress(PipelineResult result) {
    MetricQueryResults m = result.metrics().queryMetrics(MetricsFilter.builder().build());
    Progress p = new Progress();
    p.files = attempted(m, "files-read");
    p.rowsRead = attempted(m, "rows-read");
    p.rowsRejected = attempted(m, "rows-rejected");
    return p;
  }

  /** A counter of a job that has ended (see {@link JobCounters} for why not simply attempted). */
  private static long counter(MetricQueryResults m, String name) {
    return sum(m, name, JobCounters::value);
  }

  /** A counter of a running job: attempted, the only value that moves while bundles run. */
  private static long attempted(MetricQueryResults m, String name) {
    return sum(m, name, c -> c.getAttempted() == null ? 0 : c.getAttempted());
  }

  private static long sum(
      MetricQueryResults m, String name, ToLongFunction<MetricResult<Long>> value) {
    long total = 0;
    for (MetricResult<Long> c : m.getCounters()) {
      if (c.getName().getName().equals(name)) {
        total += value.applyAsLong(c);
      }
    }
    return total;
  }

  /** True when the job finished and every row read is valid, a duplicate or rejected. */
  /** The run's id in {@code landfall_runs}, or -1 (no database). */
  private long runId = -1;

  /** This summary, naming its run's row in {@code landfall_runs}. */
  RunSummary withRunId(long id) {
    this.runId = id;
    return this;
  }

  public long runId() {
    return runId;
  }

  private java.nio.file.Path report;
  private dev.landfall.io.report.DryRunReport.Outcome dryRun;

  /** This summary, of a dry run that found {@code outcome}. */
  RunSummary withDryRun(dev.landfall.io.report.DryRunReport.Outcome outcome) {
    this.dryRun = outcome;
    this.report = outcome.page();
    return this;
  }

  /** What a dry run found, or null for a run that wrote its outputs. */
  public dev.landfall.io.report.DryRunReport.Outcome dryRun() {
    return dryRun;
  }

  /** This summary, naming the run's data-quality report. */
  RunSummary withReport(java.nio.file.Path path) {
    this.report = path;
    return this;
  }

  private java.nio.file.Path logFile;

  /** This summary, naming the run's full log file (null: none). */
  RunSummary withLogFile(java.nio.file.Path path) {
    this.logFile = path;
    return this;
  }

  /** The run's full log file under {@code <workDir>/logs}, or null when there is none. */
  public java.nio.file.Path logFile() {
    return logFile;
  }

  /** The run's data-quality report, or null when none was written. */
  public java.nio.file.Path report() {
    return report;
  }

  public boolean succeeded() {
    return state == PipelineResult.State.DONE
        && accounted()
        && (dryRun == null || dryRun.quarantined().isEmpty());
  }

  public boolean accounted() {
    return rowsRead == rowsValid + rowsDuplicate + rowsRejected;
  }

  public String render() {
    StringBuilder sb = new StringBuilder();
    if (compaction) {
      sb.append("\n== landfall compaction: ").append(state).append(" ==\n");
      sb.append(
          String.format(
              Locale.ROOT,
              "parquet   %d small files merged into %d (%d rows) in %.1f s%n",
              parquetFilesMerged,
              parquetFilesWritten,
              parquetRowsMerged,
              seconds));
      sb.append("folder    ").append(parquetFolder).append("/\n");
      appendLog(sb);
      return sb.toString();
    }
    if (dryRun != null) {
      sb.append("\n== landfall dry run: ").append(state).append(" ==\n");
      sb.append(
          String.format(
              Locale.ROOT,
              "files     read %d, rejected %d, would be quarantined"
                  + " %d, skipped %d (%.1f MB)%n",
              filesRead,
              filesRejected,
              dryRun.quarantined().size(),
              filesSkipped,
              bytesRead / 1e6));
      sb.append(
          String.format(
              Locale.ROOT,
              "rows      read %d = valid %d + duplicate %d + rejected %d  [%s]%n",
              rowsRead,
              rowsValid,
              rowsDuplicate,
              rowsRejected,
              accounted() ? "all accounted for" : "MISMATCH"));
      for (var f : dryRun.quarantined()) {
        sb.append("quarantine ").append(f.path()).append(": ").append(f.quarantined()).append('\n');
      }
      sb.append(
          String.format(
              Locale.ROOT,
              "time      %.1f s (%.0f rows/s)%n",
              seconds,
              seconds > 0 ? rowsRead / seconds : 0));
      sb.append("report    ").append(report).append('\n');
      sb.append("written   nothing else: no table, no Parquet, no ledger entry\n");
      appendLog(sb);
      return sb.toString();
    }
    sb.append("\n== landfall run: ").append(state).append(" ==\n");
    if (submitted) {
      sb.append("submitted to the Flink cluster; it runs on there (see its web UI). Progress:\n")
          .append("          bin/landfall status --jdbcUrl=")
          .append(jdbcUrl)
          .append(" --dbSchema=")
          .append(schema)
          .append('\n');
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "files     read %d, rejected %d,%s skipped %d (%.1f MB)%n",
            filesRead,
            filesRejected,
            filesQuarantined > 0
                ? String.format(
                    Locale.ROOT,
                    " quarantined %d (quality rules: none of their rows stored),",
                    filesQuarantined)
                : "",
            filesSkipped,
            bytesRead / 1e6));
    if (jdbcUrl != null) {
      sb.append(
          String.format(
              Locale.ROOT,
              "ledger    %d finished by this run; %d ingested earlier (not read again); %d changed"
                  + " since ingested (not re-read)%n",
              filesFinished,
              filesAlreadyDone,
              filesChanged));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "rows      read %d = valid %d + duplicate %d + rejected %d  [%s]%n",
            rowsRead,
            rowsValid,
            rowsDuplicate,
            rowsRejected,
            accounted() ? "all accounted for" : "MISMATCH"));
    if (rowsLookupMissing > 0) {
      sb.append(
          String.format(
              Locale.ROOT,
              "lookups   %d rows with a key not in a lookup table (kept, attributes empty)%n",
              rowsLookupMissing));
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "time      %.1f s (%.0f rows/s)%n",
            seconds,
            seconds > 0 ? rowsRead / seconds : 0));
    if (runId >= 0) {
      sb.append(
          String.format(
              Locale.ROOT, "run       #%d, recorded in %s.landfall_runs%n", runId, schema));
    }
    if (report != null) {
      sb.append("report    ").append(report).append('\n');
    }
    appendLog(sb);
    if (parquetFolder != null) {
      sb.append("parquet   ").append(parquetFolder).append("/\n");
    }
    if (jdbcUrl != null) {
      sb.append("postgres  ").append(jdbcUrl).append("  tables ").append(tables).append('\n');
      sb.append("query     ").append(psql).append('\n');
    }
    if (parquetFolder != null) {
      sb.append(jdbcUrl != null ? "          " : "query     ")
          .append("duckdb: SELECT * FROM read_parquet('")
          .append(parquetFolder)
          .append("/**/*.parquet', hive_partitioning = true) LIMIT 10;\n");
    }
    return sb.toString();
  }

  private void appendLog(StringBuilder sb) {
    if (logFile != null) {
      sb.append("log       ").append(logFile).append("  (every line, with thread names)\n");
    }
  }
}
