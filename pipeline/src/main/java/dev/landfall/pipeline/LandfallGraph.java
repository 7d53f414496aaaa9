package dev.landfall.pipeline;

import dev.landfall.io.csv.ReadCsvFiles;
import dev.landfall.io.csv.ReadDeduplicatedCsv;
import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.input.InputRead;
import dev.landfall.io.ledger.ClaimFiles;
import dev.landfall.io.ledger.DropKeysStoredBefore;
import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.ledger.FinishFiles;
import dev.landfall.io.ledger.RecordFileItems;
import dev.landfall.io.parquet.ExportFileToParquet;
import dev.landfall.io.parquet.MarkPartitionsComplete;
import dev.landfall.io.parquet.ParquetCompaction;
import dev.landfall.io.parquet.ReadParquetFiles;
import dev.landfall.io.parquet.ReconcileCompactedFiles;
import dev.landfall.io.parquet.WriteParquetBySize;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.EnrichFromLookups;
import dev.landfall.io.postgres.WriteToPostgres;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.Deduplicated;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.RunRowTasks;
import dev.landfall.transforms.TrackFileCompletion;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.Optional;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.FileIO;
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
 * The landfall graph, built from a checked {@link RunPlan} in five stages, each a method of its own
 * and each made of named composites (the names show in the Flink UI):
 *
 * <ol>
 *   <li>{@link #discover}: the input files, all at once (backfill) or as they land (watch), passed
 *       through the file ledger ({@code DiscoverFiles});
 *   <li>{@link #read}: records typed and validated, file- and row-level dead letters, one row per
 *       key ({@code ReadAndDeduplicateCsv}, or {@code ReadAndValidateCsv} / {@code ReadParquet}
 *       then {@code Deduplicate});
 *   <li>{@link #complete}: dimension attributes from the lookup tables ({@code Enrich}), and in a
 *       later backfill the keys stored by earlier runs left out ({@code DropKeysStoredBefore});
 *   <li>{@link #write}: Parquet for data scientists, PostgreSQL rows and aggregates for analysts
 *       ({@code WriteRows} in a backfill, which hands each row over once to every sink);
 *   <li>{@link #closeFiles}: rejects stored, and each file closed in the ledger once all of its
 *       records are accounted for ({@code RecordFileItems} or {@code TrackFiles}/{@code
 *       FinishFiles}).
 * </ol>
 *
 * <p>In watch mode every grouping fires on processing-time panes ({@link #inPanes}), applied where
 * a stage's outputs meet.
 */
public final class LandfallGraph {
  private static final Logger LOG = LoggerFactory.getLogger(LandfallGraph.class);

  /** The outputs of a backfill's "WriteRows" step: one per sink of clean rows. */
  static final TupleTag<KV<String, Long>> ROWS_STORED = new TupleTag<>("rowsStored") {};

  static final TupleTag<KV<String, String>> PARQUET_WRITTEN = new TupleTag<>("parquetWritten") {};

  /**
   * How long a watch-mode pane waits after its first element. Several groupings follow each other
   * (de-duplication, the closing of files), so this is paid a few times per file: 1 s made a burst
   * of 400 small files wait about 3 s in panes alone.
   */
  static final long PANE_DELAY_MILLIS = 250;

  private LandfallGraph() {}

  /**
   * Adds the whole job to {@code pipeline}, from the plan and what the run's setup resolved (its
   * database and ledger, and what earlier runs left); asks no server anything.
   */
  public static void build(Pipeline pipeline, RunPlan plan, RunResources resources) {
    PCollection<FileIO.ReadableFile> files = discover(pipeline, plan, resources.ledger());
    CleanRows read = read(files, plan);
    PCollection<Row> unique = complete(read.unique, plan, resources);
    Written written = write(unique, plan, resources.database());
    if (resources.ledger().isPresent()) {
      closeFiles(read, written, plan, resources.database().get(), resources.ledger().get());
    }
  }

  /** Stage 1: the input files; the ledger lets through only files not ingested yet. */
  static PCollection<FileIO.ReadableFile> discover(
      Pipeline pipeline, RunPlan plan, Optional<FileLedger> ledger) {
    DatasetDefinition def = plan.definition();
    MatchInputFiles discover =
        new MatchInputFiles(plan.input(), plan.inputGlob())
            .withSuffixes(plan.inputSuffixes())
            .inRange(
                def.partitions.isEmpty() ? null : def.partitions.get(0).name,
                plan.since(),
                plan.until());
    if (plan.watch()) {
      // With a ledger, the watch asks it which files are in flight and which are finished.
      discover =
          ledger.isPresent()
              ? discover.continuously(
                  plan.pollInterval(),
                  plan.stopAfterIdle(),
                  ledger.get()::quietFor,
                  ledger.get()::finishedSince)
              : discover.continuously(plan.pollInterval(), plan.stopAfterIdle(), null);
    }
    if (ledger.isPresent()) {
      discover =
          discover.claimingWith(
              new ClaimFiles(ledger.get(), plan.reingestChanged())
                  .reingestingOlderDefinitions(plan.reingestOlderDefinitions()));
    }
    PCollection<FileIO.ReadableFile> files = pipeline.apply("DiscoverFiles", discover);
    // Unbounded input: every grouping below fires on processing-time panes, so each new file
    // moves through de-duplication and the sinks a fraction of a second after it is read.
    return plan.watch() ? files.apply("IngestionPanes", inPanes()) : files;
  }

  /** What the read stage hands on: one row per key, and what accounts for each file. */
  static final class CleanRows {
    /** The clean rows, one per key. */
    final PCollection<Row> unique;

    /** Dead letters (file and row level). */
    final PCollection<Row> rejects;

    /** Per file, how many items (rows and file rejects) it holds. */
    final PCollection<KV<String, Long>> fileItems;

    /**
     * Per file, rows that lost their key (empty when no step needs them: files closed after the
     * job).
     */
    final Optional<PCollection<KV<String, Long>>> duplicates;

    CleanRows(
        PCollection<Row> unique,
        PCollection<Row> rejects,
        PCollection<KV<String, Long>> fileItems,
        PCollection<KV<String, Long>> duplicates) {
      this.unique = unique;
      this.rejects = rejects;
      this.fileItems = fileItems;
      this.duplicates = Optional.ofNullable(duplicates);
    }
  }

  /**
   * Stage 2: records read, typed and validated, then one row per key (and, for the file ledger, per
   * file the rows that lost). CSV files are validated as they are read, in one step: handing raw
   * records to a step of their own would serialize each of them once per output on Flink. A
   * backfill of CSV files reads them twice instead: keys first, then each file's winning rows, so
   * that no whole row is shuffled ({@link ReadDeduplicatedCsv}). A watch of CSV files packs each
   * file's rows per hash bucket as it reads them, so that de-duplication groups chunks.
   */
  static CleanRows read(PCollection<FileIO.ReadableFile> files, RunPlan plan) {
    DatasetDefinition def = plan.definition();
    boolean watch = plan.watch();
    boolean countDuplicates = plan.postgres() && !plan.finishesFilesAfterJob();
    if (plan.readsTwice()) {
      ReadDeduplicatedCsv.Result read =
          files.apply(
              "ReadAndDeduplicateCsv",
              new ReadDeduplicatedCsv(def)
                  .inBuckets(plan.keyBuckets())
                  .balancedOver(plan.secondPassWorkers()));
      return new CleanRows(
          read.unique(),
          read.rejects(),
          read.fileItems(),
          countDuplicates ? read.duplicates() : null);
    }
    if (plan.parquetInput()) {
      InputRead<Row> read = files.apply("ReadParquet", new ReadParquetFiles(def));
      PCollectionTuple checked = read.read().apply("ParseAndValidate", new ParseAndValidate(def));
      PCollection<Row> rejects =
          PCollectionList.of(panes(watch, "FileRejectPanes", read.rejects()))
              .and(panes(watch, "RowRejectPanes", checked.get(ParseAndValidate.REJECTED)))
              .apply("CollectRejects", Flatten.pCollections())
              .setRowSchema(DatasetSchemas.REJECT);
      return deduplicated(checked.get(ParseAndValidate.CLEAN), rejects, read.fileItems(), plan);
    }
    int packBuckets = watch ? plan.watchBuckets() : 0;
    if (packBuckets > 0) {
      InputRead<KV<Integer, byte[]>> read =
          files.apply("ReadAndValidateCsv", ReadCsvFiles.packedInBuckets(def, packBuckets));
      Deduplicated deduplicated = read.read().apply("Deduplicate", DeduplicateByKey.packed(def));
      return new CleanRows(
          deduplicated.unique(), read.rejects(), read.fileItems(), deduplicated.duplicates());
    }
    InputRead<Row> read = files.apply("ReadAndValidateCsv", ReadCsvFiles.validated(def));
    return deduplicated(read.read(), read.rejects(), read.fileItems(), plan);
  }

  /** One row per key of validated rows (Parquet input, or a CSV watch with --dedupeBuckets=0). */
  private static CleanRows deduplicated(
      PCollection<Row> clean,
      PCollection<Row> rejects,
      PCollection<KV<String, Long>> fileItems,
      RunPlan plan) {
    DeduplicateByKey dedupe =
        new DeduplicateByKey(plan.definition()).inBuckets(plan.dedupeBuckets());
    if (plan.postgres() && !plan.finishesFilesAfterJob()) {
      Deduplicated deduplicated = clean.apply("Deduplicate", dedupe.withDuplicateCounts());
      return new CleanRows(deduplicated.unique(), rejects, fileItems, deduplicated.duplicates());
    }
    return new CleanRows(clean.apply("Deduplicate", dedupe), rejects, fileItems, null);
  }

  /**
   * Stage 3: dimension attributes from the definition's lookup tables (they live in PostgreSQL); in
   * a backfill after earlier runs, the keys the rows table holds from an earlier run are left out,
   * so that the Parquet files do not get a second row for them.
   */
  static PCollection<Row> complete(PCollection<Row> unique, RunPlan plan, RunResources resources) {
    DatasetDefinition def = plan.definition();
    Optional<Database> db = resources.database();
    if (!def.lookups.isEmpty()) {
      if (db.isPresent()) {
        unique =
            unique.apply(
                "Enrich",
                new EnrichFromLookups(db.get(), plan.tables(), plan.lookupRefresh().getMillis()));
      } else {
        LOG.warn("no database: the lookup columns of {} stay empty", def.name);
      }
    }
    if (!plan.watch() && db.isPresent() && plan.parquet() && resources.storedBefore()) {
      unique =
          unique.apply("DropKeysStoredBefore", new DropKeysStoredBefore(db.get(), plan.tables()));
    }
    return unique;
  }

  /** What the write stage hands on to the closing of files. */
  static final class Written {
    /** Per file, rows stored in PostgreSQL (empty without the postgres output). */
    final Optional<PCollection<KV<String, Long>>> rowsStored;

    /** The final Parquet files of a backfill (empty in watch mode or without Parquet). */
    final Optional<PCollection<KV<String, String>>> parquetFiles;

    Written(
        PCollection<KV<String, Long>> rowsStored, PCollection<KV<String, String>> parquetFiles) {
      this.rowsStored = Optional.ofNullable(rowsStored);
      this.parquetFiles = Optional.ofNullable(parquetFiles);
    }
  }

  /**
   * Stage 4: Parquet for data scientists; PostgreSQL rows for analysts. In a backfill the steps
   * that take every clean row run as one step ("WriteRows", see {@link RunRowTasks}), so that each
   * row is handed over once and not once per sink. A watch writes its Parquet files per finished
   * file, in stage 5. The aggregates are not computed here: PostgreSQL computes them from the
   * stored rows, the same way on every path (when a watched file is closed, or after a backfill in
   * {@link AfterJob}), so that percentiles are exact and a group's row depends only on the rows
   * stored, not on the order in which files came.
   */
  static Written write(PCollection<Row> unique, RunPlan plan, Optional<Database> db) {
    DatasetDefinition def = plan.definition();
    boolean watch = plan.watch();
    // Rows that come each input file's rows together are written without a shuffle, into
    // files sized by data.
    WriteParquetBySize parquetBySize =
        plan.parquet() && plan.readsTwice() && plan.parquetShardsPerPartition() == 1
            ? new WriteParquetBySize(
                def, plan.output(), plan.rowGroupBytes(), plan.parquetTargetFileBytes())
            : null;
    WriteToPostgres rowsSink =
        db.map(d -> new WriteToPostgres(d, plan.tables().rows(), plan.dbBatchSize())).orElse(null);
    PCollection<KV<String, String>> parquetWritten = null;
    PCollection<KV<String, Long>> rowsStored = null;
    if (rowsSink != null && !watch) {
      RunRowTasks tasks =
          RunRowTasks.of(ROWS_STORED, WriteToPostgres.storedCoder(), rowsSink.asTask());
      if (parquetBySize != null) {
        tasks =
            tasks.and(PARQUET_WRITTEN, WriteParquetBySize.writtenCoder(), parquetBySize.asTask());
      }
      PCollectionTuple written = unique.apply("WriteRows", tasks);
      rowsStored = written.get(ROWS_STORED);
      parquetWritten = parquetBySize == null ? null : written.get(PARQUET_WRITTEN);
    } else {
      if (parquetBySize != null) {
        parquetWritten = unique.apply("WriteParquet", parquetBySize);
      }
      if (rowsSink != null) {
        rowsStored = unique.apply("WriteRowsToPostgres", rowsSink);
      }
    }
    if (!plan.parquet() || watch) {
      return new Written(rowsStored, null);
    }
    PCollection<KV<String, String>> parquetFiles =
        (parquetWritten != null
                ? parquetWritten
                : unique
                    .apply(
                        "WriteParquet",
                        new WriteParquetPartitions(
                            def,
                            plan.output(),
                            plan.parquetShardsPerPartition(),
                            plan.rowGroupBytes()))
                    .getPerDestinationOutputFilenames())
            .apply(
                "ReconcileCompactedFiles",
                new ReconcileCompactedFiles(
                    db.map(d -> compaction(plan).withFolderLocks(d)).orElse(compaction(plan))));
    parquetFiles.apply(
        "MarkPartitionsComplete",
        new MarkPartitionsComplete(WriteParquetPartitions.datasetFolder(plan.output(), def)));
    return new Written(rowsStored, parquetFiles);
  }

  /** How Parquet files are merged and kept consistent with merged files (--parquet* options). */
  static ParquetCompaction compaction(RunPlan plan) {
    return new ParquetCompaction(plan.parquetTargetFileBytes(), plan.rowGroupBytes());
  }

  /**
   * Stage 5 (with the postgres output): rejects stored; a backfill records each file's item count
   * and {@link AfterJob} closes the files when the job is done. Otherwise each file is closed in
   * the ledger once every one of its records is stored or counted as a duplicate (and, in a
   * backfill, once the Parquet files are final); a watch also exports the file's rows to Parquet
   * then.
   */
  static void closeFiles(
      CleanRows read, Written written, RunPlan plan, Database db, FileLedger ledger) {
    DatasetDefinition def = plan.definition();
    boolean watch = plan.watch();
    PCollection<KV<String, Long>> rejectsStored =
        panes(watch, "RejectPanes", read.rejects)
            .apply(
                "WriteRejectsToPostgres",
                new WriteToPostgres(db, plan.tables().rejects(), plan.dbBatchSize()));
    if (plan.finishesFilesAfterJob()) {
      // Joining the item counts with counts taken after the sinks, as below, would make Flink's
      // batch execution write every record to disk before validating it.
      read.fileItems.apply("RecordFileItems", new RecordFileItems(ledger));
      return;
    }
    // In watch mode the counts that meet here get the same panes again: a grouping upstream
    // (de-duplication) leaves a trigger of its own, and only equal triggers can be joined.
    PCollection<KV<String, Long>> accounted =
        PCollectionList.of(panes(watch, "RowsStoredPanes", written.rowsStored.orElseThrow()))
            .and(panes(watch, "RejectsStoredPanes", rejectsStored))
            .and(panes(watch, "DuplicatePanes", read.duplicates.orElseThrow()))
            .apply("CollectAccounted", Flatten.pCollections());
    PCollection<KV<String, Long>> completed =
        PCollectionTuple.of(
                TrackFileCompletion.EXPECTED, panes(watch, "FileItemPanes", read.fileItems))
            .and(TrackFileCompletion.ACCOUNTED, accounted)
            .apply("TrackFiles", new TrackFileCompletion());
    if (written.parquetFiles.isPresent()) {
      completed = completed.apply("AfterParquetIsFinal", Wait.on(written.parquetFiles.get()));
    }
    completed.apply(
        "FinishFiles",
        new FinishFiles(
            ledger,
            watch && plan.parquet()
                ? FinishFiles.BeforeDone.parquet(
                    new ExportFileToParquet(
                        db,
                        plan.tables(),
                        plan.output(),
                        compaction(plan)
                            .withFolderLocks(db)
                            .compactingAfter(plan.compactAfterFiles()),
                        plan.rowGroupBytes()))
                : FinishFiles.BeforeDone.NOTHING,
            plan.webhookUrl()));
  }

  /** Processing-time panes for watch mode: fire a quarter of a second after data arrives. */
  static <T> Window<T> inPanes() {
    return Window.<T>configure()
        .triggering(
            Repeatedly.forever(
                AfterProcessingTime.pastFirstElementInPane()
                    .plusDelayOf(Duration.millis(PANE_DELAY_MILLIS))))
        .discardingFiredPanes()
        .withAllowedLateness(Duration.ZERO)
        .withOnTimeBehavior(Window.OnTimeBehavior.FIRE_IF_NON_EMPTY);
  }

  /** In watch mode, re-applies the pane trigger so that collections can be flattened. */
  static <T> PCollection<T> panes(boolean watch, String name, PCollection<T> c) {
    return watch ? c.apply(name, LandfallGraph.<T>inPanes()) : c;
  }
}
