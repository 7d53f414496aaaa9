package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dataset unlike billing (two partition columns, a composite key, long/double/boolean/int
 * columns, a custom timestamp format, ';' as delimiter) goes through the same job.
 */
class SecondDatasetTest {
  @TempDir Path dir;

  @Test
  void sensorsDatasetIsTypedDedupedAndAggregated() throws Exception {
    Path in = dir.resolve("in");
    Files.createDirectories(in.resolve("site=north/day=2024-03-01"));
    Files.createDirectories(in.resolve("site=south/day=2024-03-02"));
    Files.writeString(
        in.resolve("site=north/day=2024-03-01/r.csv"),
        "reading_id;sensor;reading_time;temperature;ok;samples\n"
            + "1;t1;01/03/2024 10:00:00;20.5;true;3\n"
            + "2;t1;01/03/2024 11:00:00;21.5;false;4\n"
            + "1;t1;01/03/2024 10:00:00;22.0;true;3\n"
            + "1;t2;01/03/2024 10:00:00;-5;yes;1\n"
            + "3;t2;bad;1;true;1\n");
    Files.writeString(
        in.resolve("site=south/day=2024-03-02/r.csv"),
        "sensor;reading_id;reading_time;temperature;ok;samples\n"
            + "t1;1;02/03/2024 08:00:00;15;0;2\n"
            + "t3;9;02/03/2024 08:00:00;100;1;2\n");
    Path def = dir.resolve("sensors.json");
    try (var res = getClass().getResourceAsStream("/sensors.json")) {
      Files.copy(res, def);
    }
    Path work = dir.resolve("work");
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir.resolve("pg"), 0)) {
      RunSummary s =
          LandfallPipeline.run(
              EndToEndChecks.options(in, work, pg.jdbcUrl(), "--datasetFile=" + def));
      assertThat(s.rowsRead, equalTo(7L));
      assertThat(s.rowsValid, equalTo(3L));
      assertThat(s.rowsDuplicate, equalTo(2L));
      assertThat(s.rowsRejected, equalTo(2L));

      try (Connection c = EndToEndChecks.pg(pg.jdbcUrl());
          Statement st = c.createStatement()) {
        List<String> agg = new ArrayList<>();
        try (ResultSet r =
            st.executeQuery(
                "SELECT site, sensor, row_count, temperature_sum,"
                    + " temperature_min, temperature_max, temperature_p50, samples_sum, samples_max"
                    + " FROM sensors_agg ORDER BY 1, 2")) {
          while (r.next()) {
            agg.add(
                r.getString(1)
                    + ","
                    + r.getString(2)
                    + ","
                    + r.getLong(3)
                    + ","
                    + r.getDouble(4)
                    + ","
                    + r.getDouble(5)
                    + ","
                    + r.getDouble(6)
                    + ","
                    + r.getDouble(7)
                    + ","
                    + r.getBigDecimal(8).toPlainString()
                    + ","
                    + r.getBigDecimal(9).toPlainString());
          }
        }
        assertThat(
            agg,
            contains("north,t1,2,42.0,20.5,21.5,20.5,7,4", "north,t2,1,-5.0,-5.0,-5.0,-5.0,1,1"));
        try (ResultSet r =
            st.executeQuery(
                "SELECT temperature, reading_time AT TIME ZONE 'UTC',"
                    + " reading_date, ok FROM sensors WHERE reading_id = 1 AND sensor = 't1'")) {
          r.next();
          assertThat(r.getDouble(1), equalTo(20.5));
          assertThat(r.getString(2), equalTo("2024-03-01 10:00:00"));
          assertThat(r.getString(3), equalTo("2024-03-01"));
          assertThat(r.getBoolean(4), equalTo(true));
        }
        List<String> rejects = new ArrayList<>();
        try (ResultSet r =
            st.executeQuery(
                "SELECT line_number, reason, column_name FROM sensors_rejects ORDER BY 1, 2")) {
          while (r.next()) {
            rejects.add(r.getLong(1) + ":" + r.getString(2) + ":" + r.getString(3));
          }
        }
        assertThat(rejects, contains("3:constraint:temperature", "6:type:reading_time"));
        List<String> indexes = new ArrayList<>();
        try (ResultSet r =
            st.executeQuery(
                "SELECT indexname FROM pg_indexes" + " WHERE tablename = 'sensors' ORDER BY 1")) {
          while (r.next()) {
            indexes.add(r.getString(1));
          }
        }
        // site leads the group index (site, sensor), which serves it: no index of its own.
        assertThat(
            indexes,
            contains(
                "sensors_by_day",
                "sensors_by_site_sensor",
                "sensors_by_source_file",
                "sensors_pkey"));
      }
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement st = duck.createStatement();
        ResultSet r =
            st.executeQuery(
                "SELECT count(*), typeof(any_value(reading_id)),"
                    + " typeof(any_value(ok)), typeof(any_value(samples)), typeof(any_value(temperature)),"
                    + " typeof(any_value(reading_date)), string_agg(DISTINCT site, ',')"
                    + " FROM read_parquet('"
                    + work.resolve("parquet")
                    + "/sensors/**/*.parquet',"
                    + " hive_partitioning = true)")) {
      r.next();
      assertThat(r.getLong(1), equalTo(3L));
      assertThat(r.getString(2), equalTo("BIGINT"));
      assertThat(r.getString(3), equalTo("BOOLEAN"));
      assertThat(r.getString(4), equalTo("INTEGER"));
      assertThat(r.getString(5), equalTo("DOUBLE"));
      assertThat(r.getString(6), equalTo("DATE"));
      assertThat(r.getString(7), equalTo("north"));
    }
  }

  @Test
  void parquetOnlyRunNeedsNoDatabase() throws Exception {
    Path work = dir.resolve("parquet-only");
    RunSummary s =
        LandfallPipeline.run(EndToEndChecks.defaults(work, "--sampleRows=2000", "--sinks=parquet"));
    assertThat(s.succeeded(), equalTo(true));
    assertThat(Files.exists(work.resolve("pgdata")), equalTo(false));
    assertThat(s.jdbcUrl == null, equalTo(true));
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement st = duck.createStatement();
        ResultSet r =
            st.executeQuery(
                "SELECT count(*) FROM read_parquet('"
                    + work.resolve("parquet")
                    + "/billing/**/*.parquet')")) {
      r.next();
      assertThat(r.getLong(1), equalTo(s.rowsValid));
    }
  }
}
