package dev.landfall.io.ledger;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.postgres.Database;
import dev.landfall.io.testing.PostgresTestBase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * {@code landfall_runs}: a run is recorded when it starts and when it ends; a run whose process
 * went away (its connection, and with it its lock, gone) is marked abandoned by the next run, and a
 * run still alive is left running.
 */
class RunHistoryTest extends PostgresTestBase {
  private static String row(Database db, long run) throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT status, mode, rows_read, rows_valid, error IS NOT NULL,"
                    + " ended_at IS NOT NULL FROM runs_test.landfall_runs WHERE run_id = "
                    + run)) {
      r.next();
      return r.getString(1)
          + " "
          + r.getString(2)
          + " "
          + r.getObject(3)
          + " "
          + r.getObject(4)
          + " error="
          + r.getBoolean(5)
          + " ended="
          + r.getBoolean(6);
    }
  }

  /** The test database, with the schema {@code runs_test}. */
  private static Database schema() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS runs_test");
    }
    return db;
  }

  @Test
  void runsAreRecordedAndDeadOnesMarkedAbandonedByTheNext() throws Exception {
    Database db = schema();
    RunHistory dead = new RunHistory(db, "runs_test");
    long deadRun = dead.start("billing", "watch", "FlinkRunner", "h1");
    RunHistory alive = new RunHistory(db, "runs_test");
    long aliveRun = alive.start("billing", "backfill", "DirectRunner", "h1");

    dead.close(); // its process went away without recording an end
    RunHistory next = new RunHistory(db, "runs_test");
    long nextRun = next.start("billing", "backfill", "DirectRunner", "h1");

    assertThat(row(db, deadRun), equalTo("abandoned watch null null error=true ended=true"));
    assertThat(row(db, aliveRun), equalTo("running backfill null null error=false ended=false"));
    alive.end("succeeded", new RunHistory.Counts(3, 0, 100, 90, 6, 4), null);
    assertThat(row(db, aliveRun), equalTo("succeeded backfill 100 90 error=false ended=true"));
    next.end("failed", null, "IOException: boom");
    assertThat(row(db, nextRun), equalTo("failed backfill null null error=true ended=true"));
  }

  @Test
  void aSubmittedBackfillEndsWhenItsFilesAreFinishedAndASubmittedWatchDoesNot() throws Exception {
    Database db = schema();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String sql : FileLedger.createStatements("runs_test")) {
        s.execute(sql);
      }
    }
    RunHistory backfill = new RunHistory(db, "runs_test");
    long b = backfill.start("billing", "backfill", "FlinkRunner", "h1");
    backfill.end("submitted", new RunHistory.Counts(0, 0, 0, 0, 0, 0), null);
    RunHistory watch = new RunHistory(db, "runs_test");
    long w = watch.start("billing", "watch", "FlinkRunner", "h1");
    watch.end("submitted", new RunHistory.Counts(0, 0, 0, 0, 0, 0), null);
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO runs_test.landfall_files (dataset, path, size_bytes, status,"
              + " rows_read, rows_valid, rows_duplicate, rows_rejected, finished_at, run_id) VALUES"
              + " ('billing', 'a.csv', 1, 'done', 10, 8, 1, 1, now(), "
              + b
              + "),"
              + " ('billing', 'b.csv', 1, 'processing', NULL, NULL, NULL, NULL, NULL, "
              + b
              + "),"
              + " ('billing', 'c.csv', 1, 'done', 5, 5, 0, 0, now(), "
              + w
              + ")");
    }
    RunHistory status = new RunHistory(db, "runs_test");
    assertThat(status.closeFinishedSubmissions(), equalTo(0));
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "UPDATE runs_test.landfall_files SET status = 'done', rows_read = 4,"
              + " rows_valid = 4, rows_duplicate = 0, rows_rejected = 0, finished_at = now()"
              + " WHERE path = 'b.csv'");
    }
    assertThat(status.closeFinishedSubmissions(), equalTo(1));
    assertThat(row(db, b), equalTo("succeeded backfill 14 12 error=false ended=true"));
    assertThat(row(db, w), equalTo("submitted watch 0 0 error=false ended=true"));
  }

  @Test
  void aSubmittedJobEndsAsTheClusterTells() throws Exception {
    Database db = schema();
    long[] runs = new long[3];
    String[] jobs = {"lf-cancelled", "lf-running", "lf-stopped"};
    for (int i = 0; i < runs.length; i++) {
      RunHistory h = new RunHistory(db, "runs_test");
      runs[i] = h.start("billing", "watch", "FlinkRunner", "h1");
      h.recordFlinkJob(jobs[i]);
      h.end("submitted", new RunHistory.Counts(0, 0, 0, 0, 0, 0), null);
    }
    java.time.Instant ended = java.time.Instant.parse("2026-12-07T10:00:00Z");
    java.util.Map<String, RunHistory.JobEnd> cluster =
        java.util.Map.of(
            "lf-cancelled", new RunHistory.JobEnd("CANCELED", ended),
            "lf-stopped", new RunHistory.JobEnd("FINISHED", ended));
    RunHistory status = new RunHistory(db, "runs_test");
    assertThat(status.closeEndedFlinkJobs(cluster::get), equalTo(2));
    assertThat(row(db, runs[0]), equalTo("cancelled watch 0 0 error=true ended=true"));
    assertThat(row(db, runs[1]), equalTo("submitted watch 0 0 error=false ended=true"));
    assertThat(row(db, runs[2]), equalTo("succeeded watch 0 0 error=false ended=true"));
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT ended_at = '2026-12-07T10:00:00Z', error"
                    + " FROM runs_test.landfall_runs WHERE run_id = "
                    + runs[0])) {
      r.next();
      assertThat(r.getBoolean(1), equalTo(true));
      assertThat(r.getString(2), equalTo("the Flink job lf-cancelled ended CANCELED"));
    }
    assertThat("closed once", status.closeEndedFlinkJobs(cluster::get), equalTo(0));
  }
}
