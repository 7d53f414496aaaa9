package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * --format=parquet: Parquet files laid out in the same partitions go through the same validation,
 * de-duplication, aggregation and sinks; a file that is not Parquet is rejected as a whole and the
 * others go on.
 */
class ParquetInputTest extends PostgresTestBase {
  @Test
  void parquetInputGivesTheSameRowsAndAggregatesAsTheCsvItCameFrom() throws Exception {
    Path csv = dir.resolve("csv-in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(2_000, 21).writeTo(csv);
    Path first = dir.resolve("first");
    RunSummary toParquet =
        LandfallPipeline.run(
            EndToEndChecks.options(csv, first, postgres.jdbcUrl(), "--sinks=parquet"));
    assertThat(toParquet.succeeded(), equalTo(true));

    Path parquetInput = first.resolve("parquet").resolve("billing");
    Files.writeString(
        parquetInput.resolve("date=2024-01-02").resolve("broken.parquet"),
        "this is not a Parquet file");
    long parquetFiles;
    try (var s = Files.walk(parquetInput)) {
      parquetFiles = s.filter(p -> p.toString().endsWith(".parquet")).count();
    }

    RunSummary fromParquet =
        LandfallPipeline.run(
            EndToEndChecks.options(
                parquetInput,
                dir.resolve("second"),
                postgres.jdbcUrl(),
                "--format=parquet",
                "--dbSchema=from_parquet"));
    assertThat(fromParquet.render(), fromParquet.succeeded(), equalTo(true));
    assertThat(fromParquet.rowsRead, equalTo(exp.valid));
    assertThat(fromParquet.rowsValid, equalTo(exp.valid));
    assertThat(fromParquet.filesRejected, equalTo(1L));

    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      assertThat(
          EndToEndChecks.scalar(c, "SELECT count(*) FROM from_parquet.billing"),
          equalTo(exp.valid));
      BigDecimal total =
          exp.groups.values().stream().map(g -> g.sum).reduce(BigDecimal.ZERO, BigDecimal::add);
      try (Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT sum(cost_sum), sum(row_count), count(*) FROM from_parquet.billing_agg")) {
        r.next();
        assertThat(r.getBigDecimal(1).compareTo(total), equalTo(0));
        assertThat(r.getLong(2), equalTo(exp.valid));
        assertThat(r.getLong(3), equalTo((long) exp.groups.size()));
      }
      assertThat(
          EndToEndChecks.scalar(
              c,
              "SELECT count(*) FROM from_parquet.billing_rejects"
                  + " WHERE reason = 'file' AND source_file LIKE '%broken.parquet'"),
          equalTo(1L));
      assertThat(
          EndToEndChecks.scalar(
              c, "SELECT count(*) FROM from_parquet.landfall_files" + " WHERE status = 'done'"),
          equalTo(parquetFiles - 1));
      assertThat(
          EndToEndChecks.scalar(
              c,
              "SELECT count(*) FROM from_parquet.landfall_files"
                  + " WHERE status = 'failed' AND path LIKE '%broken.parquet'"),
          equalTo(1L));
      // Timestamps and decimals survive the round trip exactly.
      assertThat(
          EndToEndChecks.scalar(
              c,
              "SELECT count(*) FROM from_parquet.billing p"
                  + " JOIN from_parquet.billing_agg a USING (date, service, currency)"
                  + " WHERE p.event_time IS NULL OR p.cost IS NULL"),
          equalTo(0L));
    }
  }
}
