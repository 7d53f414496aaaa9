package dev.landfall.io.postgres;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A definition that changes between runs: what is altered in place, and what is refused. */
class SchemaEvolutionTest extends PostgresTestBase {

  /** Version 1: {@code note} required, {@code qty} an int, {@code amount} decimal(10,2). */
  private static final String V1 =
      "{\"name\": \"orders\", \"fields\": ["
          + "{\"name\": \"id\", \"type\": \"long\"},"
          + "{\"name\": \"day\", \"type\": \"date\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"int\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\", \"required\": true},"
          + "{\"name\": \"note\", \"type\": \"string\", \"required\": true}],"
          + " \"key\": [\"id\"],"
          + " \"aggregates\": {\"groupBy\": [\"day\"], \"measures\": {\"amount\": [\"sum\"]}},"
          + " \"views\": [{\"name\": \"daily\", \"sql\": \"SELECT day, sum(qty) AS qty FROM ${rows}"
          + " GROUP BY day\"}]}";

  /**
   * Version 2: {@code region} added, {@code qty} int→long, {@code amount} decimal(10,2)→(14,2),
   * {@code day} date→timestamp, {@code note} removed, {@code amount} gets max, the view changes.
   */
  private static final String V2 =
      "{\"name\": \"orders\", \"fields\": ["
          + "{\"name\": \"id\", \"type\": \"long\"},"
          + "{\"name\": \"day\", \"type\": \"timestamp\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"long\", \"description\": \"Units ordered.\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(14,2)\", \"required\": true},"
          + "{\"name\": \"region\", \"type\": \"string\"}],"
          + " \"key\": [\"id\"],"
          + " \"aggregates\": {\"groupBy\": [\"day\"], \"measures\": {\"amount\": [\"sum\", \"max\"]}},"
          + " \"views\": [{\"name\": \"daily\", \"sql\": \"SELECT day, region, sum(qty) AS qty"
          + " FROM ${rows} GROUP BY day, region\"}]}";

  @Test
  void aChangedDefinitionWidensAddsAndKeepsColumnsAndRebuildsAggregates() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    DatasetDefinition v1 = DatasetDefinition.fromJson(V1);
    DatasetDefinition v2 = DatasetDefinition.fromJson(V2);
    assertThat(
        "a new schema has nothing to change",
        PostgresTables.createAll(db, DatasetTables.of(v1, "evolve"), FileLedger::createTables),
        empty());
    execute(
        db,
        "INSERT INTO evolve.orders (id, day, qty, amount, note, source_file, source_line)"
            + " VALUES (1, '2024-01-01', 3, 10.50, 'a', 'f1', 2), (2, '2024-01-01', 4, 1.25, 'b',"
            + " 'f1', 3), (3, '2024-01-02', NULL, 7.00, 'c', 'f1', 4)");

    List<SchemaEvolution.Change> changes =
        PostgresTables.createAll(db, DatasetTables.of(v2, "evolve"), FileLedger::createTables);

    List<String> kinds = new ArrayList<>();
    for (SchemaEvolution.Change change : changes) {
      kinds.add(change.change + " " + change.column);
    }
    assertThat(
        kinds,
        equalTo(
            List.of(
                "type_widened day",
                "type_widened qty",
                "type_widened amount",
                "column_added region",
                "column_kept note",
                "aggregates_rebuilt null",
                "comment_changed qty")));
    assertThat(
        query(
            db,
            "SELECT string_agg(column_name || ' ' || data_type || ' '"
                + " || is_nullable, ', ' ORDER BY ordinal_position) FROM information_schema.columns"
                + " WHERE table_schema = 'evolve' AND table_name = 'orders'"),
        equalTo(
            "id bigint NO, day timestamp with time zone NO, qty bigint YES, amount numeric NO,"
                + " note text YES, source_file text NO, source_line bigint NO, region text YES"));
    assertThat(
        "the rows stored before keep their values; a date becomes midnight UTC",
        query(
            db,
            "SET TIME ZONE 'UTC'; SELECT string_agg(id || ' ' || day || ' ' ||"
                + " coalesce(qty::text, '-') || ' ' || amount || ' ' || note || ' '"
                + " || coalesce(region, '-'), ', ' ORDER BY id) FROM evolve.orders"),
        equalTo(
            "1 2024-01-01 00:00:00+00 3 10.50 a -, 2 2024-01-01 00:00:00+00 4 1.25 b -,"
                + " 3 2024-01-02 00:00:00+00 - 7.00 c -"));
    assertThat(
        query(
            db,
            "SELECT numeric_precision FROM information_schema.columns WHERE"
                + " table_schema = 'evolve' AND table_name = 'orders' AND column_name = 'amount'"),
        equalTo("14"));
    assertThat(
        "aggregates recomputed with the new measure",
        query(
            db,
            "SET TIME ZONE 'UTC';"
                + " SELECT string_agg(day || ' ' || row_count || ' ' || amount_sum || ' ' || amount_max,"
                + " ', ' ORDER BY day) FROM evolve.orders_agg"),
        equalTo("2024-01-01 00:00:00+00 2 11.75 10.50, 2024-01-02 00:00:00+00 1 7.00 7.00"));
    assertThat(
        "the view has the new column",
        query(
            db,
            "SELECT string_agg(coalesce(region,"
                + " '-') || ' ' || coalesce(qty::text, 'null'), ', ' ORDER BY day) FROM evolve.daily"),
        equalTo("- 7, - null"));
    assertThat(
        query(db, "SELECT col_description('evolve.orders'::regclass, 3)"),
        equalTo("Units ordered."));
    execute(
        db,
        "INSERT INTO evolve.orders (id, day, qty, amount, region, source_file,"
            + " source_line) VALUES (4, '2024-01-03', 5000000000, 123456789012.34, 'eu', 'f2', 2)");
    assertThat(
        "recorded: each definition once, then each change",
        query(
            db,
            "SELECT string_agg(change || ' ' || coalesce(column_name, '-') || ' '"
                + " || (definition IS NOT NULL), ', ' ORDER BY id) FROM evolve.landfall_schema_changes"),
        equalTo(
            "definition - true, definition - true, type_widened day false, type_widened qty"
                + " false, type_widened amount false, column_added region false, column_kept note"
                + " false, aggregates_rebuilt - false, comment_changed qty false"));

