package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Data that changes under its users, run on any runner (the DirectRunner by default; {@code
 * ChangingDataFlinkRunnerTest} runs them on Flink): CSV columns the definition does not name
 * (rescued per row in {@code _rescued}, or the file rejected), and aggregates grouped by a column
 * that may be empty (NULL is a group of its own, apart from the text "null").
 */
public final class ChangingDataScenario {
  /** Orders: a provider's export with two columns the definition does not name. */
  static final String ORDERS = "{\"name\": \"orders\", \"unknownColumns\": \"%s\","
      + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
      + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
      + "{\"name\": \"qty\", \"type\": \"int\"}], \"key\": [\"order_id\"]}";
  static final String ORDERS_CSV = "order_id,qty,Promo Code,channel\n"
      + "o1,3,SPRING,web\n" + "o2,4,,\n" + "o3,5,\"say \"\"hi\"\"\",app\n";

  /** Sales: grouped by day and a region that may be empty. */
  static final String SALES = "{\"name\": \"sales\","
      + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
      + "{\"name\": \"sale_id\", \"type\": \"string\", \"required\": true},"
      + "{\"name\": \"region\", \"type\": \"string\"},"
      + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\", \"required\": true}],"
      + " \"key\": [\"sale_id\"],"
      + " \"aggregates\": {\"groupBy\": [\"day\", \"region\"],"
      + "   \"measures\": {\"amount\": [\"sum\", \"max\"]}}}";
  static final String SALES_A = "sale_id,region,amount\n"
      + "s1,eu,10.00\n" + "s2,,5.00\n" + "s3,null,7.00\n" + "s4,,1.00\n";
  static final String SALES_B = "sale_id,region,amount\n" + "s5,,4.00\n" + "s6,eu,2.00\n";
  static final List<String> AFTER_A = List.of("2024-03-01 - 2 6.00 5.00",
      "2024-03-01 eu 1 10.00 10.00", "2024-03-01 null 1 7.00 7.00");
  static final List<String> AFTER_B = List.of("2024-03-01 - 3 10.00 5.00",
      "2024-03-01 eu 2 12.00 10.00", "2024-03-01 null 1 7.00 7.00");

  private final Path dir;
  private final String jdbcUrl;
  private final String[] runnerArgs;

  /** @param runnerArgs extra options, e.g. {@code --runner=FlinkRunner} */
  public ChangingDataScenario(Path dir, String jdbcUrl, String... runnerArgs) {
    this.dir = dir;
    this.jdbcUrl = jdbcUrl;
    this.runnerArgs = runnerArgs;
  }

  private RunSummary run(Path in, String schema, String definition, String... extra)
      throws Exception {
    Path def = Files.writeString(dir.resolve(schema + ".json"), definition);
    List<String> args = new ArrayList<>(List.of("--dbSchema=" + schema, "--datasetFile=" + def));
    args.addAll(List.of(extra));
    args.addAll(List.of(runnerArgs));
    return LandfallPipeline.run(EndToEndChecks.options(in, dir.resolve(schema + "-work"), jdbcUrl,
        args.toArray(new String[0])));
  }

