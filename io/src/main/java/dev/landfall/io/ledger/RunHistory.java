package dev.landfall.io.ledger;

import dev.landfall.io.postgres.Database;
import dev.landfall.transforms.definition.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The record of runs, {@code landfall_runs}: one row per run, written when it starts ({@code
 * running}) and when it ends ({@code succeeded}, {@code failed}, or {@code submitted} for a job
 * handed to a cluster), with what it read and how it ended. While a run lasts, a connection of its
 * own holds a PostgreSQL advisory lock on its id: a run whose process died loses the lock with its
 * connection, and the next run to start finds it gone and marks it {@code abandoned}.
 */
public final class RunHistory implements AutoCloseable {
  public static final String TABLE = "landfall_runs";

  /** The first key of the runs' advisory locks ("lf"), the second being the run's id. */
  private static final int LOCK_SPACE = 0x6c66;

  /** What a run read and stored, as its summary counts it. */
  public record Counts(
      long filesRead,
      long filesRejected,
      long rowsRead,
      long rowsValid,
      long rowsDuplicate,
      long rowsRejected) {}

  private final Database db;
  private final String table;

  /** The file ledger of the same schema ({@link FileLedger#TABLE}). */
  private final String files;

  private Connection lock;
  private long run = -1;

  public RunHistory(Database db, String schema) {
    this.db = db;
    this.table =
        Identifiers.quote(Identifiers.check("--dbSchema", schema)) + "." + Identifiers.quote(TABLE);
    this.files = Identifiers.quote(schema) + "." + Identifiers.quote(FileLedger.TABLE);
  }