    assertThat(
        "the same definition again changes nothing",
        PostgresTables.createAll(db, DatasetTables.of(v2, "evolve"), FileLedger::createTables),
        empty());
    assertThat(query(db, "SELECT count(*) FROM evolve.landfall_schema_changes"), equalTo("9"));
  }

  @Test
  void aNarrowingOrAnotherKeyIsRefusedAndNothingIsAltered() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    DatasetDefinition v2 = DatasetDefinition.fromJson(V2);
    PostgresTables.createAll(db, DatasetTables.of(v2, "refuse"), FileLedger::createTables);
    String before = columns(db, "refuse");
    // qty back to int, and a new column: the narrowing refuses the whole change.
    DatasetDefinition narrower =
        DatasetDefinition.fromJson(
            V2.replace(
                    "{\"name\": \"qty\", \"type\": \"long\"",
                    "{\"name\": \"qty\", \"type\": \"int\"")
                .replace(
                    "{\"name\": \"region\", \"type\": \"string\"}",
                    "{\"name\": \"region\", \"type\": \"string\"}, {\"name\": \"extra\", \"type\": \"int\"}"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PostgresTables.createAll(
                    db, DatasetTables.of(narrower, "refuse"), FileLedger::createTables));
    assertThat(
        e.getMessage(),
        allOf(
            containsString("'qty'"),
            containsString("holds long"),
            containsString("says int"),
            containsString(SchemaEvolution.hash(narrower)),
            containsString("definition " + SchemaEvolution.hash(v2)),
            containsString("nothing was altered")));
    assertThat(columns(db, "refuse"), equalTo(before));

    DatasetDefinition otherKey =
        DatasetDefinition.fromJson(
            V2.replace("\"key\": [\"id\"]", "\"key\": [\"id\", \"region\"]"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PostgresTables.createAll(
                    db, DatasetTables.of(otherKey, "refuse"), FileLedger::createTables));
    assertThat(
        e.getMessage(),
        allOf(containsString("'key'"), containsString("[id]"), containsString("[id, region]")));

    DatasetDefinition text =
        DatasetDefinition.fromJson(
            V2.replace(
                "{\"name\": \"amount\", \"type\": \"decimal(14,2)\"",
                "{\"name\": \"amount\", \"type\": \"decimal(14,3)\""));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PostgresTables.createAll(
                    db, DatasetTables.of(text, "refuse"), FileLedger::createTables));
    assertThat(
        e.getMessage(),
        allOf(
            containsString("'amount'"),
            containsString("holds decimal(14,2)"),
            containsString("says decimal(14,3)")));
    assertThat(columns(db, "refuse"), equalTo(before));
    assertThat(query(db, "SELECT count(*) FROM refuse.landfall_schema_changes"), equalTo("1"));

    // A view landfall does not own reads amount: widening it is refused with PostgreSQL's reason.
    execute(db, "CREATE VIEW refuse.mine AS SELECT amount FROM refuse.orders");
    DatasetDefinition wider =
        DatasetDefinition.fromJson(
            V2.replace(
                "{\"name\": \"amount\", \"type\": \"decimal(14,2)\"",
                "{\"name\": \"amount\", \"type\": \"decimal(16,2)\""));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                PostgresTables.createAll(
                    db, DatasetTables.of(wider, "refuse"), FileLedger::createTables));
    assertThat(
        e.getMessage(),
        allOf(
            containsString("type_widened orders.amount"),
            containsString("mine"),
            containsString("Nothing was altered")));
    execute(db, "DROP VIEW refuse.mine");
    assertThat(columns(db, "refuse"), equalTo(before));
  }

  private static String columns(Database db, String schema) throws SQLException {
    return query(
        db,
        "SELECT string_agg(table_name || '.' || column_name || ' ' || data_type"
            + " || ' ' || is_nullable, ', ' ORDER BY table_name, ordinal_position)"
            + " FROM information_schema.columns WHERE table_schema = '"
            + schema
            + "'");
  }

  private static void execute(Database db, String sql) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String query(Database db, String sql) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      String[] parts = sql.split(";\\s*(?=SELECT)");
      for (int i = 0; i < parts.length - 1; i++) {
        s.execute(parts[i]);
      }
      try (ResultSet r = s.executeQuery(parts[parts.length - 1])) {
        r.next();
        return r.getString(1);
      }
    }
  }

  @Test
  void theShippedBillingDefinitionKeepsItsHash() {
    // The ledger records each file with this hash; a build that changed it would count every file
    // as ingested under an older definition. It changes only with the definition's JSON fields.
    // (Pinned from the build of 2026-12-08 before the resolved column model, ac9a3c0.)
    assertThat(
        SchemaEvolution.hash(DatasetDefinition.builtIn("billing")), equalTo("469f07328bdb9f7e"));
  }
}
