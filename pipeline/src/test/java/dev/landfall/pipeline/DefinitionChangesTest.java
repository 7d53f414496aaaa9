package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two definitions in sequence over growing input (DirectRunner, real PostgreSQL): the second adds a
 * field, widens two, drops one and adds a measure; then a narrowing is refused before any file is
 * read; then the files of the first definition are read again on request.
 */
class DefinitionChangesTest {
  private static final String V1 =
      "{\"name\": \"orders\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"int\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\", \"required\": true},"
          + "{\"name\": \"note\", \"type\": \"string\", \"required\": true}],"
          + " \"key\": [\"order_id\"],"
          + " \"aggregates\": {\"groupBy\": [\"day\"], \"measures\": {\"amount\": [\"sum\"]}}}";
  private static final String V2 =
      "{\"name\": \"orders\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"long\", \"description\": \"Units ordered.\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(14,2)\", \"required\": true},"
          + "{\"name\": \"region\", \"type\": \"string\"}],"
          + " \"key\": [\"order_id\"],"
          + " \"aggregates\": {\"groupBy\": [\"day\"], \"measures\": {\"amount\": [\"sum\", \"max\"]}},"
          + " \"views\": [{\"name\": \"orders_by_region\", \"sql\": \"SELECT region, sum(qty) AS qty"
          + " FROM ${rows} GROUP BY region\"}]}";

  @TempDir Path dir;