  /** CREATE TABLE IF NOT EXISTS for the runs, with comments. */
  List<String> createStatements() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + table
            + " ("
            + "run_id bigserial PRIMARY KEY, dataset text NOT NULL, mode text NOT NULL,"
            + " runner text NOT NULL, definition_hash text, status text NOT NULL,"
            + " started_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz,"
            + " files_read bigint, files_rejected bigint, rows_read bigint, rows_valid bigint,"
            + " rows_duplicate bigint, rows_rejected bigint, error text)",
        "COMMENT ON TABLE "
            + table
            + " IS 'One row per landfall run: when, how (mode, runner,"
            + " definition), what it read and stored, how it ended (running, succeeded, failed,"
            + " submitted to a cluster, cancelled on the cluster, or abandoned: its process went"
            + " away).'",
        // Added after the table's first release: the Flink job a submission became.
        "ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS flink_job text",
        "COMMENT ON COLUMN "
            + table
            + ".flink_job IS 'The name of the Flink job a run submitted"
            + " to a cluster became (its --jobName); bin/landfall status --flinkMaster=... asks"
            + " the cluster how it ended.'");
  }

  /** Creates the runs table, or adds to one of an older build what it lacks. */
  private void createOrUpdate(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String sql : createStatements()) {
        s.execute(sql);
      }
    }
  }

  /** Records the name of the Flink job this run submitted to a cluster. */
  public void recordFlinkJob(String jobName) throws SQLException {
    if (run < 0) {
      return;
    }
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement("UPDATE " + table + " SET flink_job = ?" + " WHERE run_id = ?")) {
      s.setString(1, jobName);
      s.setLong(2, run);
      s.executeUpdate();
    }
  }

  /** How a Flink job ended, as the cluster tells it. */
  public record JobEnd(String state, java.time.Instant endedAt) {}

  /**
   * Records the end of runs still {@code submitted} whose Flink job has ended, as {@code jobEnds}
   * (by job name; null: not known to the cluster, or still running) tells it: {@code FINISHED}
   * becomes {@code succeeded} (a watch stopped with a savepoint included), {@code CANCELED} {@code
   * cancelled}, {@code FAILED} {@code failed}, each ended when the job did. Returns how many runs
   * were closed; nothing without the runs table.
   */
  public int closeEndedFlinkJobs(java.util.function.Function<String, JobEnd> jobEnds)
      throws SQLException {
    try (Connection c = db.connect()) {
      if (!Database.tablesExist(c, table)) {
        return 0;
      }
      // A table of an older build gets the flink_job column.
      createOrUpdate(c);
      List<Long> ids = new ArrayList<>();
      List<String> jobs = new ArrayList<>();
      try (Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT run_id, flink_job FROM "
                      + table
                      + " WHERE status = 'submitted' AND flink_job IS NOT NULL ORDER BY run_id")) {
        while (r.next()) {
          ids.add(r.getLong(1));
          jobs.add(r.getString(2));
        }
      }
      int closed = 0;
      for (int i = 0; i < ids.size(); i++) {
        JobEnd end = jobEnds.apply(jobs.get(i));
        if (end == null) {
          continue;
        }
        String status =
            switch (end.state()) {
              case "FINISHED" -> "succeeded";
              case "CANCELED" -> "cancelled";
              case "FAILED" -> "failed";
              default -> null;
            };
        if (status == null) {
          continue;
        }
        try (PreparedStatement u =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET status = ?,"
                    + " ended_at = ?, error = ? WHERE run_id = ? AND status = 'submitted'")) {
          u.setString(1, status);
          u.setObject(
              2, java.time.OffsetDateTime.ofInstant(end.endedAt(), java.time.ZoneOffset.UTC));
          u.setString(
              3,
              status.equals("succeeded")
                  ? null
                  : "the Flink job " + jobs.get(i) + " ended " + end.state());
          u.setLong(4, ids.get(i));
          closed += u.executeUpdate();
        }
      }
      return closed;
    }
  }

  /**
   * Records a run that starts, after marking {@code abandoned} the runs still {@code running} whose
   * process is gone; returns the new run's id and holds its lock until {@link #close}.
   */
  public long start(String dataset, String mode, String runner, String definitionHash)
      throws SQLException {
    lock = db.connect();
    createOrUpdate(lock);
    markAbandoned(lock);
    // The row and its lock in one transaction: another run starting now sees the row only once
    // its lock is held, so it cannot take this run for a dead one.
    lock.setAutoCommit(false);
    try (PreparedStatement s =
            lock.prepareStatement(
                "INSERT INTO "
                    + table
                    + " (dataset, mode, runner, definition_hash, status) VALUES (?, ?, ?, ?, 'running')"
                    + " RETURNING run_id");
        PreparedStatement l = lock.prepareStatement("SELECT pg_advisory_lock(?, ?)")) {
      s.setString(1, dataset);
      s.setString(2, mode);
      s.setString(3, runner);
      s.setString(4, definitionHash);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        run = r.getLong(1);
      }
      l.setInt(1, LOCK_SPACE);
      l.setInt(2, (int) run);
      l.execute();
      lock.commit();
    } finally {
      lock.setAutoCommit(true);
    }
    return run;
  }

  /**
   * Marks {@code abandoned} the runs still {@code running} whose process is gone (as a starting run
   * does; {@code bin/landfall status} too); returns how many. Nothing when there is no runs table
   * yet.
   */
  public int markAbandonedRuns() throws SQLException {
    try (Connection c = db.connect()) {
      if (!Database.tablesExist(c, table)) {
        return 0;
      }
      return markAbandoned(c);
    }
  }

  /**
   * Records the end of backfills submitted to a cluster ({@code submitted}) whose files are all
   * finished: such a job closes its files itself, so when none of the files naming the run is still
   * {@code processing}, the run is over. It becomes {@code succeeded}, ended when its last file
   * was, with the files' counts (a file rejected as a whole counts as a rejected file, as in a
   * run's summary). A watch submitted to a cluster runs until it is stopped and stays {@code
   * submitted}. Returns how many runs were closed; nothing without the two tables.
   */
  public int closeFinishedSubmissions() throws SQLException {
    try (Connection c = db.connect()) {
      if (!Database.tablesExist(c, table, files)) {
        return 0;
      }
      try (Statement s = c.createStatement()) {
        return s.executeUpdate(
            "WITH over AS (SELECT r.run_id, max(f.finished_at) AS ended,"
                + " count(*) AS files, count(*) FILTER (WHERE f.status = 'failed') AS rejected,"
                + " sum(f.rows_read) AS rr, sum(f.rows_valid) AS rv, sum(f.rows_duplicate) AS rd,"
                + " sum(f.rows_rejected) AS rj FROM "
                + table
                + " r JOIN "
                + files
                + " f"
                + " ON f.run_id = r.run_id AND f.dataset = r.dataset"
                + " WHERE r.status = 'submitted' AND r.mode = 'backfill' GROUP BY r.run_id"
                + " HAVING count(*) FILTER (WHERE f.status = 'processing') = 0)"
                + " UPDATE "
                + table
                + " AS t SET status = 'succeeded', ended_at = over.ended,"
                + " files_read = over.files, files_rejected = over.rejected, rows_read = over.rr,"
                + " rows_valid = over.rv, rows_duplicate = over.rd, rows_rejected = over.rj"
                + " FROM over WHERE t.run_id = over.run_id");
      }
    }
  }

  /** The runs still marked running whose lock nobody holds (tried on {@code lock}). */
  private int markAbandoned(Connection lock) throws SQLException {
    int marked = 0;
    List<Long> running = new ArrayList<>();
    try (Statement s = lock.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT run_id FROM " + table + " WHERE status = 'running' ORDER BY run_id")) {
      while (r.next()) {
        running.add(r.getLong(1));
      }
    }
    for (long id : running) {
      boolean gone;
      try (PreparedStatement s = lock.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
        s.setInt(1, LOCK_SPACE);
        s.setInt(2, (int) id);
        try (ResultSet r = s.executeQuery()) {
          r.next();
          gone = r.getBoolean(1);
        }
      }
      if (gone) {
        try (PreparedStatement s =
                lock.prepareStatement(
                    "UPDATE "
                        + table
                        + " SET status ="
                        + " 'abandoned', ended_at = now(), error = 'the run''s process went away before it"
                        + " ended' WHERE run_id = ? AND status = 'running'");
            PreparedStatement u = lock.prepareStatement("SELECT pg_advisory_unlock(?, ?)")) {
          s.setLong(1, id);
          marked += s.executeUpdate();
          u.setInt(1, LOCK_SPACE);
          u.setInt(2, (int) id);
          u.execute();
        }
      }
    }
    return marked;
  }

  /** Records how the run ended ({@code counts} null when it failed before any), then closes. */
  public void end(String status, Counts counts, String error) throws SQLException {
    if (run < 0) {
      return;
    }
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE "
                    + table
                    + " SET status = ?,"
                    + " ended_at = now(), files_read = ?, files_rejected = ?, rows_read = ?,"
                    + " rows_valid = ?, rows_duplicate = ?, rows_rejected = ?, error = ?"
                    + " WHERE run_id = ?")) {
      s.setString(1, status);
      Long[] values =
          counts == null
              ? new Long[6]
              : new Long[] {
                counts.filesRead(),
                counts.filesRejected(),
                counts.rowsRead(),
                counts.rowsValid(),
                counts.rowsDuplicate(),
                counts.rowsRejected()
              };
      for (int i = 0; i < values.length; i++) {
        s.setObject(2 + i, values[i], java.sql.Types.BIGINT);
      }
      s.setString(8, error);
      s.setLong(9, run);
      s.executeUpdate();
    }
    close();
  }

  /** Lets go of the run's lock (its row keeps the status last recorded). */
  @Override
  public void close() throws SQLException {
    if (lock != null) {
      Connection c = lock;
      lock = null;
      c.close();
    }
  }
}
