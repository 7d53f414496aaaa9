package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Checks shared by the end-to-end tests on every runner: the run's accounting, the PostgreSQL
 * tables and the Parquet files (read back with DuckDB, an independent reader) against the
 * generator's expected totals, and a fingerprint of all outputs to prove re-runs change nothing.
 */
public final class EndToEndChecks {
  private EndToEndChecks() {}

  /** Options for a run over {@code input} into {@code work}, writing to {@code jdbcUrl}. */
  public static LandfallOptions options(Path input, Path work, String jdbcUrl, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--input=" + input,
                "--workDir=" + work,
                "--output=" + work.resolve("parquet"),
                "--jdbcUrl=" + jdbcUrl,
                "--dbUser=postgres",
                "--dbBatchSize=2000"));
    // An extra option replaces the default of the same name.
    for (String e : extra) {
      String name = e.contains("=") ? e.substring(0, e.indexOf('=') + 1) : e;
      args.removeIf(a -> a.startsWith(name));
    }
    args.addAll(List.of(extra));
    return LandfallPipeline.options(args.toArray(new String[0]));
  }

  /** Options for the embedded default: sample data and embedded PostgreSQL under {@code work}. */
  public static LandfallOptions defaults(Path work, String... extra) {
    List<String> args = new ArrayList<>(List.of("--workDir=" + work, "--embeddedPgPort=0"));
    args.addAll(List.of(extra));
    return LandfallPipeline.options(args.toArray(new String[0]));
  }

  public static Connection pg(String jdbcUrl) throws SQLException {
    return DriverManager.getConnection(jdbcUrl, "postgres", "");
  }

  public static long scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  /** Asserts the summary, tables and Parquet match what the generator says a run must produce. */
  public static void assertBillingOutputs(
      RunSummary summary,
      BillingSampleGenerator.Expected exp,
      String jdbcUrl,
      String schema,
      Path parquet)
      throws Exception {
    assertThat(summary.succeeded(), equalTo(true));
    assertThat(summary.rowsRead, equalTo(exp.rowsRead));
    assertThat(summary.rowsValid, equalTo(exp.valid));
    assertThat(summary.rowsDuplicate, equalTo(exp.duplicate));
    assertThat(summary.rowsRejected, equalTo(exp.rejected));
    assertThat(summary.filesRead, equalTo(exp.files));
    assertBillingTables(exp, jdbcUrl, schema, parquet, 0, 0);
    // The run's row in landfall_runs says how it ended and what it read.
    assertThat(summary.runId() >= 0, equalTo(true));
    try (Connection c = pg(jdbcUrl)) {
      assertThat(
          scalar(
              c,
              "SELECT count(*) FROM "
                  + schema
                  + ".landfall_runs WHERE run_id = "
                  + summary.runId()
                  + " AND status = 'succeeded' AND rows_read = "
                  + exp.rowsRead
                  + " AND rows_valid = "
                  + exp.valid
                  + " AND ended_at IS NOT NULL"),
          equalTo(1L));
      // Every file it read names it in the ledger.
      assertThat(
          scalar(
              c,
              "SELECT count(*) FROM "
                  + schema
                  + ".landfall_files WHERE run_id = "
                  + summary.runId()),
          equalTo(exp.files));
    }
    // Its quality report, named in the summary, counts the same rows.
    assertThat(
        summary.report() != null && java.nio.file.Files.isRegularFile(summary.report()),
        equalTo(true));
    assertThat(
        java.nio.file.Files.readString(summary.report()),
        org.hamcrest.Matchers.containsString(
            String.format(java.util.Locale.ROOT, "<b>%,d</b><span>rows read", exp.rowsRead)));
    // Its full log, named in the summary: every line, with thread names, including the
    // runner's own lines that the console leaves out.
    assertThat(
        summary.logFile() != null && java.nio.file.Files.isRegularFile(summary.logFile()),
        equalTo(true));
    String log = java.nio.file.Files.readString(summary.logFile());
    assertThat(log, org.hamcrest.Matchers.containsString("INFO  ["));
    assertThat(
        log, org.hamcrest.Matchers.containsString("dev.landfall.io.csv.ReadCsvFiles - read "));
    assertThat(
        summary.render(), org.hamcrest.Matchers.containsString("log       " + summary.logFile()));
  }

  /**
   * Asserts the tables, ledger, views and Parquet hold what the generator expects, plus {@code
   * extraFiles} files holding {@code extraDuplicates} rows that are all duplicates of stored ones.
   */
  public static void assertBillingTables(
      BillingSampleGenerator.Expected exp,
      String jdbcUrl,
      String schema,
      Path parquet,
      long extraFiles,
      long extraDuplicates)
      throws Exception {
    try (Connection c = pg(jdbcUrl)) {
      assertThat(scalar(c, "SELECT count(*) FROM " + schema + ".billing"), equalTo(exp.valid));
      assertThat(
          scalar(c, "SELECT count(DISTINCT event_id) FROM " + schema + ".billing"),
          equalTo(exp.valid));

      Map<String, Long> reasons = new TreeMap<>();
      try (Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT reason, count(*) FROM " + schema + ".billing_rejects GROUP BY reason")) {
        while (r.next()) {
          reasons.put(r.getString(1), r.getLong(2));
        }
      }
      assertThat(reasons, equalTo(exp.rejectedByReason));

      int groups = 0;
      try (Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT a.date, a.service, a.currency, a.row_count, a.cost_count, a.cost_sum,"
                      + " a.cost_min, a.cost_max, a.cost_avg, a.cost_p90,"
                      + " (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY cost) FROM "
                      + schema
                      + ".billing b WHERE b.date = a.date AND b.service = a.service"
                      + " AND b.currency = a.currency) AS p90"
                      + " FROM "
                      + schema
                      + ".billing_agg a")) {
        while (r.next()) {
          groups++;
          String key = r.getDate(1).toLocalDate() + "|" + r.getString(2) + "|" + r.getString(3);
          BillingSampleGenerator.GroupTotals g = exp.groups.get(key);
          assertThat("group " + key, g != null, equalTo(true));
          assertThat(key, r.getLong(4), equalTo(g.count));
          assertThat(key, r.getLong(5), equalTo(g.count));
          assertThat(key, r.getBigDecimal(6).compareTo(g.sum), equalTo(0));
          assertThat(key, r.getBigDecimal(7).compareTo(g.min), equalTo(0));
          assertThat(key, r.getBigDecimal(8).compareTo(g.max), equalTo(0));
          BigDecimal avg =
              g.sum.divide(BigDecimal.valueOf(g.count), 6, java.math.RoundingMode.HALF_UP);
          assertThat(key, r.getBigDecimal(9).compareTo(avg), equalTo(0));
          assertThat(
              key + " p90 is the exact nearest-rank value of the stored rows",
              r.getDouble(10),
              equalTo(r.getBigDecimal(11).doubleValue()));
        }
      }
      assertThat(groups, equalTo(exp.groups.size()));
      String recomputed =
          "SELECT date, service, currency, count(*), count(cost), sum(cost),"
              + " round(avg(cost), 6), min(cost), max(cost),"
              + " (percentile_disc(0.9) WITHIN GROUP (ORDER BY cost))::double precision FROM "
              + schema
              + ".billing GROUP BY 1, 2, 3";
      String stored =
          "SELECT date, service, currency, row_count, cost_count, cost_sum, cost_avg,"
              + " cost_min, cost_max, cost_p90 FROM "
              + schema
              + ".billing_agg";
      assertThat(
          "the aggregates are the SQL recompute of the stored rows, every column",
          scalar(
              c,
              "SELECT count(*) FROM (("
                  + recomputed
                  + " EXCEPT ALL "
                  + stored
                  + ") UNION ALL ("
                  + stored
                  + " EXCEPT ALL "
                  + recomputed
                  + ")) d"),
          equalTo(0L));

      // The ledger: every file done, its counts adding up to the run's.
      try (Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT count(*), sum(rows_read), sum(rows_valid), sum(rows_duplicate),"
                      + " sum(rows_rejected), count(*) FILTER (WHERE rows_read <> rows_valid"
                      + " + rows_duplicate + rows_rejected) FROM "
                      + schema
                      + ".landfall_files"
                      + " WHERE dataset = 'billing' AND status = 'done'")) {
        r.next();
        assertThat("files done", r.getLong(1), equalTo(exp.files + extraFiles));
        assertThat("ledger rows_read", r.getLong(2), equalTo(exp.rowsRead + extraDuplicates));
        assertThat("ledger rows_valid", r.getLong(3), equalTo(exp.valid));
        assertThat("ledger rows_duplicate", r.getLong(4), equalTo(exp.duplicate + extraDuplicates));
        assertThat("ledger rows_rejected", r.getLong(5), equalTo(exp.rejected));
        assertThat("files whose counts do not add up", r.getLong(6), equalTo(0L));
      }

      // The dashboard views of the billing definition.
      BigDecimal total =
          exp.groups.values().stream().map(g -> g.sum).reduce(BigDecimal.ZERO, BigDecimal::add);
      try (Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT sum(cost), sum(events) FROM "
                      + schema
                      + ".billing_cost_per_day_service")) {
        r.next();
        assertThat(r.getBigDecimal(1).compareTo(total), equalTo(0));
        assertThat(r.getLong(2), equalTo(exp.valid));
      }
      assertThat(
          scalar(
              c,
              "SELECT sum(rejected) FROM "
                  + schema
                  + ".billing_rejects_per_day"
                  + " WHERE date IS NOT NULL"),
          equalTo(exp.rejected));
      assertThat(
          scalar(c, "SELECT count(*) FROM " + schema + ".billing_p90_cost_trend"),
          equalTo((long) exp.groups.size()));
      assertThat(
          scalar(c, "SELECT max(cost_rank) FROM " + schema + ".billing_top_accounts_per_day"),
          equalTo(10L));
    }

    try (Stream<Path> partitions = Files.list(parquet.resolve("billing"))) {
      List<Path> folders =
          partitions
              .filter(Files::isDirectory)
              .filter(p -> p.getFileName().toString().startsWith("date="))
              .collect(Collectors.toList());
      assertThat(
          folders.size(),
          equalTo(
              (int)
                  exp.groups.keySet().stream()
                      .map(k -> k.substring(0, k.indexOf('|')))
                      .distinct()
                      .count()));
      for (Path folder : folders) {
        assertThat(
            folder + " has _SUCCESS", Files.exists(folder.resolve("_SUCCESS")), equalTo(true));
      }
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement()) {
      String files =
          "read_parquet('" + parquet + "/billing/**/*.parquet', hive_partitioning = true)";
      try (ResultSet r =
          s.executeQuery(
              "SELECT count(*), count(DISTINCT event_id), sum(cost),"
                  + " typeof(any_value(cost)), typeof(any_value(event_time)), typeof(any_value(date)),"
                  + " count(DISTINCT date) FROM "
                  + files)) {
        r.next();
        assertThat(r.getLong(1), equalTo(exp.valid));
        assertThat(r.getLong(2), equalTo(exp.valid));
        BigDecimal sum =
            exp.groups.values().stream().map(g -> g.sum).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(r.getBigDecimal(3).compareTo(sum), equalTo(0));
        assertThat(r.getString(4), equalTo("DECIMAL(14,4)"));
        assertThat(r.getString(5), equalTo("TIMESTAMP WITH TIME ZONE"));
        assertThat(r.getString(6), equalTo("DATE"));
        assertThat(r.getLong(7), greaterThan(0L));
      }
    }
  }

  /**
   * A fingerprint of the data of two runs that wrote to different places: row tables and rejects
   * (without ingestion times), aggregates without times, Parquet rows.
   */
  public static String contentFingerprint(
      String jdbcUrl, String schema, Path parquet, String dataset) throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Connection c = pg(jdbcUrl);
        Statement s = c.createStatement()) {
      for (String q :
          List.of(
              "SELECT x::text FROM " + schema + "." + dataset + " x",
              "SELECT (source_file, line_number, reason, column_name, message, raw)::text FROM "
                  + schema
                  + "."
                  + dataset
                  + "_rejects",
              "SELECT (date, service, currency, row_count, cost_count, cost_sum, cost_avg, cost_min,"
                  + " cost_max, cost_p90)::text FROM "
                  + schema
                  + "."
                  + dataset
                  + "_agg")) {
        try (ResultSet r =
            s.executeQuery(
                "SELECT count(*), md5(string_agg(t, '|' ORDER BY t))"
                    + " FROM ("
                    + q.replace(parquet.toString(), "")
                    + ") AS q(t)")) {
          r.next();
          sb.append(r.getLong(1)).append(':').append(r.getString(2)).append('\n');
        }
      }
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), sum(hash(event_id, cost, source_line))"
                    + "::hugeint FROM read_parquet('"
                    + parquet
                    + "/"
                    + dataset
                    + "/**/*.parquet', hive_partitioning = true)")) {
      r.next();
      sb.append(r.getLong(1)).append(':').append(r.getString(2));
    }
    return sb.toString();
  }

  /**
   * A fingerprint of every output: table contents (including updated_at and ingested_at), the
   * Parquet file names and an order-independent hash of their rows.
   */
  public static String fingerprint(String jdbcUrl, String schema, Path parquet, String dataset)
      throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Connection c = pg(jdbcUrl);
        Statement s = c.createStatement()) {
      for (String t : List.of(dataset, dataset + "_agg", dataset + "_rejects")) {
        try (ResultSet r =
            s.executeQuery(
                "SELECT count(*), md5(string_agg(x::text, '|' ORDER BY"
                    + " x::text)) FROM "
                    + schema
                    + "."
                    + t
                    + " x")) {
          r.next();
          sb.append(t)
              .append('=')
              .append(r.getLong(1))
              .append(':')
              .append(r.getString(2))
              .append('\n');
        }
      }
    }
    try (Stream<Path> walk = Files.walk(parquet.resolve(dataset))) {
      sb.append(
              walk.filter(Files::isRegularFile)
                  .map(p -> parquet.relativize(p).toString())
                  .sorted()
                  .collect(Collectors.joining(",")))
          .append('\n');
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), sum(hash(t)::hugeint) FROM"
                    + " read_parquet('"
                    + parquet
                    + "/"
                    + dataset
                    + "/**/*.parquet', hive_partitioning = true) t")) {
      r.next();
      sb.append(r.getLong(1)).append(':').append(r.getString(2));
    }
    return sb.toString();
  }
}
