package dev.landfall.pipeline;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import java.util.Optional;

/**
 * What a run's setup resolved before its graph is built ({@link RunSetup#resources}): the job's
 * database and the run's one file ledger (both absent when the run writes Parquet only), and the
 * facts about earlier runs that the graph and the work after the job depend on. Building the graph
 * from it asks no server anything ({@link LandfallGraph#build}).
 */
final class RunResources {
  private final Database db;
  private final FileLedger ledger;
  private final boolean storedBefore;
  private final long finishedBefore;

  private RunResources(Database db, FileLedger ledger, boolean storedBefore, long finishedBefore) {
    this.db = db;
    this.ledger = ledger;
    this.storedBefore = storedBefore;
    this.finishedBefore = finishedBefore;
  }

  /** A run without the postgres output: no database, no ledger, nothing stored before. */
  static RunResources parquetOnly() {
    return new RunResources(null, null, false, -1);
  }

  /**
   * A run with the postgres output.
   *
   * @param db the database the job's steps use (retrying through outages, {@code --dbMaxOutage})
   * @param ledger the run's file ledger, on {@code db}
   * @param storedBefore whether earlier runs may have left rows in the rows table ({@link
   *     FileLedger#storedBefore}), read before this run claimed anything
   * @param finishedBefore in watch mode, the files the ledger held as finished when the run started
   *     (the summary's "ingested earlier"); -1 in a backfill
   */
  static RunResources withDatabase(
      Database db, FileLedger ledger, boolean storedBefore, long finishedBefore) {
    if (db == null || ledger == null) {
      throw new IllegalArgumentException("a run with the postgres output needs both");
    }
    return new RunResources(db, ledger, storedBefore, finishedBefore);
  }

  /** The database of the postgres output, if the run has one. */
  Optional<Database> database() {
    return Optional.ofNullable(db);
  }

  /** The run's file ledger, if the run has the postgres output. */
  Optional<FileLedger> ledger() {
    return Optional.ofNullable(ledger);
  }

  /** Whether earlier runs may have left rows in the rows table. */
  boolean storedBefore() {
    return storedBefore;
  }

  /** In watch mode, the files finished before this run started; -1 otherwise. */
  long finishedBefore() {
    return finishedBefore;
  }
}