  private CompletableFuture<RunSummary> watch(Path in, String schema, String definition) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return run(in, schema, definition, "--watch", "--pollInterval=1s",
            "--stopAfterIdle=10s");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
  }

  private Path input(String schema, String file, String csv) throws Exception {
    Path in = dir.resolve(schema + "-in");
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.writeString(in.resolve("day=2024-03-01").resolve(file), csv);
    return in;
  }

  /** A backfill keeps unknown columns per row: jsonb in PostgreSQL, a map in Parquet. */
  public void aBackfillRescuesUnknownColumns(String schema) throws Exception {
    RunSummary run = run(input(schema, "a.csv", ORDERS_CSV), schema,
        String.format(ORDERS, "rescue"));
    assertThat(run.render(), run.rowsValid, equalTo(3L));
    assertRescued(schema);
  }

  /** A watch run keeps them too (its Parquet files are written back from PostgreSQL). */
  public void aWatchRunRescuesUnknownColumns(String schema) throws Exception {
    RunSummary summary = watch(input(schema, "a.csv", ORDERS_CSV), schema,
        String.format(ORDERS, "rescue")).get(180, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    assertRescued(schema);
  }

  /** With {@code "unknownColumns": "reject"} the file is rejected at its header, naming them. */
  public void aFileWithUnknownColumnsIsRejectedWhenTheDefinitionSaysSo(String schema)
      throws Exception {
    RunSummary run = run(input(schema, "a.csv", ORDERS_CSV), schema,
        String.format(ORDERS, "reject"));
    assertThat(run.render(), run.rowsValid, equalTo(0L));
    try (Connection c = EndToEndChecks.pg(jdbcUrl); Statement s = c.createStatement()) {
      List<String> rejects = rows(s, "SELECT line_number || ' ' || reason || ' ' || message"
          + " FROM " + schema + ".orders_rejects");
      assertThat(rejects.size(), equalTo(1));
      assertThat(rejects.get(0), allOf(containsString("1 header"),
          containsString("[channel, promo code]"), containsString("unknownColumns is reject")));
      assertThat(rows(s, "SELECT count(*) FROM " + schema + ".orders"), equalTo(List.of("0")));
    }
  }

  /** NULL is a group in a backfill, and a later backfill adds to that group. */
  public void nullIsAGroupInABackfillAndInALaterOne(String schema) throws Exception {
    Path in = input(schema, "a.csv", SALES_A);
    RunSummary first = run(in, schema, SALES);
    assertThat(first.render(), first.rowsValid, equalTo(4L));
    assertThat(aggregates(schema), equalTo(AFTER_A));
    input(schema, "b.csv", SALES_B);
    RunSummary second = run(in, schema, SALES);
    assertThat(second.render(), second.rowsValid, equalTo(2L));
    assertThat(aggregates(schema), equalTo(AFTER_B));
  }

  /** NULL is a group when a watch run updates the aggregates file by file. */
  public void nullIsAGroupInAWatchRun(String schema) throws Exception {
    Path in = input(schema, "a.csv", SALES_A);
    CompletableFuture<RunSummary> run = watch(in, schema, SALES);
    WatchScenario.await("the first file", 120,
        () -> WatchScenario.doneFiles(jdbcUrl, schema) == 1);
    assertThat(aggregates(schema), equalTo(AFTER_A));
    input(schema, "b.csv", SALES_B);
    RunSummary summary = run.get(120, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    assertThat(aggregates(schema), equalTo(AFTER_B));
  }

  private void assertRescued(String schema) throws Exception {
    try (Connection c = EndToEndChecks.pg(jdbcUrl); Statement s = c.createStatement()) {
      assertThat(rows(s, "SELECT order_id || ' ' || coalesce(_rescued::text, '-') FROM " + schema
          + ".orders ORDER BY order_id"), equalTo(List.of(
              "o1 {\"channel\": \"web\", \"promo code\": \"SPRING\"}", "o2 -",
              "o3 {\"channel\": \"app\", \"promo code\": \"say \\\"hi\\\"\"}")));
      assertThat(rows(s, "SELECT data_type FROM information_schema.columns WHERE table_schema = '"
          + schema + "' AND column_name = '_rescued'"), equalTo(List.of("jsonb")));
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement()) {
      assertThat(rows(s, "SELECT order_id || ' ' || coalesce(_rescued::varchar, '-') || ' '"
          + " || typeof(_rescued) FROM read_parquet('" + dir.resolve(schema + "-work")
              .resolve("parquet") + "/orders/**/*.parquet') ORDER BY order_id"), equalTo(List.of(
              "o1 {channel=web, promo code=SPRING} MAP(VARCHAR, VARCHAR)",
              "o2 - MAP(VARCHAR, VARCHAR)",
              "o3 {channel=app, promo code=say \"hi\"} MAP(VARCHAR, VARCHAR)")));
    }
  }

  private List<String> aggregates(String schema) throws Exception {
    try (Connection c = EndToEndChecks.pg(jdbcUrl); Statement s = c.createStatement()) {
      return rows(s, "SELECT day || ' ' || coalesce(region, '-') || ' ' || row_count || ' '"
          + " || amount_sum || ' ' || amount_max FROM " + schema + ".sales_agg"
          + " ORDER BY day, region NULLS FIRST");
    }
  }

  static List<String> rows(Statement s, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}
