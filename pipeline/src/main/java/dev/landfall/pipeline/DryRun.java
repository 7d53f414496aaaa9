package dev.landfall.pipeline;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.report.DryRunReport;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.transforms.QualityFacts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --dryRun}: the input read and validated as a backfill would (quality rules included),
 * de-duplicated within the files read, and nothing written but a report: {@link QualityFacts}
 * computes what the report needs in the job, into {@code <workDir>/reports/dry-run-<time>.jsonl},
 * and {@link DryRunReport} turns it into {@code dry-run-<time>.html} beside it. No embedded
 * database is started; with {@code --jdbcUrl} the ledger is read (its claims rolled back) to leave
 * out the files already done.
 */
final class DryRun {
  private static final Logger LOG = LoggerFactory.getLogger(DryRun.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private DryRun() {}

  static RunSummary run(RunPlan plan, LandfallOptions options, long started) throws Exception {
    FileLedger ledger = null;
    if (!options.getJdbcUrl().isEmpty() && plan.postgres()) {
      FileLedger readOnly =
          new FileLedger(new Database(options.getJdbcUrl(), options.getDbUser()), plan.tables())
              .readOnly();
      if (readOnly.exists()) {
        ledger = readOnly.reingestingQuarantined(plan.reingestQuarantined());
      }
    }
    Path reports = plan.workDir().resolve("reports");
    Files.createDirectories(reports);
    String name = "dry-run-" + STAMP.format(java.time.Instant.now());
    Pipeline pipeline = Pipeline.create(options);
    PCollection<FileIO.ReadableFile> files =
        LandfallGraph.discover(pipeline, plan, java.util.Optional.ofNullable(ledger));
    LandfallGraph.CleanRows read = LandfallGraph.read(files, plan);
    PCollectionTuple.of(QualityFacts.ROWS, read.unique)
        .and(QualityFacts.REJECTS, read.rejects)
        .and(QualityFacts.FILE_ITEMS, read.fileItems)
        .apply("QualityFacts", new QualityFacts(plan.definition()))
        .apply(
            "WriteQualityFacts",
            TextIO.write()
                .to(reports.resolve(name).toString())
                .withSuffix(".jsonl")
                .withoutSharding());
    PipelineResult result = pipeline.run();
    PipelineResult.State state = LandfallPipeline.waitWithProgress(result);
    double seconds = (System.nanoTime() - started) / 1e9;
    RunSummary summary = RunSummary.from(result, state, plan, options, null, seconds);
    if (state == PipelineResult.State.DONE) {
      DryRunReport.Outcome outcome =
          DryRunReport.write(
              reports.resolve(name + ".jsonl"), plan.definition().name, plan.input(), seconds);
      for (DryRunReport.FileFacts f : outcome.quarantined()) {
        LOG.warn("would be quarantined: {}: {}", f.path(), f.quarantined());
      }
      summary.withDryRun(outcome);
    }
    return summary;
  }
}
