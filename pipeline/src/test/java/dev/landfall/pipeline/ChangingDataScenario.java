package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.postgres.DatasetTables;
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
  static final String ORDERS =
      "{\"name\": \"orders\", \"unknownColumns\": \"%s\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"int\"}], \"key\": [\"order_id\"]}";

  static final String ORDERS_CSV =
      "order_id,qty,Promo Code,channel\n"
          + "o1,3,SPRING,web\n"
          + "o2,4,,\n"
          + "o3,5,\"say \"\"hi\"\"\",app\n";

  /** Sales: grouped by day and a region that may be empty. */
  static final String SALES =
      "{\"name\": \"sales\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"sale_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"region\", \"type\": \"string\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\", \"required\": true}],"
          + " \"key\": [\"sale_id\"],"
          + " \"aggregates\": {\"groupBy\": [\"day\", \"region\"],"
          + "   \"measures\": {\"amount\": [\"sum\", \"max\"]}}}";

  static final String SALES_A =
      "sale_id,region,amount\n" + "s1,eu,10.00\n" + "s2,,5.00\n" + "s3,null,7.00\n" + "s4,,1.00\n";
  static final String SALES_B = "sale_id,region,amount\n" + "s5,,4.00\n" + "s6,eu,2.00\n";
  static final List<String> AFTER_A =
      List.of(
          "2024-03-01 - 2 6.00 5.00", "2024-03-01 eu 1 10.00 10.00", "2024-03-01 null 1 7.00 7.00");
  static final List<String> AFTER_B =
      List.of(
          "2024-03-01 - 3 10.00 5.00",
          "2024-03-01 eu 2 12.00 10.00",
          "2024-03-01 null 1 7.00 7.00");

  /** Usage: each row takes the team its account had at the row's event time. */
  static final String USAGE =
      "{\"name\": \"usage\", \"eventTime\": \"event_time\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"event_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"event_time\", \"type\": \"timestamp\", \"required\": true},"
          + "{\"name\": \"account_id\", \"type\": \"string\"}], \"key\": [\"event_id\"],"
          + " \"lookups\": [{\"table\": \"account_teams\", \"on\": \"account_id\","
          + "   \"columns\": [\"team\"], \"validFrom\": \"valid_from\", \"validTo\": \"valid_to\"}]}";

  static final String USAGE_A =
      "event_id,event_time,account_id\n"
          + "e1,2024-03-01T11:59:59Z,acct-1\n"
          + "e2,2024-03-01T12:00:00Z,acct-1\n"
          + "e3,2024-03-01T05:00:00Z,acct-2\n"
          + "e4,2024-03-01T07:00:00Z,acct-2\n"
          + "e5,2024-03-01T07:00:00Z,acct-3\n";
  static final List<String> TEAMS_A = List.of("e1 red", "e2 blue", "e3 green", "e4 -", "e5 -");

  private final Path dir;
  private final String jdbcUrl;
  private final String[] runnerArgs;

  /**
   * @param runnerArgs extra options, e.g. {@code --runner=FlinkRunner}
   */
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
    return LandfallPipeline.run(
        EndToEndChecks.options(
            in, dir.resolve(schema + "-work"), jdbcUrl, args.toArray(new String[0])));
  }

  private CompletableFuture<RunSummary> watch(Path in, String schema, String definition) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return run(
                in, schema, definition, "--watch", "--pollInterval=1s", "--stopAfterIdle=10s");
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
    RunSummary run =
        run(input(schema, "a.csv", ORDERS_CSV), schema, String.format(ORDERS, "rescue"));
    assertThat(run.render(), run.rowsValid, equalTo(3L));
    assertRescued(schema);
  }

  /** A watch run keeps them too (its Parquet files are written back from PostgreSQL). */
  public void aWatchRunRescuesUnknownColumns(String schema) throws Exception {
    RunSummary summary =
        watch(input(schema, "a.csv", ORDERS_CSV), schema, String.format(ORDERS, "rescue"))
            .get(180, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    assertRescued(schema);
  }

  /** With {@code "unknownColumns": "reject"} the file is rejected at its header, naming them. */
  public void aFileWithUnknownColumnsIsRejectedWhenTheDefinitionSaysSo(String schema)
      throws Exception {
    RunSummary run =
        run(input(schema, "a.csv", ORDERS_CSV), schema, String.format(ORDERS, "reject"));
    assertThat(run.render(), run.rowsValid, equalTo(0L));
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      List<String> rejects =
          rows(
              s,
              "SELECT line_number || ' ' || reason || ' ' || message"
                  + " FROM "
                  + schema
                  + ".orders_rejects");
      assertThat(rejects.size(), equalTo(1));
      assertThat(
          rejects.get(0),
          allOf(
              containsString("1 header"),
              containsString("[channel, promo code]"),
              containsString("unknownColumns is reject")));
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
    WatchScenario.await("the first file", 120, () -> WatchScenario.doneFiles(jdbcUrl, schema) == 1);
    assertThat(aggregates(schema), equalTo(AFTER_A));
    input(schema, "b.csv", SALES_B);
    RunSummary summary = run.get(120, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    assertThat(aggregates(schema), equalTo(AFTER_B));
  }

  /**
   * A dimension with versions: each row takes the version valid at its event time (the start
   * inclusive, the end exclusive); a value without a version then, or unknown, stays empty.
   */
  public void rowsTakeTheDimensionAsOfTheirEventTime(String schema) throws Exception {
    Path in = input(schema, "a.csv", USAGE_A);
    teams(schema);
    RunSummary run = run(in, schema, USAGE);
    assertThat(run.render(), run.rowsLookupMissing, equalTo(2L));
    assertThat(teamsOfRows(schema), equalTo(TEAMS_A));
  }

  /**
   * During a watch run a new version of a value applies to the rows whose event time is after it
   * starts, in files read after the change; rows already stored keep theirs.
   */
  public void aNewVersionDuringAWatchRunAppliesFromItsStart(String schema) throws Exception {
    Path in = input(schema, "a.csv", USAGE_A);
    teams(schema);
    CompletableFuture<RunSummary> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return run(
                    in,
                    schema,
                    USAGE,
                    "--watch",
                    "--pollInterval=1s",
                    "--stopAfterIdle=10s",
                    "--lookupRefresh=500ms");
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    WatchScenario.await("the first file", 120, () -> WatchScenario.doneFiles(jdbcUrl, schema) == 1);
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      s.execute(
          "UPDATE "
              + schema
              + ".account_teams SET valid_to = '2024-03-01T18:00:00Z'"
              + " WHERE account_id = 'acct-1' AND valid_to IS NULL");
      s.execute(
          "INSERT INTO "
              + schema
              + ".account_teams VALUES"
              + " ('acct-1', 'purple', '2024-03-01T18:00:00Z', NULL)");
    }
    // Read at least a --pollInterval after landing: later than --lookupRefresh.
    input(
        schema,
        "b.csv",
        "event_id,event_time,account_id\n"
            + "e6,2024-03-01T17:00:00Z,acct-1\n"
            + "e7,2024-03-01T19:00:00Z,acct-1\n");
    RunSummary summary = run.get(120, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    List<String> expected = new ArrayList<>(TEAMS_A);
    expected.addAll(List.of("e6 blue", "e7 purple"));
    assertThat(teamsOfRows(schema), equalTo(expected));
  }

  /** acct-1: red until 12:00, blue since; acct-2: green from 00:00 to 06:00 only. */
  private void teams(String schema) throws Exception {
    dev.landfall.io.postgres.PostgresTables.createAll(
        new dev.landfall.io.postgres.Database(jdbcUrl, "postgres"),
        DatasetTables.of(
            dev.landfall.transforms.definition.DatasetDefinition.fromJson(USAGE), schema),
        dev.landfall.io.ledger.FileLedger::createTables);
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO "
              + schema
              + ".account_teams (account_id, team, valid_from,"
              + " valid_to) VALUES ('acct-1', 'red', '2000-01-01T00:00:00Z', '2024-03-01T12:00:00Z'),"
              + " ('acct-1', 'blue', '2024-03-01T12:00:00Z', NULL),"
              + " ('acct-2', 'green', '2024-03-01T00:00:00Z', '2024-03-01T06:00:00Z')");
    }
  }

  private List<String> teamsOfRows(String schema) throws Exception {
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      return rows(
          s,
          "SELECT event_id || ' ' || coalesce(team, '-') FROM "
              + schema
              + ".usage"
              + " ORDER BY event_id");
    }
  }

  private void assertRescued(String schema) throws Exception {
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      assertThat(
          rows(
              s,
              "SELECT order_id || ' ' || coalesce(_rescued::text, '-') FROM "
                  + schema
                  + ".orders ORDER BY order_id"),
          equalTo(
              List.of(
                  "o1 {\"channel\": \"web\", \"promo code\": \"SPRING\"}",
                  "o2 -",
                  "o3 {\"channel\": \"app\", \"promo code\": \"say \\\"hi\\\"\"}")));
      assertThat(
          rows(
              s,
              "SELECT data_type FROM information_schema.columns WHERE table_schema = '"
                  + schema
                  + "' AND column_name = '_rescued'"),
          equalTo(List.of("jsonb")));
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement()) {
      assertThat(
          rows(
              s,
              "SELECT order_id || ' ' || coalesce(_rescued::varchar, '-') || ' '"
                  + " || typeof(_rescued) FROM read_parquet('"
                  + dir.resolve(schema + "-work").resolve("parquet")
                  + "/orders/**/*.parquet') ORDER BY order_id"),
          equalTo(
              List.of(
                  "o1 {channel=web, promo code=SPRING} MAP(VARCHAR, VARCHAR)",
                  "o2 - MAP(VARCHAR, VARCHAR)",
                  "o3 {channel=app, promo code=say \"hi\"} MAP(VARCHAR, VARCHAR)")));
    }
  }

  private List<String> aggregates(String schema) throws Exception {
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      return rows(
          s,
          "SELECT day || ' ' || coalesce(region, '-') || ' ' || row_count || ' '"
              + " || amount_sum || ' ' || amount_max FROM "
              + schema
              + ".sales_agg"
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
