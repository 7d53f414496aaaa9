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
 * went away (its connection, and with it its lock, gone) is marked abandoned by the next run,
 * and a run still alive is left running.
 */
class RunHistoryTest extends PostgresTestBase {
  private static String row(Database db, long run) throws Exception {
    try (Connection c = db.connect(); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT status, mode, rows_read, rows_valid, error IS NOT NULL,"
            + " ended_at IS NOT NULL FROM runs_test.landfall_runs WHERE run_id = " + run)) {
      r.next();
      return r.getString(1) + " " + r.getString(2) + " " + r.getObject(3) + " " + r.getObject(4)
          + " error=" + r.getBoolean(5) + " ended=" + r.getBoolean(6);
    }
  }

  @Test
  void runsAreRecordedAndDeadOnesMarkedAbandonedByTheNext() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    try (Connection c = db.connect(); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS runs_test");
    }
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
}