  @Test
  void aChangedDefinitionChangesTablesAndParquetAndKeepsEveryRow() throws Exception {
    Path in = dir.resolve("in");
    Path work = dir.resolve("work");
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.writeString(
        in.resolve("day=2024-03-01/a.csv"),
        "order_id,qty,amount,note\n"
            + "o1,3,10.50,first\n"
            + "o2,,1.25,second\n"
            + "o3,7,2.00,third\n");
    Path v1 = Files.writeString(dir.resolve("v1.json"), V1);
    Path v2 = Files.writeString(dir.resolve("v2.json"), V2);
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir.resolve("pg"), 0)) {
      RunSummary first =
          LandfallPipeline.run(
              EndToEndChecks.options(in, work, pg.jdbcUrl(), "--datasetFile=" + v1));
      assertThat(first.rowsValid, equalTo(3L));

      // The provider's new export: note gone, region new, wider numbers; o3 again, a key stored
      // by the first run, which keeps its row in PostgreSQL and in Parquet.
      Files.createDirectories(in.resolve("day=2024-03-02"));
      Files.writeString(
          in.resolve("day=2024-03-02/b.csv"),
          "order_id,qty,amount,region\n" + "o4,5000000000,123456789012.34,eu\n" + "o3,7,2.00,us\n");
      RunSummary second =
          LandfallPipeline.run(
              EndToEndChecks.options(in, work, pg.jdbcUrl(), "--datasetFile=" + v2));
      assertThat(second.rowsValid, equalTo(1L));
      assertThat(second.rowsDuplicate, equalTo(1L));

      try (Connection c = EndToEndChecks.pg(pg.jdbcUrl());
          Statement s = c.createStatement()) {
        assertThat(
            rows(
                s,
                "SELECT order_id || ' ' || coalesce(qty::text, '-') || ' ' || amount"
                    + " || ' ' || coalesce(note, '-') || ' ' || coalesce(region, '-') FROM orders"
                    + " ORDER BY order_id"),
            equalTo(
                List.of(
                    "o1 3 10.50 first -",
                    "o2 - 1.25 second -",
                    "o3 7 2.00 third -",
                    "o4 5000000000 123456789012.34 - eu")));
        assertThat(
            rows(
                s,
                "SELECT day || ' ' || row_count || ' ' || amount_sum || ' '"
                    + " || amount_max FROM orders_agg ORDER BY day"),
            equalTo(
                List.of(
                    "2024-03-01 3 13.75 10.50", "2024-03-02 1 123456789012.34 123456789012.34")));
        assertThat(
            "a new view",
            rows(
                s,
                "SELECT coalesce(region, '-') || ' ' || qty"
                    + " FROM orders_by_region ORDER BY region NULLS FIRST"),
            equalTo(List.of("- 10", "eu 5000000000")));
        assertThat(
            "a new description",
            rows(s, "SELECT col_description('orders'::regclass," + " 3)"),
            equalTo(List.of("Units ordered.")));
        assertThat(
            rows(
                s,
                "SELECT change || ' ' || coalesce(column_name, '-')"
                    + " FROM landfall_schema_changes ORDER BY id"),
            equalTo(
                List.of(
                    "definition -",
                    "definition -",
                    "type_widened qty",
                    "type_widened amount",
                    "column_added region",
                    "column_kept note",
                    "aggregates_rebuilt -",
                    "comment_changed qty")));
      }
      assertThat(
          duckdb(
              "SELECT order_id || ' ' || coalesce(qty::text, '-') || ' '"
                  + " || coalesce(note, '-') || ' ' || coalesce(region, '-') || ' ' || typeof(qty)"
                  + " || ' ' || typeof(amount) FROM "
                  + parquet(work)
                  + " ORDER BY order_id"),
          equalTo(
              List.of(
                  "o1 3 first - BIGINT DECIMAL(14,2)",
                  "o2 - second - BIGINT DECIMAL(14,2)",
                  "o3 7 third - BIGINT DECIMAL(14,2)",
                  "o4 5000000000 - eu BIGINT DECIMAL(14,2)")));

      // A narrowing is refused before any file is read: the new file stays unread.
      Files.createDirectories(in.resolve("day=2024-03-03"));
      Files.writeString(
          in.resolve("day=2024-03-03/c.csv"), "order_id,qty,amount,region\n" + "o5,1,1.00,eu\n");
      Path narrower =
          Files.writeString(
              dir.resolve("v3.json"),
              V2.replace("\"qty\", \"type\": \"long\"", "\"qty\", \"type\": \"int\""));
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  LandfallPipeline.run(
                      EndToEndChecks.options(in, work, pg.jdbcUrl(), "--datasetFile=" + narrower)));
      assertThat(
          e.getMessage(),
          allOf(
              containsString("'qty'"),
              containsString("holds long"),
              containsString("says int"),
              containsString("nothing was altered")));
      Path otherKey =
          Files.writeString(
              dir.resolve("v4.json"),
              V2.replace("\"key\": [\"order_id\"]", "\"key\": [\"order_id\", \"region\"]"));
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  LandfallPipeline.run(
                      EndToEndChecks.options(in, work, pg.jdbcUrl(), "--datasetFile=" + otherKey)));
      assertThat(
          e.getMessage(),
          allOf(
              containsString("'key'"),
              containsString("[order_id]"),
              containsString("nothing was altered")));
      try (Connection c = EndToEndChecks.pg(pg.jdbcUrl());
          Statement s = c.createStatement()) {
        assertThat(
            rows(
                s,
                "SELECT count(*) || ' ' || count(DISTINCT definition_hash)"
                    + " FROM landfall_files"),
            equalTo(List.of("2 2")));
        assertThat(
            rows(
                s,
                "SELECT data_type FROM information_schema.columns"
                    + " WHERE table_name = 'orders' AND column_name = 'qty'"),
            equalTo(List.of("bigint")));
      }

      // The files of the first definition, read again under the second: a.csv's rows now
      // carry what v2 reads (no note), and every file is on one definition.
      RunSummary again =
          LandfallPipeline.run(
              EndToEndChecks.options(
                  in, work, pg.jdbcUrl(), "--datasetFile=" + v2, "--reingest=olderDefinitions"));
      assertThat("a.csv again and c.csv new", again.rowsRead, equalTo(4L));
      try (Connection c = EndToEndChecks.pg(pg.jdbcUrl());
          Statement s = c.createStatement()) {
        assertThat(
            rows(
                s,
                "SELECT count(*) || ' ' || count(DISTINCT definition_hash) || ' '"
                    + " || count(*) FILTER (WHERE status = 'done') FROM landfall_files"),
            equalTo(List.of("3 1 3")));
        assertThat(
            rows(s, "SELECT count(*) || ' ' || count(note) FROM orders"), equalTo(List.of("5 0")));
      }
      assertThat(
          duckdb("SELECT count(*) || ' ' || count(DISTINCT order_id) FROM " + parquet(work)),
          equalTo(List.of("5 5")));
    }
  }

  private static String parquet(Path work) {
    return "read_parquet('"
        + work.resolve("parquet")
        + "/orders/**/*.parquet',"
        + " hive_partitioning = true, union_by_name = true)";
  }

  private static List<String> duckdb(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      return rows(s, sql);
    }
  }

  private static List<String> rows(Statement s, String sql) throws Exception {
    return ChangingDataScenario.rows(s, sql);
  }
}
