package dev.landfall.pipeline;

import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work before a job, once its {@link RunPlan} is checked: the sample data of a run without
 * {@code --input}, the checks that the input exists and the Parquet output can be written, the
 * embedded PostgreSQL of a run without {@code --jdbcUrl}, and the dataset's tables.
 */
final class RunSetup {
  private static final Logger LOG = LoggerFactory.getLogger(RunSetup.class);

  private RunSetup() {}

  /**
   * Generates the sample data when the plan asks for it (once per size: a second run finds the same
   * files, and the ledger skips them), points the options at the plan's input and output, and
   * checks the input.
   */
  static void prepareInput(RunPlan plan, LandfallOptions options) throws IOException {
    if (plan.sampleInput()) {
      generateSample(plan.sampleFolder(), options.getSampleRows());
    }
    options.setInput(plan.input());
    options.setOutput(plan.output());
    if (!plan.compact()) {
      checkInput(plan, options);
    }
  }

  private static void generateSample(Path sample, long rows) throws IOException {
    Path marker = sample.resolve("_landfall_sample_rows_" + rows);
    if (Files.exists(marker)) {
      LOG.info("no --input: using the sample data generated earlier under {}", sample);
      return;
    }
    LOG.info("no --input: generating {} sample rows under {}", rows, sample);
    if (Files.exists(sample)) {
      try (Stream<Path> old = Files.walk(sample)) {
        old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    BillingSampleGenerator.standard(rows, 42).writeTo(sample);
    Files.createFile(marker);
  }

  /**
   * Fails fast, naming the path, when --input does not exist or (in a backfill) holds no input file
   * at all: a typo must not look like a successful run. A watch run may start on an empty folder
   * and wait for files, but the folder must exist.
   */
  static void checkInput(RunPlan plan, LandfallOptions options) throws IOException {
    String input = plan.input();
    List<String> suffixes = plan.inputSuffixes();
    if (!input.contains("://")) {
      Path folder = Paths.get(input).toAbsolutePath();
      if (!Files.exists(folder)) {
        throw new IllegalArgumentException(
            "--input: "
                + folder
                + " does not exist; give the"
                + " folder that holds the partition folders, e.g. --input=/data/billing");
      }
      if (!Files.isDirectory(folder)) {
        throw new IllegalArgumentException(
            "--input: "
                + folder
                + " is a file; give the folder"
                + " that holds the partition folders ("
                + folder.getParent()
                + "?)");
      }
    }
    if (plan.watch()) {
      return;
    }
    FileSystems.setDefaultPipelineOptions(options);
    if (MatchInputFiles.hasInputFiles(input, plan.inputGlob(), suffixes, options)) {
      return;
    }
    throw new IllegalArgumentException(
        "--input: no "
            + String.join(" or ", suffixes)
            + " files under "
            + input
            + " (matching --inputGlob="
            + plan.inputGlob()
            + "); check the path, or --format for Parquet input");
  }

  /**
   * Fails fast, before anything is read or written, when the Parquet output cannot be written:
   * creates the dataset folder and a probe file in it, then deletes the probe.
   */
  static void checkWritable(RunPlan plan, LandfallOptions options) {
    if (!plan.parquet() && !plan.compact()) {
      return;
    }
    FileSystems.setDefaultPipelineOptions(options);
    String folder = WriteParquetPartitions.datasetFolder(plan.output(), plan.definition());
    try {
      ResourceId probe =
          FileSystems.matchNewResource(folder, true)
              .resolve(".landfall-write-probe", ResolveOptions.StandardResolveOptions.RESOLVE_FILE);
      try (WritableByteChannel ch = FileSystems.create(probe, "application/octet-stream")) {
        ch.write(ByteBuffer.wrap(new byte[] {1}));
      }
      FileSystems.delete(List.of(probe));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "--output: cannot write Parquet under " + folder + ": " + LandfallPipeline.rootCause(e),
          e);
    }
  }

  /**
   * Starts the embedded PostgreSQL when the plan writes to PostgreSQL and no --jdbcUrl is given,
   * and points the options at it; null otherwise.
   */
  static EmbeddedPostgresServer startEmbeddedIfNeeded(RunPlan plan, LandfallOptions options)
      throws IOException {
    if (!plan.postgres() || !options.getJdbcUrl().isEmpty()) {
      return null;
    }
    EmbeddedPostgresServer embedded =
        EmbeddedPostgresServer.start(plan.workDir().resolve("pgdata"), options.getEmbeddedPgPort());
    options.setJdbcUrl(embedded.jdbcUrl());
    options.setDbUser(embedded.user());
    LOG.info(
        "embedded PostgreSQL started on port {} (data in {})", embedded.port(), embedded.dataDir());
    return embedded;
  }

  /**
   * Creates (or evolves) the dataset's tables and the file ledger's, and fills the sample's lookup
   * tables for a sample run.
   */
  static void prepareDatabase(RunPlan plan, Database db) throws Exception {
    PostgresTables.createAll(db, plan.tables(), FileLedger::createTables);
    if (plan.sampleInput()) {
      LandfallDatabase.fillSampleLookups(db, plan.tables());
    }
    if (plan.watch() && plan.definition().aggregates != null) {
      // A watch refreshes the groups of each closed file; these indexes make that read the
      // groups' index entries instead of their rows. Built once, kept for later watches.
      long start = System.nanoTime();
      List<String> ddl =
          PostgresTables.percentileIndexes(plan.definition(), plan.tables().schema());
      try (java.sql.Connection c = db.connect();
          java.sql.Statement s = c.createStatement()) {
        for (String sql : ddl) {
          s.execute(sql);
        }
      }
      if (!ddl.isEmpty()) {
        LOG.info(
            "percentile indexes of {} ready in {} ms",
            plan.definition().name,
            (System.nanoTime() - start) / 1_000_000);
      }
    }
  }

  /**
   * The run's resources once its tables exist ({@link #prepareDatabase}) and before its job claims
   * anything: the one file ledger of run {@code runId} on the job's database (which waits through
   * outages of up to {@code --dbMaxOutage}), and what earlier runs left ({@link
   * FileLedger#storedBefore}; in watch mode the files finished before the run). Without the
   * postgres output: {@link RunResources#parquetOnly}.
   */
  static RunResources resources(RunPlan plan, Database db, long runId) throws SQLException {
    if (!plan.postgres()) {
      return RunResources.parquetOnly();
    }
    Database jobDb =
        db.toleratingOutages(java.time.Duration.ofMillis(plan.dbMaxOutage().getMillis()));
    FileLedger ledger =
        new FileLedger(jobDb, plan.tables())
            .reingestingQuarantined(plan.reingestQuarantined())
            .forRun(runId);
    return RunResources.withDatabase(
        jobDb, ledger, ledger.storedBefore(), plan.watch() ? ledger.countFinished() : -1);
  }
}
