package dev.landfall.pipeline;

import dev.landfall.io.csv.ReadCsvFiles;
import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.parquet.MarkPartitionsComplete;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.postgres.WriteToPostgres;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import dev.landfall.transforms.AggregateMeasures;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import dev.landfall.transforms.values.DatasetSchemas;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
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

  public static void main(String[] args) throws Exception {
    PipelineOptionsFactory.register(LandfallOptions.class);
    LandfallOptions options =
        PipelineOptionsFactory.fromArgs(args).withValidation().as(LandfallOptions.class);
    RunSummary summary = run(options);
    System.out.println(summary.render());
    if (!summary.succeeded()) {
      System.exit(1);
    }
  }

  /** Prepares inputs and database, runs the job to completion and returns its summary. */
  public static RunSummary run(LandfallOptions options) throws Exception {
    long started = System.nanoTime();
    // S3 flags onto Beam's options, then every s3:// bucket checked before anything else runs.
    S3Setup.configure(options);
    S3Setup.check(options);
    DatasetDefinition def = loadDefinition(options);
    Identifiers.check("--dbSchema", options.getDbSchema());
    Path workDir = Paths.get(options.getWorkDir()).toAbsolutePath();
    if (options.getInput().isEmpty()) {
      if (!def.name.equals("billing")) {
        throw new IllegalArgumentException(
            "--input is required for dataset '" + def.name + "' (sample data exists for billing only)");
      }
      Path sample = workDir.resolve("sample-input").resolve(def.name);
      LOG.info("no --input: generating {} sample rows under {}", options.getSampleRows(), sample);
      BillingSampleGenerator.standard(options.getSampleRows(), 42).writeTo(sample);
      options.setInput(sample.toString());
    }
    if (options.getOutput().isEmpty()) {
      options.setOutput(workDir.resolve("parquet").toString());
    }

    boolean postgres = Sinks.of(options).postgres;
    EmbeddedPostgresServer embedded = null;
    try {
      if (postgres && options.getJdbcUrl().isEmpty()) {
        embedded = EmbeddedPostgresServer.start(workDir.resolve("pgdata"), options.getEmbeddedPgPort());
        options.setJdbcUrl(embedded.jdbcUrl());
        options.setDbUser(embedded.user());
        LOG.info("embedded PostgreSQL started on port {} (data in {})", embedded.port(), embedded.dataDir());
      }
      Database db = null;
      if (postgres) {
        db = new Database(options.getJdbcUrl(), options.getDbUser());
        PostgresTables.createAll(db, def, options.getDbSchema());
      }

      Pipeline pipeline = Pipeline.create(options);
      buildGraph(pipeline, def, options, db);
      PipelineResult result = pipeline.run();
      PipelineResult.State state = waitWithProgress(result);
      return RunSummary.from(result, state, def, options, embedded,
          (System.nanoTime() - started) / 1e9);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  /** --dedupeBuckets, with -1 resolved for the runner in use. */
  static int dedupeBuckets(LandfallOptions options) {
    int b = options.getDedupeBuckets();
    if (b >= 0) {
      return b;
    }
    return options.getRunner().getSimpleName().equals("DirectRunner") ? 64 : 0;
  }

  /** Which outputs --sinks asks for. */
  static final class Sinks {
    final boolean parquet;
    final boolean postgres;

    private Sinks(boolean parquet, boolean postgres) {
      this.parquet = parquet;
      this.postgres = postgres;
    }

    static Sinks of(LandfallOptions options) {
      boolean parquet = false;
      boolean postgres = false;
      for (String s : options.getSinks().split(",")) {
        switch (s.trim()) {
          case "parquet":
            parquet = true;
            break;
          case "postgres":
            postgres = true;
            break;
          default:
            throw new IllegalArgumentException(
                "--sinks: unknown output '" + s.trim() + "'; use parquet, postgres or both");
        }
      }
      return new Sinks(parquet, postgres);
    }
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
        LOG.info("progress: {} files, {} rows read, {} rejected so far", p.files, p.rowsRead,
            p.rowsRejected);
      } catch (UnsupportedOperationException | IllegalStateException e) {
        LOG.info("still running");
      }
    }
  }

  /** Loads --datasetFile if given (any Beam file system), else the built-in --dataset. */
  public static DatasetDefinition loadDefinition(LandfallOptions options) throws IOException {
    if (options.getDatasetFile().isEmpty()) {
      return DatasetDefinition.builtIn(options.getDataset());
    }
    Path local = Paths.get(options.getDatasetFile());
    if (Files.exists(local)) {
      try (InputStream in = Files.newInputStream(local)) {
        return DatasetDefinition.load(in);
      }
    }
    FileSystems.setDefaultPipelineOptions(options);
    try (InputStream in =
        java.nio.channels.Channels.newInputStream(
            FileSystems.open(FileSystems.matchSingleFileSpec(options.getDatasetFile()).resourceId()))) {
      return DatasetDefinition.load(in);
    }
  }

  /**
   * The whole graph. Each step is one named composite:
   *
   * <ol>
   *   <li>DiscoverFiles: match CSV files under --input;
   *   <li>ReadCsv: RFC 4180 records, file-level dead letters;
   *   <li>ParseAndValidate: typed clean rows, row-level dead letters;
   *   <li>Deduplicate: one row per key;
   *   <li>Aggregate: measures per group;
   *   <li>WriteParquet, WriteRowsToPostgres, WriteAggregatesToPostgres, WriteRejectsToPostgres.
   * </ol>
   */
  public static void buildGraph(
      Pipeline pipeline, DatasetDefinition def, LandfallOptions options, Database db) {
    // 1. Discover the input files.
    PCollection<org.apache.beam.sdk.io.FileIO.ReadableFile> files =
        pipeline.apply("DiscoverFiles", new MatchInputFiles(options.getInput(), options.getInputGlob()));

    // 2. Read CSV records.
    PCollectionTuple read = files.apply("ReadCsv", new ReadCsvFiles(def));

    // 3. Type and validate each record.
    PCollectionTuple checked =
        read.get(ReadCsvFiles.RECORDS).apply("ParseAndValidate", new ParseAndValidate(def));

    // 4. Keep one row per key.
    PCollection<Row> unique =
        checked
            .get(ParseAndValidate.CLEAN)
            .apply("Deduplicate", new DeduplicateByKey(def).inBuckets(dedupeBuckets(options)));

    Sinks sinks = Sinks.of(options);
    // 5. Parquet for data scientists.
    if (sinks.parquet) {
      unique
          .apply("WriteParquet",
              new WriteParquetPartitions(def, options.getOutput(),
                  options.getParquetShardsPerPartition()))
          .getPerDestinationOutputFilenames()
          .apply("MarkPartitionsComplete", new MarkPartitionsComplete(
              WriteParquetPartitions.datasetFolder(options.getOutput(), def)));
    }
    if (!sinks.postgres) {
      return;
    }

    // 6. PostgreSQL for analysts: rows, aggregates, rejects.
    String schema = options.getDbSchema();
    int batch = options.getDbBatchSize();
    unique.apply("WriteRowsToPostgres",
        new WriteToPostgres(db, PostgresTables.rows(def, schema), batch));
    if (def.aggregates != null) {
      unique
          .apply("Aggregate", new AggregateMeasures(def))
          .apply("WriteAggregatesToPostgres",
              new WriteToPostgres(db, PostgresTables.aggregates(def, schema), batch));
    }
    PCollectionList.of(read.get(ReadCsvFiles.FILE_REJECTS))
        .and(checked.get(ParseAndValidate.REJECTED))
        .apply("CollectRejects", Flatten.pCollections())
        .setRowSchema(DatasetSchemas.REJECT)
        .apply("WriteRejectsToPostgres",
            new WriteToPostgres(db, PostgresTables.rejects(def, schema), batch));
  }
}
