package dev.landfall.pipeline;

import dev.landfall.io.csv.ReadCsvFiles;
import dev.landfall.io.csv.ReadDeduplicatedCsv;
import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.input.InputFiles;
import dev.landfall.io.ledger.ClaimFiles;
import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.ledger.FinishFiles;
import dev.landfall.io.ledger.RecordFileItems;
import dev.landfall.io.ledger.StatusWebhook;
import dev.landfall.io.parquet.CompactParquetPartitions;
import dev.landfall.io.parquet.ExportFileToParquet;
import dev.landfall.io.ledger.DropKeysStoredBefore;
import dev.landfall.io.parquet.MarkPartitionsComplete;
import dev.landfall.io.parquet.ParquetCompaction;
import dev.landfall.io.parquet.ReadParquetFiles;
import dev.landfall.io.parquet.ReconcileCompactedFiles;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.parquet.WriteParquetPerFile;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.postgres.EnrichFromLookups;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.postgres.WriteToPostgres;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.options.OptionsHelp;
import dev.landfall.pipeline.options.WatchOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import dev.landfall.transforms.AggregateMeasures;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.RunRowTasks;
import dev.landfall.transforms.TrackFileCompletion;
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
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.Wait;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
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
  /** Hash buckets of a CSV backfill's key pass unless --dedupeBuckets says otherwise. */
  static final int KEY_BUCKETS = 1024;

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
      System.exit(UserErrors.report(e, args, options == null ? null : options.getWorkDir(),
          System.err));
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

  /** Prepares inputs and database, runs the job to completion and returns its summary. */
  public static RunSummary run(LandfallOptions options) throws Exception {
    long started = System.nanoTime();
    // S3 flags onto Beam's options, then every s3:// bucket checked before anything else runs.
    S3Setup.configure(options);
    S3Setup.check(options);
    // A watch run on Flink checkpoints unless told otherwise.
    FlinkDefaults.apply(options);
    DatasetDefinition def = loadDefinition(options);
    Identifiers.checkSchema("--dbSchema", options.getDbSchema());
    reingest(options);
    Path workDir = Paths.get(options.getWorkDir()).toAbsolutePath();
    boolean sampleGenerated = options.getInput().isEmpty() && !options.getCompact();
    if (sampleGenerated) {
      if (!def.name.equals("billing")) {
        throw new IllegalArgumentException(
            "--input is required for dataset '" + def.name + "' (sample data exists for billing only)");
      }
      Path sample = workDir.resolve("sample-input").resolve(def.name);
      // Generated once per size: a second run finds the same files (and the ledger skips them).
      Path marker = sample.resolve("_landfall_sample_rows_" + options.getSampleRows());
      if (Files.exists(marker)) {
        LOG.info("no --input: using the sample data generated earlier under {}", sample);
      } else {
        LOG.info("no --input: generating {} sample rows under {}", options.getSampleRows(), sample);
        if (Files.exists(sample)) {
          try (java.util.stream.Stream<Path> old = Files.walk(sample)) {
            old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
          }
        }
        BillingSampleGenerator.standard(options.getSampleRows(), 42).writeTo(sample);
        Files.createFile(marker);
      }
      options.setInput(sample.toString());
    }
    if (options.getOutput().isEmpty()) {
      options.setOutput(workDir.resolve("parquet").toString());
    }
    if (!options.getCompact()) {
      checkInput(options);
    }
    if (options.getCompact()) {
      return compact(options, def, started);
    }

    boolean postgres = Sinks.of(options).postgres;
    if (options.getWatch() && !postgres) {
      throw new IllegalArgumentException(
          "--watch needs the postgres output (--sinks=parquet,postgres): the file ledger that"
              + " makes each file count once lives in PostgreSQL");
    }
    boolean detached = FlinkDefaults.isDetached(options);
    if (detached && postgres && options.getJdbcUrl().isEmpty()) {
      throw new IllegalArgumentException("--attachedMode=false needs --jdbcUrl: the embedded"
          + " PostgreSQL stops when this command returns, while the job goes on on the cluster");
    }
    EmbeddedPostgresServer embedded = null;
    try {
      if (postgres && options.getJdbcUrl().isEmpty()) {
        embedded = EmbeddedPostgresServer.start(workDir.resolve("pgdata"), options.getEmbeddedPgPort());
        options.setJdbcUrl(embedded.jdbcUrl());
        options.setDbUser(embedded.user());
        LOG.info("embedded PostgreSQL started on port {} (data in {})", embedded.port(), embedded.dataDir());
      }
      Database db = null;
      FileLedger ledger = null;
      long doneBefore = 0;
      java.time.Instant runStart = java.time.Instant.now();
      if (postgres) {
        db = new Database(options.getJdbcUrl(), options.getDbUser());
        PostgresTables.createAll(db, def, options.getDbSchema(), FileLedger::createTables);
        if (sampleGenerated) {
          LandfallDatabase.fillSampleLookups(db, def, options.getDbSchema());
        }
        ledger = new FileLedger(db, def, options.getDbSchema());
        doneBefore = ledger.count("done") + ledger.count("failed") + ledger.count("changed");
      }

      if (Sinks.of(options).parquet) {
        checkWritable(options, def);
      }

      Pipeline pipeline = Pipeline.create(options);
      buildGraph(pipeline, def, options, db);
      PipelineResult result;
      PipelineResult.State state;
      try {
        result = pipeline.run();
        if (detached) {
          // The job runs on the cluster; the ledger and the Flink UI follow it from here.
          LOG.info("submitted to the Flink cluster (detached): {}", result);
          return RunSummary.submitted(def, options, (System.nanoTime() - started) / 1e9);
        }
        state = waitWithProgress(result);
      } catch (RuntimeException e) {
        if (ledger != null) {
          // The files this run took are not done: say so in the ledger. The next run reads them
          // again (the sinks are idempotent).
          ledger.failUnfinished(runStart, rootCause(e));
        }
        throw e;
      }
      if (ledger != null && state != PipelineResult.State.DONE) {
        ledger.failUnfinished(runStart, "the job ended " + state);
      }
      long finishedAfterJob = 0;
      if (ledger != null && state == PipelineResult.State.DONE && finishesFilesAfterJob(options)) {
        finishedAfterJob = finishFiles(ledger, runStart, options.getWebhookUrl());
      }
      if (ledger != null && !options.getWatch() && doneBefore > 0
          && state == PipelineResult.State.DONE) {
        // This run's aggregates cover only the files it read; files ingested by earlier runs
        // share some of its groups, so recompute those groups from the rows table.
        ledger.refreshGroupsOfFilesFinishedSince(runStart);
      }
      return RunSummary.from(result, state, def, options, embedded,
          (System.nanoTime() - started) / 1e9, finishedAfterJob);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  /**
   * True when the files a run reads are closed in the ledger after its job has ended ({@link
   * RecordFileItems}, {@link FileLedger#finishRecorded}): a backfill this command waits for. A
   * watch run, or a backfill submitted to a cluster without waiting, closes each file inside the
   * job as it completes ({@link TrackFileCompletion}).
   */
  static boolean finishesFilesAfterJob(LandfallOptions options) {
    return Sinks.of(options).postgres && !options.getWatch() && !FlinkDefaults.isDetached(options);
  }

  /** Closes the files this run read in the ledger; logs and posts each status event. */
  static long finishFiles(FileLedger ledger, java.time.Instant since, String webhookUrl)
      throws Exception {
    java.util.List<String> events = ledger.finishRecorded(since);
    java.util.List<java.util.concurrent.CompletableFuture<Boolean>> posts =
        new java.util.ArrayList<>();
    StatusWebhook webhook = webhookUrl != null && !webhookUrl.isEmpty()
        ? new StatusWebhook(webhookUrl) : null;
    for (String event : events) {
      LOG.info("file finished: {}", event);
      if (webhook != null) {
        posts.add(webhook.post(event));
      }
    }
    if (!posts.isEmpty()) {
      try {
        java.util.concurrent.CompletableFuture.allOf(
                posts.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
            .get(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        LOG.warn("webhook: some status events were still being sent after 30 s");
      }
    }
    if (webhook != null) {
      webhook.close(); // events still queued are sent; the thread ends after them
    }
    return events.size();
  }

  /**
   * The {@code --compact} job: merges the small Parquet files of every partition folder of the
   * dataset (see {@link ParquetCompaction}). Reads no input and needs no database.
   */
  static RunSummary compact(LandfallOptions options, DatasetDefinition def, long started) {
    checkWritable(options, def);
    ParquetCompaction compaction = compaction(options);
    if (!options.getJdbcUrl().isEmpty()) {
      // A watch job writing into the same folders takes the same locks.
      compaction = compaction.withFolderLocks(new Database(options.getJdbcUrl(), options.getDbUser()));
    }
    Pipeline pipeline = Pipeline.create(options);
    pipeline.apply("CompactParquet", new CompactParquetPartitions(
        WriteParquetPartitions.datasetFolder(options.getOutput(), def), compaction));
    PipelineResult result = pipeline.run();
    PipelineResult.State state = waitWithProgress(result);
    return RunSummary.from(result, state, def, options, null, (System.nanoTime() - started) / 1e9);
  }

  /** How Parquet files are merged and kept consistent with merged files (--parquet* options). */
  static ParquetCompaction compaction(LandfallOptions options) {
    return new ParquetCompaction(options.getParquetTargetFileMb() * 1024L * 1024L,
        rowGroupBytes(options));
  }

  static int rowGroupBytes(LandfallOptions options) {
    int mb = options.getParquetRowGroupMb();
    if (mb < 1 || mb > 1024) {
      throw new IllegalArgumentException("--parquetRowGroupMb must be between 1 and 1024, not " + mb);
    }
    return mb * 1024 * 1024;
  }

  /**
   * Fails fast, before anything is read or written, when the Parquet output cannot be written:
   * creates the dataset folder and a probe file in it, then deletes the probe.
   */
  static void checkWritable(LandfallOptions options, DatasetDefinition def) {
    FileSystems.setDefaultPipelineOptions(options);
    String folder = WriteParquetPartitions.datasetFolder(options.getOutput(), def);
    try {
      org.apache.beam.sdk.io.fs.ResourceId probe = FileSystems.matchNewResource(folder, true)
          .resolve(".landfall-write-probe",
              org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions.RESOLVE_FILE);
      try (java.nio.channels.WritableByteChannel ch =
          FileSystems.create(probe, "application/octet-stream")) {
        ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
      }
      FileSystems.delete(java.util.List.of(probe));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("--output: cannot write Parquet under " + folder + ": "
          + rootCause(e), e);
    }
  }

  /** The innermost cause of a failure, as "Type: message". */
  static String rootCause(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** The glob of input files below --input: --inputGlob, or all Parquet files for Parquet input. */
  static String inputGlob(LandfallOptions options) {
    return isParquetInput(options) && options.getInputGlob().equals("**/*.csv*")
        ? "**/*.parquet" : options.getInputGlob();
  }

  /** The endings of the names that are read: .csv and .csv.gz, or .parquet. */
  static java.util.List<String> inputSuffixes(LandfallOptions options) {
    return isParquetInput(options)
        ? MatchInputFiles.PARQUET_SUFFIXES : MatchInputFiles.CSV_SUFFIXES;
  }

  /**
   * Fails fast, naming the path, when --input does not exist or (in a backfill) holds no input
   * file at all: a typo must not look like a successful run. A watch run may start on an empty
   * folder and wait for files, but the folder must exist.
   */
  static void checkInput(LandfallOptions options) throws IOException {
    String input = options.getInput();
    java.util.List<String> suffixes = inputSuffixes(options);
    if (!input.contains("://")) {
      Path folder = Paths.get(input).toAbsolutePath();
      if (!Files.exists(folder)) {
        throw new IllegalArgumentException("--input: " + folder + " does not exist; give the"
            + " folder that holds the partition folders, e.g. --input=/data/billing");
      }
      if (!Files.isDirectory(folder)) {
        throw new IllegalArgumentException("--input: " + folder + " is a file; give the folder"
            + " that holds the partition folders (" + folder.getParent() + "?)");
      }
    }
    if (options.getWatch()) {
      return;
    }
    FileSystems.setDefaultPipelineOptions(options);
    if (MatchInputFiles.hasInputFiles(input, inputGlob(options), suffixes)) {
      return;
    }
    throw new IllegalArgumentException("--input: no " + String.join(" or ", suffixes)
        + " files under " + input + " (matching"
        + " --inputGlob=" + inputGlob(options) + "); check the path, or --format for Parquet"
        + " input");
  }

  /** True when earlier runs left rows in the rows table (files done, or changed since). */
  static boolean storedBefore(FileLedger ledger) {
    try {
      return ledger.count("done") + ledger.count("changed") > 0;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("cannot read the file ledger: " + e.getMessage(), e);
    }
  }

  /** --reingest as a set of values, with --reingestChanged as 'changed'; refuses unknown ones. */
  static java.util.Set<String> reingest(LandfallOptions options) {
    java.util.Set<String> values = new java.util.TreeSet<>();
    for (String v : options.getReingest().split(",")) {
      if (v.isBlank()) {
        continue;
      }
      if (!v.trim().equals("changed") && !v.trim().equals("olderDefinitions")) {
        throw new IllegalArgumentException("--reingest: unknown value '" + v.trim()
            + "'; use changed and/or olderDefinitions, e.g. --reingest=olderDefinitions");
      }
      values.add(v.trim());
    }
    if (options.getReingestChanged()) {
      values.add("changed");
    }
    return values;
  }

  /** True for --format=parquet; refuses unknown formats. */
  static boolean isParquetInput(LandfallOptions options) {
    switch (options.getFormat().trim().toLowerCase(java.util.Locale.ROOT)) {
      case "csv":
        return false;
      case "parquet":
        return true;
      default:
        throw new IllegalArgumentException(
            "--format: unknown input format '" + options.getFormat() + "'; use csv or parquet");
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

  /**
   * Buckets of a CSV watch's de-duplication of packed rows: --dedupeBuckets, with -1 resolved
   * (64 on the DirectRunner, which runs each bucket of a pane as a bundle of its own; 1024
   * elsewhere); 0 de-duplicates rows per key, unpacked.
   */
  static int watchBuckets(LandfallOptions options) {
    int b = options.getDedupeBuckets();
    if (b >= 0) {
      return b;
    }
    return options.getRunner().getSimpleName().equals("DirectRunner") ? 64 : KEY_BUCKETS;
  }

  /** Buckets of the key pass of a CSV backfill: --dedupeBuckets, with -1 resolved. */
  static int keyBuckets(LandfallOptions options) {
    int b = options.getDedupeBuckets();
    return b >= 0 ? b : KEY_BUCKETS;
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
    String file = options.getDatasetFile();
    try {
      Path local = Paths.get(file);
      if (Files.exists(local)) {
        try (InputStream in = Files.newInputStream(local)) {
          return DatasetDefinition.load(in);
        }
      }
      if (!file.contains("://")) {
        throw new IllegalArgumentException("the file does not exist");
      }
      FileSystems.setDefaultPipelineOptions(options);
      try (InputStream in = java.nio.channels.Channels.newInputStream(
          FileSystems.open(FileSystems.matchSingleFileSpec(file).resourceId()))) {
        return DatasetDefinition.load(in);
      }
    } catch (IllegalArgumentException | IOException e) {
      // The definition's own checks name the field; say which file they are about.
      throw new IllegalArgumentException("--datasetFile=" + file + ": "
          + e.getMessage().replaceAll("\\s+", " ") + " (the format is in docs/definition.md)", e);
    }
  }

  /**
   * The whole graph. Each step is one named composite:
   *
   * <ol>
   *   <li>DiscoverFiles: match CSV files under --input;
   *   <li>ReadAndValidateCsv: RFC 4180 records typed into clean rows, file- and row-level dead
   *       letters (Parquet input: ReadParquet, then ParseAndValidate);
   *   <li>Deduplicate: one row per key;
   *   <li>Aggregate: measures per group;
   *   <li>WriteParquet, WriteRowsToPostgres, WriteAggregatesToPostgres, WriteRejectsToPostgres.
   * </ol>
   */
  public static void buildGraph(
      Pipeline pipeline, DatasetDefinition def, LandfallOptions options, Database db) {
    Sinks sinks = Sinks.of(options);
    boolean watch = options.getWatch();
    FileLedger ledger = sinks.postgres ? new FileLedger(db, def, options.getDbSchema()) : null;

    // 1. Discover the input files: all at once (backfill) or as they land (watch); the ledger
    //    lets through only files not ingested yet.
    boolean parquetInput = isParquetInput(options);
    MatchInputFiles discover = new MatchInputFiles(options.getInput(), inputGlob(options))
        .withSuffixes(inputSuffixes(options))
        .inRange(def.partitions.isEmpty() ? null : def.partitions.get(0).name,
            options.getSince(), options.getUntil());
    if (watch) {
      discover = discover.continuously(
          WatchOptions.parseDuration("--pollInterval", options.getPollInterval()),
          options.getStopAfterIdle().isEmpty() ? null
              : WatchOptions.parseDuration("--stopAfterIdle", options.getStopAfterIdle()),
          ledger == null ? null : ledger::quietFor);
    }
    if (ledger != null) {
      discover = discover.claimingWith(new ClaimFiles(ledger, reingest(options).contains("changed"))
          .reingestingOlderDefinitions(reingest(options).contains("olderDefinitions")));
    }
    PCollection<FileIO.ReadableFile> files = pipeline.apply("DiscoverFiles", discover);
    if (watch) {
      // Unbounded input: every grouping below fires on processing-time panes, so each new file
      // moves through de-duplication and the sinks about a second after it is read.
      files = files.apply("IngestionPanes", inPanes());
    }

    // 2-3. Read the records, then type and validate each one. CSV files are validated as they
    //      are read, in one step: handing raw records to a step of their own would serialize
    //      each of them once per output on Flink. Parquet input (--format=parquet) takes two.
    //    A backfill of CSV files reads them twice instead: keys first, then each file's winning
    //    rows, so that no whole row is shuffled (ReadDeduplicatedCsv).
    PCollectionTuple read;
    PCollection<Row> clean = null;
    PCollectionTuple checked = null;
    boolean readTwice = !watch && !parquetInput;
    //    A watch of CSV files packs each file's rows per hash bucket as it reads them, so that
    //    de-duplication groups chunks, not single rows.
    int packBuckets = watch && !parquetInput ? watchBuckets(options) : 0;
    if (parquetInput) {
      read = files.apply("ReadParquet", new ReadParquetFiles(def));
      checked = read.get(InputFiles.RECORDS).apply("ParseAndValidate", new ParseAndValidate(def));
      clean = checked.get(ParseAndValidate.CLEAN);
    } else if (readTwice) {
      ReadDeduplicatedCsv readOnce = new ReadDeduplicatedCsv(def).inBuckets(keyBuckets(options));
      read = files.apply("ReadAndDeduplicateCsv", sinks.postgres && !finishesFilesAfterJob(options)
          ? readOnce.withDuplicateCounts() : readOnce);
    } else if (packBuckets > 0) {
      read = files.apply("ReadAndValidateCsv", new ReadCsvFiles(def).packedInBuckets(packBuckets));
    } else {
      read = files.apply("ReadAndValidateCsv", new ReadCsvFiles(def).validated());
      clean = read.get(ReadCsvFiles.CLEAN);
    }

    // 4. Keep one row per key (and, for the file ledger, count per file the rows that lost).
    DeduplicateByKey dedupe = new DeduplicateByKey(def).inBuckets(dedupeBuckets(options));
    PCollectionTuple deduplicated = null;
    PCollection<Row> unique;
    boolean finishAfterJob = finishesFilesAfterJob(options);
    if (readTwice) {
      deduplicated = read;
      unique = read.get(ReadDeduplicatedCsv.CLEAN);
    } else if (packBuckets > 0) {
      deduplicated =
          read.get(ReadCsvFiles.PACKED).apply("Deduplicate", DeduplicateByKey.packed(def));
      unique = deduplicated.get(DeduplicateByKey.UNIQUE);
    } else if (sinks.postgres && !finishAfterJob) {
      deduplicated = clean.apply("Deduplicate", dedupe.withDuplicateCounts());
      unique = deduplicated.get(DeduplicateByKey.UNIQUE);
    } else {
      unique = clean.apply("Deduplicate", dedupe);
    }

    // Dimension attributes from the definition's lookup tables (they live in PostgreSQL).
    if (!def.lookups.isEmpty()) {
      if (db != null) {
        unique = unique.apply("Enrich", new EnrichFromLookups(db, def, options.getDbSchema(),
            WatchOptions.parseDuration("--lookupRefresh", options.getLookupRefresh()).getMillis()));
      } else {
        LOG.warn("no database: the lookup columns of {} stay empty", def.name);
      }
    }

    //    A backfill after earlier runs: a key the rows table holds from an earlier run keeps its
    //    row there, so the Parquet files must not get a second one.
    if (!watch && ledger != null && sinks.parquet && storedBefore(ledger)) {
      unique = unique.apply("DropKeysStoredBefore",
          new DropKeysStoredBefore(db, def, options.getDbSchema()));
    }

    // 5-6. Parquet for data scientists; PostgreSQL rows and aggregates for analysts. In a
    //    backfill the steps that take every clean row run as one step ("WriteRows", see
    //    RunRowTasks), so that each row is handed over once and not once per sink.
    String schema = options.getDbSchema();
    int batch = options.getDbBatchSize();
    // Rows that come each input file's rows together are written without a shuffle.
    WriteParquetPerFile parquetPerFile =
        sinks.parquet && readTwice && options.getParquetShardsPerPartition() == 1
            ? new WriteParquetPerFile(def, options.getOutput(), rowGroupBytes(options)) : null;
    WriteToPostgres rowsSink = sinks.postgres
        ? new WriteToPostgres(db, PostgresTables.rows(def, schema), batch) : null;
    AggregateMeasures aggregate =
        sinks.postgres && def.aggregates != null && !watch ? new AggregateMeasures(def) : null;
    PCollection<KV<String, String>> parquetWritten = null;
    PCollection<KV<String, Long>> rowsStored = null;
    PCollection<Row> aggregates = null;
    if (rowsSink != null && !watch) {
      RunRowTasks tasks =
          RunRowTasks.of(ROWS_STORED, WriteToPostgres.storedCoder(), rowsSink.asTask());
      if (parquetPerFile != null) {
        tasks = tasks.and(PARQUET_WRITTEN, WriteParquetPerFile.writtenCoder(),
            parquetPerFile.asTask());
      }
      if (aggregate != null) {
        tasks = tasks.and(PARTIAL_TOTALS, aggregate.partialTotalsCoder(),
            aggregate.partialTotals());
      }
      PCollectionTuple written = unique.apply("WriteRows", tasks);
      rowsStored = written.get(ROWS_STORED);
      parquetWritten = parquetPerFile == null ? null : written.get(PARQUET_WRITTEN);
      aggregates = aggregate == null ? null
          : written.get(PARTIAL_TOTALS).apply("Aggregate", aggregate.mergePartialTotals());
    } else {
      if (parquetPerFile != null) {
        parquetWritten = unique.apply("WriteParquet", parquetPerFile);
      }
      if (rowsSink != null) {
        rowsStored = unique.apply("WriteRowsToPostgres", rowsSink);
      }
    }

    //    Parquet files (backfill: from the pipeline; watch: per finished file, below).
    PCollection<KV<String, String>> parquetFiles = null;
    if (sinks.parquet && !watch) {
      parquetFiles = (parquetWritten != null ? parquetWritten
          : unique
              .apply("WriteParquet",
                  new WriteParquetPartitions(def, options.getOutput(),
                      options.getParquetShardsPerPartition(), rowGroupBytes(options)))
              .getPerDestinationOutputFilenames())
          .apply("ReconcileCompactedFiles", new ReconcileCompactedFiles(db == null
              ? compaction(options) : compaction(options).withFolderLocks(db)));
      parquetFiles.apply("MarkPartitionsComplete", new MarkPartitionsComplete(
          WriteParquetPartitions.datasetFolder(options.getOutput(), def)));
    }
    if (!sinks.postgres) {
      return;
    }

    //    PostgreSQL: aggregates and rejects (the rows are written above).
    if (aggregates != null) {
      aggregates.apply("WriteAggregatesToPostgres",
          new WriteToPostgres(db, PostgresTables.aggregates(def, schema), batch));
    }
    PCollection<Row> rejects = checked == null
        ? panes(watch, "RejectPanes", read.get(ReadCsvFiles.REJECTS))
        : PCollectionList.of(panes(watch, "FileRejectPanes", read.get(InputFiles.FILE_REJECTS)))
            .and(panes(watch, "RowRejectPanes", checked.get(ParseAndValidate.REJECTED)))
            .apply("CollectRejects", Flatten.pCollections())
            .setRowSchema(DatasetSchemas.REJECT);
    PCollection<KV<String, Long>> rejectsStored = rejects.apply("WriteRejectsToPostgres",
        new WriteToPostgres(db, PostgresTables.rejects(def, schema), batch));

    // 7. A backfill records each file's item count; run() closes the files when the job is done.
    //    (Joining those counts with counts taken after the sinks, as the lines below do, would
    //    make Flink's batch execution write every record to disk before validating it.)
    if (finishAfterJob) {
      read.get(InputFiles.FILE_ITEMS).apply("RecordFileItems", new RecordFileItems(ledger));
      return;
    }

    //    Otherwise close each file in the ledger once every one of its records is stored or
    //    counted as a duplicate (and, in a backfill, once the Parquet files are final).
    PCollection<KV<String, Long>> accounted =
        PCollectionList.of(panes(watch, "RowsStoredPanes", rowsStored))
            .and(panes(watch, "RejectsStoredPanes", rejectsStored))
            .and(panes(watch, "DuplicatePanes", deduplicated.get(DeduplicateByKey.DUPLICATES)))
            .apply("CollectAccounted", Flatten.pCollections());
    PCollection<KV<String, Long>> completed =
        PCollectionTuple.of(TrackFileCompletion.EXPECTED,
                panes(watch, "FileItemPanes", read.get(InputFiles.FILE_ITEMS)))
            .and(TrackFileCompletion.ACCOUNTED, accounted)
            .apply("TrackFiles", new TrackFileCompletion());
    if (parquetFiles != null) {
      completed = completed.apply("AfterParquetIsFinal", Wait.on(parquetFiles));
    }
    completed.apply("FinishFiles", new FinishFiles(ledger,
        watch && sinks.parquet
            ? new ExportFileToParquet(db, def, schema, options.getOutput(),
                compaction(options).withFolderLocks(db)
                    .compactingAfter(options.getCompactAfterFiles()),
                rowGroupBytes(options)) : null,
        watch, options.getWebhookUrl()));
  }

  /** The outputs of a backfill's "WriteRows" step: one per sink of clean rows. */
  static final TupleTag<KV<String, Long>> ROWS_STORED = new TupleTag<>("rowsStored") {};

  static final TupleTag<KV<String, String>> PARQUET_WRITTEN =
      new TupleTag<>("parquetWritten") {};

  static final TupleTag<KV<String, AggregateMeasures.Totals>> PARTIAL_TOTALS =
      new TupleTag<>("partialTotals") {};

  /** Processing-time panes for watch mode: fire about a second after data arrives. */
  static <T> Window<T> inPanes() {
    return Window.<T>configure()
        .triggering(Repeatedly.forever(AfterProcessingTime.pastFirstElementInPane()
            .plusDelayOf(Duration.millis(PANE_DELAY_MILLIS))))
        .discardingFiredPanes()
        .withAllowedLateness(Duration.ZERO)
        .withOnTimeBehavior(Window.OnTimeBehavior.FIRE_IF_NON_EMPTY);
  }

  static final long PANE_DELAY_MILLIS = 1000;

  /** In watch mode, re-applies the pane trigger so that collections can be flattened. */
  static <T> PCollection<T> panes(boolean watch, String name, PCollection<T> c) {
    if (!watch) {
      return c;
    }
    return c.apply(name, LandfallPipeline.<T>inPanes());
  }
}
