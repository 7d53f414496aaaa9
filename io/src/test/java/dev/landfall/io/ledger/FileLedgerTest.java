package dev.landfall.io.ledger;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Files closed together: one transaction, the same counts and aggregates as one by one. */
class FileLedgerTest extends PostgresTestBase {
  private static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");

  @Test
  void filesFinishedTogetherGetTheCountsAndAggregatesOfFilesFinishedOneByOne() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    List<String> together = List.of("/in/date=2024-01-01/a.csv", "/in/date=2024-01-01/b.csv",
        "/in/date=2024-01-02/c.csv");
    List<String> oneByOne = List.of("/in/date=2024-01-01/a.csv", "/in/date=2024-01-01/b.csv",
        "/in/date=2024-01-02/c.csv");
    String[] schemas = {"together", "one_by_one"};
    List<List<String>> results = new ArrayList<>();
    for (String schema : schemas) {
      PostgresTables.createAll(db, DEF, schema, FileLedger::createTables);
      FileLedger ledger = new FileLedger(db, DEF, schema);
      List<String> files = schema.equals("together") ? together : oneByOne;
      List<Long> items = new ArrayList<>();
      for (int f = 0; f < files.size(); f++) {
        ledger.claim(files.get(f), 100, Instant.parse("2024-01-03T00:00:00Z"), null, false);
        // File f stores 10 + f rows (one more item each, counted as a duplicate).
        insertRows(db, schema, files.get(f), 10 + f);
        items.add(11L + f);
      }
      if (schema.equals("together")) {
        List<String> events = ledger.finishAll(files, items, true);
        assertThat(events, hasSize(3));
        for (int f = 0; f < files.size(); f++) {
          assertThat("events in the order of the files", events.get(f),
              containsString(files.get(f)));
        }
      } else {
        for (int f = 0; f < files.size(); f++) {
          ledger.finish(files.get(f), items.get(f), true);
        }
      }
      results.add(query(db, "SELECT string_agg(path || ' ' || status || ' ' || rows_read || ' '"
          + " || rows_valid || ' ' || rows_duplicate, ', ' ORDER BY path) FROM " + schema
          + ".landfall_files"));
      results.add(query(db, "SELECT string_agg(date || ' ' || service || ' ' || currency || ' '"
          + " || row_count || ' ' || cost_sum || ' ' || cost_p90, ', '"
          + " ORDER BY date, service, currency) FROM " + schema + ".billing_agg"));
    }
    assertThat(results.get(0).get(0), containsString("/in/date=2024-01-02/c.csv done 13 12 1"));
    assertThat(results.get(1).get(0), containsString("2024-01-02 compute USD 12"));
    assertThat("ledger", results.get(0), equalTo(results.get(2)));
    assertThat("aggregates", results.get(1), equalTo(results.get(3)));
  }

  @Test
  void olderDefinitionsAreReadAgainOnlyWhenAsked() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DEF, "older", FileLedger::createTables);
    String file = "/in/date=2024-01-01/a.csv";
    Instant modified = Instant.parse("2024-01-03T00:00:00Z");
    FileLedger v1 = new FileLedger(db, DEF, "older");
    assertThat(v1.claim(file, 100, modified, null, false), equalTo(FileLedger.Claim.INGEST));
    insertRows(db, "older", file, 5);
    v1.finish(file, 5, true);

    String json;
    try (java.io.InputStream in = DatasetDefinition.class.getResourceAsStream(
        "/datasets/billing.json")) {
      json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    DatasetDefinition changed = DatasetDefinition.fromJson(
        json.replace("Cloud billing feed", "Changed billing feed"));
    PostgresTables.createAll(db, changed, "older", FileLedger::createTables);
    FileLedger v2 = new FileLedger(db, changed, "older");
    assertThat("not asked", v2.claim(file, 100, modified, null, false, false),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat("the same definition", v1.claim(file, 100, modified, null, false, true),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(v2.claim(file, 100, modified, null, false, true),
        equalTo(FileLedger.Claim.REINGEST));
    assertThat("its rows are replaced", query(db, "SELECT count(*) FROM older.billing"),
        equalTo(List.of("0")));
    assertThat(query(db, "SELECT status || ' ' || definition_hash FROM older.landfall_files"),
        equalTo(List.of("processing " + dev.landfall.io.postgres.SchemaEvolution.hash(changed))));
  }

  private static void insertRows(Database db, String schema, String file, int n) throws Exception {
    String date = file.substring(file.indexOf("date=") + 5, file.indexOf("date=") + 15);
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement("INSERT INTO "
        + schema + ".billing (date, event_id, event_time, account_id, service, cost, currency,"
        + " source_file, source_line) VALUES (?::date, ?, now(), 'acct', 'compute', ?, 'USD',"
        + " ?, ?)")) {
      for (int i = 0; i < n; i++) {
        s.setString(1, date);
        s.setString(2, file + "#" + i);
        s.setBigDecimal(3, new java.math.BigDecimal(i + ".5000"));
        s.setString(4, file);
        s.setLong(5, i + 2);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private static List<String> query(Database db, String sql) throws Exception {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(sql);
        ResultSet r = s.executeQuery()) {
      r.next();
      return List.of(String.valueOf(r.getString(1)));
    }
  }
}
