package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The billing definition's {@code accounts} lookup: rows get the account's name, team and cost
 * centre; unknown accounts are kept with empty attributes and counted; a watch run picks up changes
 * to the lookup table without a restart.
 */
class EnrichmentTest extends PostgresTestBase {
  private static void accounts(String schema, int from, int to, String team) throws Exception {
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl());
        Statement s = c.createStatement()) {
      for (int i = from; i < to; i++) {
        s.execute(
            "INSERT INTO "
                + schema
                + ".accounts VALUES ('acct-"
                + i
                + "', 'Name "
                + i
                + "', '"
                + team
                + "', 'CC-"
                + i
                + "') ON CONFLICT (account_id) DO UPDATE SET"
                + " team = EXCLUDED.team");
      }
    }
  }

  private static long count(String sql) throws Exception {
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      return EndToEndChecks.scalar(c, sql);
    }
  }

  @Test
  void rowsGetTheirAccountAndUnknownAccountsAreKeptAndCounted() throws Exception {
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    PostgresTables.createAll(
        new Database(postgres.jdbcUrl(), "postgres"),
        DatasetTables.of(def, "enrich"),
        FileLedger::createTables);
    accounts("enrich", 0, 10, "platform");
    Path input = dir.resolve("enrich-in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(3_000, 8).writeTo(input);
    Path work = dir.resolve("enrich-work");
    RunSummary run =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, postgres.jdbcUrl(), "--dbSchema=enrich"));
    assertThat(run.render(), run.succeeded(), equalTo(true));

    long unknown =
        count(
            "SELECT count(*) FROM enrich.billing b WHERE NOT EXISTS"
                + " (SELECT 1 FROM enrich.accounts a WHERE a.account_id = b.account_id)");
    assertThat(unknown > 0 && unknown < exp.valid, equalTo(true));
    assertThat("every row kept", count("SELECT count(*) FROM enrich.billing"), equalTo(exp.valid));
    assertThat("unknown accounts counted", run.rowsLookupMissing, equalTo(unknown));
    assertThat(
        "known accounts enriched",
        count(
            "SELECT count(*) FROM enrich.billing b"
                + " JOIN enrich.accounts a USING (account_id) WHERE b.account_name = a.account_name"
                + " AND b.team = a.team AND b.cost_centre = a.cost_centre"),
        equalTo(exp.valid - unknown));
    assertThat(
        "unknown accounts have empty attributes",
        count(
            "SELECT count(*) FROM" + " enrich.billing WHERE account_name IS NULL AND team IS NULL"),
        equalTo(unknown));
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(team), typeof(any_value(team)) FROM"
                    + " read_parquet('"
                    + work.resolve("parquet")
                    + "/billing/**/*.parquet')")) {
      r.next();
      assertThat(
          "the attributes are in the Parquet files too",
          r.getLong(1),
          equalTo(exp.valid - unknown));
      assertThat(r.getString(2), equalTo("VARCHAR"));
    }
  }

  @Test
  void aWatchRunFollowsChangesToTheLookupTable() throws Exception {
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    PostgresTables.createAll(
        new Database(postgres.jdbcUrl(), "postgres"),
        DatasetTables.of(def, "enrich_watch"),
        FileLedger::createTables);
    accounts("enrich_watch", 0, 25, "before");
    Path pool = dir.resolve("lookup-pool");
    Path input = dir.resolve("lookup-in");
    new BillingSampleGenerator(2_000, 2, 1, 0.0, 0.0, 4).writeTo(pool);
    List<Path> files = WatchScenario.csvFiles(pool);
    WatchScenario.land(pool, input, files.subList(0, 1), true);
    CompletableFuture<RunSummary> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return LandfallPipeline.run(
                    EndToEndChecks.options(
                        input,
                        dir.resolve("lookup-work"),
                        postgres.jdbcUrl(),
                        "--dbSchema=enrich_watch",
                        "--watch",
                        "--pollInterval=1s",
                        "--stopAfterIdle=10s",
                        "--lookupRefresh=500ms"));
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    WatchScenario.await(
        "the first file",
        120,
        () -> WatchScenario.doneFiles(postgres.jdbcUrl(), "enrich_watch") == 1);
    accounts("enrich_watch", 0, 50, "after"); // every account known now, all moved team
    // Landed now, the file is taken only once it is a whole --pollInterval (1 s) old, so it is
    // read at least 1 s after the change: later than --lookupRefresh, without a sleep here.
    WatchScenario.land(pool, input, files.subList(1, 2), false);
    RunSummary summary = run.get(120, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));

    String second = input.resolve(files.get(1)).toString();
    String first = input.resolve(files.get(0)).toString();
    assertThat(
        "the file after the change sees it",
        count(
            "SELECT count(*) FROM"
                + " enrich_watch.billing WHERE source_file = '"
                + second
                + "' AND (team IS DISTINCT FROM"
                + " 'after')"),
        equalTo(0L));
    assertThat(
        "rows keep the attributes they were ingested with",
        count(
            "SELECT count(*) FROM"
                + " enrich_watch.billing WHERE source_file = '"
                + first
                + "' AND team = 'after'"),
        equalTo(0L));
  }
}
