package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.postgres.TableSpec;
import dev.landfall.io.postgres.WriteToPostgres;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The COPY + merge sink against a real PostgreSQL: content, idempotence, hostile values. */
class WriteToPostgresTest extends PostgresTestBase {
  static Database db;

  @BeforeAll
  static void connect() {
    db = new Database(postgres.jdbcUrl(), "postgres");
  }

  /** Writes the rows through the sink in batches of 7; returns the finished run (its metrics). */
  private static org.apache.beam.sdk.PipelineResult write(TableSpec spec, List<Row> rows) {
    Pipeline p = ReadCsvFilesTest.pipeline();
    p.apply(Create.of(rows).withRowSchema(DatasetSchemas.REJECT))
        .apply(new WriteToPostgres(db, spec, 7));
    org.apache.beam.sdk.PipelineResult result = p.run();
    result.waitUntilFinish();
    return result;
  }

  /**
   * New keys go by plain COPY; a batch meeting stored keys falls back to the staging merge, and the
   * table ends the same: the old rows kept, the new ones added, each key once.
   */
  @Test
  void batchesOfNewKeysAreCopiedAndBatchesMeetingStoredKeysAreMerged() throws Exception {
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    PostgresTables.createAll(db, DatasetTables.of(def, "sink_paths"), FileLedger::createTables);
    TableSpec spec = PostgresTables.rejects(def, "sink_paths");
    List<Row> first = new ArrayList<>();
    List<Row> second = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      first.add(Rejects.of("/f.csv", i, "type", "cost", "first " + i, null));
    }
    for (int i = 20; i < 60; i++) {
      second.add(Rejects.of("/f.csv", i, "type", "cost", "second " + i, null));
    }
    org.apache.beam.sdk.PipelineResult one = write(spec, first);
    assertThat(counter(one, "batches-copied-billing_rejects") >= 6, equalTo(true));
    assertThat(counter(one, "batches-merged-billing_rejects"), equalTo(0L));
    org.apache.beam.sdk.PipelineResult two = write(spec, second);
    assertThat(counter(two, "batches-merged-billing_rejects") >= 1, equalTo(true));
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), count(DISTINCT line_number),"
                    + " count(*) FILTER (WHERE message LIKE 'first%'),"
                    + " count(*) FILTER (WHERE message LIKE 'second%') FROM sink_paths.billing_rejects")) {
      r.next();
      assertThat(r.getLong(1), equalTo(60L));
      assertThat(r.getLong(2), equalTo(60L));
      assertThat(r.getLong(3), equalTo(40L));
      assertThat(r.getLong(4), equalTo(20L));
    }
  }

  private static long counter(org.apache.beam.sdk.PipelineResult result, String name) {
    return JobCounters.sum(result, WriteToPostgres.class, name);
  }

  @Test
  void writingTheSameRowsTwiceLeavesOneCopyAndHostileTextIsData() throws Exception {
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    PostgresTables.createAll(db, DatasetTables.of(def, "sink_test"), FileLedger::createTables);
    TableSpec spec = PostgresTables.rejects(def, "sink_test");
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      rows.add(
          Rejects.of(
              "/f.csv",
              i,
              "type",
              "cost",
              "bad \"value\", it's\nmulti-line",
              i % 2 == 0 ? null : "'); DROP TABLE sink_test.billing; --"));
    }
    write(spec, rows);
    write(spec, rows);
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), count(raw), min(message), max(raw),"
                    + " (SELECT count(*) FROM sink_test.billing) FROM sink_test.billing_rejects")) {
      r.next();
      assertThat(r.getLong(1), equalTo(50L));
      assertThat(r.getLong(2), equalTo(25L));
      assertThat(r.getString(3), equalTo("bad \"value\", it's\nmulti-line"));
      assertThat(r.getString(4), equalTo("'); DROP TABLE sink_test.billing; --"));
      assertThat(r.getLong(5), equalTo(0L));
    }
  }
}
