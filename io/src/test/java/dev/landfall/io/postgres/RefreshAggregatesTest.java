package dev.landfall.io.postgres;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.not;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Aggregate groups recomputed one by one (watch mode) give exactly what one grouped scan of the
 * rows table gives; a group left without rows is deleted and the groups not listed are left alone.
 */
class RefreshAggregatesTest extends PostgresTestBase {
  private static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  private static final String SCHEMA = "refresh_groups";

  @Test
  void groupsRecomputedOneByOneEqualAWholeTableRecompute() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DatasetTables.of(DEF, SCHEMA), (c, schema) -> {});
    // Two days, three services, two currencies: 12 groups over 3 files; file "c" alone holds
    // the group (2024-01-02, network, EUR).
    insert(db, "/in/date=2024-01-01/a.csv", "2024-01-01", 300, new String[] {"compute", "storage"});
    insert(db, "/in/date=2024-01-02/b.csv", "2024-01-02", 200, new String[] {"compute", "storage"});
    insert(db, "/in/date=2024-01-02/c.csv", "2024-01-02", 50, new String[] {"network"});
    execute(db, recomputeAll());
    List<String> whole = aggregates(db);
    assertThat(whole, hasSize(10));

    // Clear the aggregates of the groups of files b and c, then recompute only those groups.
    execute(
        db,
        "UPDATE "
            + SCHEMA
            + ".billing_agg SET row_count = 0, cost_sum = 0,"
            + " cost_p90 = 0 WHERE date = '2024-01-02'");
    assertThat(aggregates(db), not(equalTo(whole)));
    execute(
        db,
        PostgresTables.refreshAggregateGroupsSql(
            DEF,
            SCHEMA,
            "SELECT DISTINCT date,"
                + " service, currency FROM "
                + SCHEMA
                + ".billing WHERE source_file IN"
                + " ('/in/date=2024-01-02/b.csv', '/in/date=2024-01-02/c.csv')"));
    assertThat(aggregates(db), equalTo(whole));

    // File c's rows removed: its groups are recomputed from what is left (none), so deleted.
    execute(
        db,
        "CREATE TABLE "
            + SCHEMA
            + ".regroup AS SELECT DISTINCT date, service, currency"
            + " FROM "
            + SCHEMA
            + ".billing WHERE source_file = '/in/date=2024-01-02/c.csv'");
    assertThat(query(db, "SELECT count(*) FROM " + SCHEMA + ".regroup"), equalTo("2"));
    execute(
        db, "DELETE FROM " + SCHEMA + ".billing WHERE source_file = '/in/date=2024-01-02/c.csv'");
    execute(
        db,
        PostgresTables.refreshAggregateGroupsSql(
            DEF, SCHEMA, "SELECT * FROM " + SCHEMA + ".regroup"));
    List<String> after = aggregates(db);
    assertThat(after, hasSize(8));
    execute(db, recomputeAll());
    assertThat(aggregates(db), equalTo(after));
  }

  @Test
  void percentilesPickedThroughTheIndexEqualPercentileDiscForEveryGroupSize() throws Exception {
    String schema = "refresh_pctl";
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DatasetTables.of(DEF, schema), (c, sch) -> {});
    for (String ddl : PostgresTables.percentileIndexes(DEF, schema)) {
      execute(db, ddl);
    }
    // Groups of 3 to 40 rows (a currency holds every third row), with ties: many nearest ranks,
    // including those where 0.9 * n is a whole number in decimal but not in binary.
    for (int d = 1; d <= 28; d++) {
      String date = String.format("2024-02-%02d", d);
      insert(db, schema, "/in/date=" + date + "/a.csv", date, d * 2 + 5, new String[] {"compute"});
    }
    execute(db, PostgresTables.refreshAllAggregatesSql(DEF, schema));
    List<String> whole = aggregates(db, schema);
    execute(db, "UPDATE " + schema + ".billing_agg SET cost_p90 = -1, cost_sum = 0");
    execute(
        db,
        PostgresTables.refreshAggregateGroupsSql(
            DEF, schema, "SELECT DISTINCT date, service, currency FROM " + schema + ".billing"));
    assertThat(aggregates(db, schema), equalTo(whole));
    assertThat(whole, hasSize(56));
  }

  @Test
  void theAllGroupsRefreshEqualsTheGroupedOneAndDeletesGroupsWithoutRows() throws Exception {
    String schema = "refresh_all";
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DatasetTables.of(DEF, schema), (c, sch) -> {});
    insert(
        db,
        schema,
        "/in/date=2024-01-01/a.csv",
        "2024-01-01",
        300,
        new String[] {"compute", "storage"});
    insert(db, schema, "/in/date=2024-01-02/c.csv", "2024-01-02", 50, new String[] {"network"});
    execute(db, PostgresTables.refreshAllAggregatesSql(DEF, schema));
    List<String> all = aggregates(db, schema);
    execute(
        db,
        PostgresTables.refreshAggregatesSql(
            DEF, schema, "SELECT DISTINCT date, service, currency FROM " + schema + ".billing"));
    assertThat(aggregates(db, schema), equalTo(all));
    assertThat(all, hasSize(6));
    execute(db, "DELETE FROM " + schema + ".billing WHERE date = '2024-01-02'");
    execute(db, PostgresTables.refreshAllAggregatesSql(DEF, schema));
    assertThat(aggregates(db, schema), hasSize(4));
  }

  @Test
  void aTableWithSketchedPercentilesIsRecomputedOnceWhenTheTablesAreChecked() throws Exception {
    String schema = "refresh_upgrade";
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    DatasetTables tables = DatasetTables.of(DEF, schema);
    PostgresTables.createAll(db, tables, (c, sch) -> {});
    insert(
        db,
        schema,
        "/in/date=2024-01-01/a.csv",
        "2024-01-01",
        300,
        new String[] {"compute", "storage"});
    execute(db, PostgresTables.refreshAllAggregatesSql(DEF, schema));
    List<String> exact = aggregates(db, schema);
    // As an earlier build left it: a p90 from a sketch, and the comment that says so.
    execute(db, "UPDATE " + schema + ".billing_agg SET cost_p90 = cost_p90 + 0.5");
    execute(
        db,
        "COMMENT ON COLUMN "
            + schema
            + ".billing_agg.cost_p90 IS 'Approximate (KLL"
            + " sketch, ~1% rank error) p90 of cost over the group''s rows.'");

    PostgresTables.createAll(db, tables, (c, sch) -> {});
    assertThat(aggregates(db, schema), equalTo(exact));
    assertThat(
        query(
            db,
            "SELECT col_description('"
                + schema
                + ".billing_agg'::regclass,"
                + " (SELECT attnum FROM pg_attribute WHERE attrelid = '"
                + schema
                + ".billing_agg'::regclass AND attname = 'cost_p90'))"),
        equalTo(
            "Exact p90 of cost over the group's rows: the nearest-rank value"
                + " (percentile_disc(0.9))."));
    // Once: a later check of the tables leaves the table as it finds it.
    execute(db, "UPDATE " + schema + ".billing_agg SET cost_p90 = 0");
    PostgresTables.createAll(db, tables, (c, sch) -> {});
    assertThat(
        query(db, "SELECT count(*) FROM " + schema + ".billing_agg WHERE cost_p90 = 0"),
        equalTo(String.valueOf(exact.size())));
  }

  private static void insert(Database db, String file, String date, int n, String[] services)
      throws Exception {
    insert(db, SCHEMA, file, date, n, services);
  }

  private static List<String> aggregates(Database db) throws Exception {
    return aggregates(db, SCHEMA);
  }

  /**
   * {@code n} rows of {@code file} on {@code date}, spread over {@code services} and two
   * currencies, with costs that differ per row (so that sums, extremes and percentiles differ per
   * group).
   */
  private static void insert(
      Database db, String schema, String file, String date, int n, String[] services)
      throws Exception {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO "
                    + schema
                    + ".billing (date, event_id, event_time, account_id, service, cost, currency,"
                    + " source_file, source_line) VALUES (?::date, ?, now(), 'acct', ?, ?, ?, ?, ?)")) {
      for (int i = 0; i < n; i++) {
        s.setString(1, date);
        s.setString(2, file + "#" + i);
        s.setString(3, services[i % services.length]);
        s.setBigDecimal(4, new java.math.BigDecimal((i * 37 % 101) + "." + (i % 10) + "125"));
        s.setString(5, i % 3 == 0 ? "EUR" : "USD");
        s.setString(6, file);
        s.setLong(7, i + 2);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  /** Every group of the rows table, through the join form of the refresh. */
  private static String recomputeAll() {
    return PostgresTables.refreshAggregatesSql(
        DEF, SCHEMA, "SELECT DISTINCT date, service, currency FROM " + SCHEMA + ".billing");
  }

  private static String query(Database db, String sql) throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getString(1);
    }
  }

  private static void execute(Database db, String sql) throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** Every aggregate row, as text, in group order. */
  private static List<String> aggregates(Database db, String schema) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT concat_ws(' ', date, service, currency, row_count,"
                    + " cost_count, cost_sum, cost_avg, cost_min, cost_max, cost_p90) FROM "
                    + schema
                    + ".billing_agg ORDER BY date, service, currency")) {
      while (r.next()) {
        rows.add(r.getString(1));
      }
    }
    return rows;
  }
}
