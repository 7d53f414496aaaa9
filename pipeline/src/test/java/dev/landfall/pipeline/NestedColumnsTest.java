package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Nested columns: a struct ({@code usage {quantity, unit_price}}) and a list split from a delimited
 * column ({@code tags}) are real nested types in Parquet (read back with DuckDB), while PostgreSQL
 * keeps flat columns and a {@code text[]}.
 */
class NestedColumnsTest extends PostgresTestBase {
  @Test
  void structsAndListsAreNestedInParquetAndFlatInPostgres() throws Exception {
    Path input = dir.resolve("orders-in");
    Path folder = input.resolve("day=2024-03-01");
    Files.createDirectories(folder);
    Files.writeString(
        folder.resolve("part-0.csv"),
        String.join(
            "\n",
            "order_id,ordered_at,quantity,unit_price,tags",
            "o1,2024-03-01T10:00:00Z,2.50,1.2500,new|gift",
            "o2,2024-03-01T11:00:00Z,1.00,3.0000,",
            "o3,2024-03-01T12:00:00Z,4.00,0.5000, express | return |",
            "o4,2024-03-01T13:00:00Z,1.00,1.0000,new|stolen",
            ""));
    Path definition = Path.of("src", "test", "resources", "orders.json").toAbsolutePath();
    Path work = dir.resolve("orders-work");
    RunSummary run =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                work,
                postgres.jdbcUrl(),
                "--datasetFile=" + definition,
                "--dbSchema=nested"));
    assertThat(run.render(), run.succeeded(), equalTo(true));
    assertThat(run.rowsValid, equalTo(3L));
    assertThat(run.rowsRejected, equalTo(1L));

    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl());
        Statement s = c.createStatement()) {
      List<String> rows = new ArrayList<>();
      try (ResultSet r =
          s.executeQuery(
              "SELECT order_id, quantity, tags::text,"
                  + " pg_typeof(tags)::text FROM nested.orders ORDER BY 1")) {
        while (r.next()) {
          rows.add(
              r.getString(1) + " " + r.getString(2) + " " + r.getString(3) + " " + r.getString(4));
        }
      }
      assertThat(
          rows,
          contains(
              "o1 2.50 {new,gift} text[]",
              "o2 1.00 null text[]",
              "o3 4.00 {express,return} text[]"));
      try (ResultSet r = s.executeQuery("SELECT reason, column_name FROM nested.orders_rejects")) {
        r.next();
        assertThat(r.getString(1) + ":" + r.getString(2), equalTo("constraint:tags"));
      }
    }

    assertNestedParquet(work.resolve("parquet"));

    // Watch mode writes each file's Parquet from the stored rows: the same nested file.
    Files.setLastModifiedTime(
        folder.resolve("part-0.csv"),
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    Path watchWork = dir.resolve("orders-watch");
    RunSummary watch =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                watchWork,
                postgres.jdbcUrl(),
                "--datasetFile=" + definition,
                "--dbSchema=nested_watch",
                "--watch",
                "--pollInterval=1s",
                "--stopAfterIdle=3s"));
    assertThat(watch.render(), watch.succeeded(), equalTo(true));
    assertNestedParquet(watchWork.resolve("parquet"));
  }

  private static void assertNestedParquet(Path parquet) throws Exception {
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT order_id, usage.quantity, usage.unit_price,"
                    + " tags, typeof(usage), typeof(tags), day FROM read_parquet('"
                    + parquet
                    + "/orders/**/*.parquet', hive_partitioning = true) ORDER BY 1")) {
      List<String> rows = new ArrayList<>();
      String structType = null;
      String listType = null;
      while (r.next()) {
        rows.add(
            r.getString(1)
                + " "
                + r.getBigDecimal(2)
                + " "
                + r.getBigDecimal(3)
                + " "
                + r.getString(4)
                + " "
                + r.getString(7));
        structType = r.getString(5);
        listType = r.getString(6);
      }
      assertThat(
          rows,
          contains(
              "o1 2.50 1.2500 [new, gift] 2024-03-01",
              "o2 1.00 3.0000 null 2024-03-01",
              "o3 4.00 0.5000 [express, return] 2024-03-01"));
      assertThat(structType, equalTo("STRUCT(quantity DECIMAL(10,2), unit_price DECIMAL(10,4))"));
      assertThat(listType, equalTo("VARCHAR[]"));
    }
  }
}
