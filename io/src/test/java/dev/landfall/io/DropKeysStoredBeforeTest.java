package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.ledger.DropKeysStoredBefore;
import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import dev.landfall.transforms.values.DatasetSchemas;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;

/**
 * A later backfill drops the rows whose key an earlier run stored (a key of a date, a timestamp and
 * a number, looked up through their text), and keeps the keys this run is storing itself.
 */
class DropKeysStoredBeforeTest extends PostgresTestBase {
  private static final String DEF =
      "{\"name\": \"events\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"at\", \"type\": \"timestamp\", \"required\": true},"
          + "{\"name\": \"id\", \"type\": \"long\", \"required\": true},"
          + "{\"name\": \"note\", \"type\": \"string\"}],"
          + " \"key\": [\"day\", \"at\", \"id\"]}";

  @Test
  void keysStoredByEarlierRunsAreDroppedAndCountedAsDuplicates() throws Exception {
    DatasetDefinition def = DatasetDefinition.fromJson(DEF);
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DatasetTables.of(def, "later"), FileLedger::createTables);
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO later.landfall_files (dataset, path, size_bytes, status) VALUES"
              + " ('events', '/old.csv', 1, 'done'), ('events', '/now.csv', 1, 'processing')");
      s.execute(
          "INSERT INTO later.events (day, at, id, note, source_file, source_line) VALUES"
              + " ('2024-03-01', '2024-03-01T10:00:00.123456Z', 1, 'old', '/old.csv', 2),"
              + " ('2024-03-01', '2024-03-01T10:00:00Z', 2, 'old', '/old.csv', 3),"
              + " ('2024-03-01', '2024-03-01T10:00:00Z', 3, 'this run', '/now.csv', 2)");
    }
    List<Row> rows =
        RowParquetSinkTest.rows(
            def,
            "2024-03-01T10:00:00.123456Z,1,again",
            "2024-03-01T10:00:01Z,2,other time",
            "2024-03-01T10:00:00Z,3,this run",
            "2024-03-01T10:00:00Z,4,new");

    Pipeline p = ReadCsvFilesTest.pipeline();
    PCollection<String> kept =
        p.apply(Create.of(rows).withRowSchema(DatasetSchemas.clean(def)))
            .apply(new DropKeysStoredBefore(db, DatasetTables.of(def, "later")))
            .apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(r -> r.getInt64("id") + " " + r.getString("note")));
    PAssert.that(kept).containsInAnyOrder("2 other time", "3 this run", "4 new");
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertThat(JobCounters.sum(result, DropKeysStoredBefore.class, "rows-duplicate"), equalTo(1L));
    assertThat(JobCounters.sum(result, DropKeysStoredBefore.class, "rows-valid"), equalTo(-1L));
  }
}
