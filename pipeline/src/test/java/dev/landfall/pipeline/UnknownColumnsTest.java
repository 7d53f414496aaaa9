package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * CSV columns the definition does not name: kept per row in {@code _rescued} (jsonb in
 * PostgreSQL, a map in Parquet) by a backfill and by a watch run, or the file rejected.
 */
class UnknownColumnsTest extends PostgresTestBase {
  static final String DEF = "{\"name\": \"orders\", \"unknownColumns\": \"%s\","
      + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
      + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
      + "{\"name\": \"qty\", \"type\": \"int\"}], \"key\": [\"order_id\"]}";
  static final String CSV = "order_id,qty,Promo Code,channel\n"
      + "o1,3,SPRING,web\n" + "o2,4,,\n" + "o3,5,\"say \"\"hi\"\"\",app\n";

  private Path input(String name) throws Exception {
    Path in = dir.resolve(name);
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.writeString(in.resolve("day=2024-03-01/a.csv"), CSV);
    return in;
  }

  private Path definition(String mode) throws Exception {
    return Files.writeString(dir.resolve(mode + ".json"), String.format(DEF, mode));
  }

  @Test
  void aBackfillRescuesUnknownColumns() throws Exception {
    Path work = dir.resolve("backfill-work");
    RunSummary run = LandfallPipeline.run(EndToEndChecks.options(input("backfill-in"), work,
        postgres.jdbcUrl(), "--dbSchema=rescue", "--datasetFile=" + definition("rescue")));
    assertThat(run.render(), run.rowsValid, equalTo(3L));
    assertRescued("rescue", work);
  }

  @Test
  void aWatchRunRescuesUnknownColumns() throws Exception {
    Path in = input("watch-in");
    Path work = dir.resolve("watch-work");
    Path def = definition("rescue");
    CompletableFuture<RunSummary> run = CompletableFuture.supplyAsync(() -> {
      try {
        return LandfallPipeline.run(EndToEndChecks.options(in, work, postgres.jdbcUrl(),
            "--dbSchema=rescue_watch", "--datasetFile=" + def, "--watch", "--pollInterval=1s",
            "--stopAfterIdle=5s"));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    RunSummary summary = run.get(180, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    assertRescued("rescue_watch", work);
  }

  @Test
  void aFileWithUnknownColumnsIsRejectedWhenTheDefinitionSaysSo() throws Exception {
    RunSummary run = LandfallPipeline.run(EndToEndChecks.options(input("reject-in"),
        dir.resolve("reject-work"), postgres.jdbcUrl(), "--dbSchema=reject_unknown",
        "--datasetFile=" + definition("reject")));
    assertThat(run.render(), run.rowsValid, equalTo(0L));
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl()); Statement s = c.createStatement()) {
      List<String> rejects = rows(s, "SELECT line_number || ' ' || reason || ' ' || message"
          + " FROM reject_unknown.orders_rejects");
      assertThat(rejects.size(), equalTo(1));
      assertThat(rejects.get(0), allOf(containsString("1 header"),
          containsString("[channel, promo code]"), containsString("unknownColumns is reject")));
      assertThat(rows(s, "SELECT count(*) FROM reject_unknown.orders"), equalTo(List.of("0")));
    }
  }

  private static void assertRescued(String schema, Path work) throws Exception {
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl()); Statement s = c.createStatement()) {
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
          + " || typeof(_rescued) FROM read_parquet('" + work.resolve("parquet")
          + "/orders/**/*.parquet') ORDER BY order_id"), equalTo(List.of(
              "o1 {channel=web, promo code=SPRING} MAP(VARCHAR, VARCHAR)",
              "o2 - MAP(VARCHAR, VARCHAR)",
              "o3 {channel=app, promo code=say \"hi\"} MAP(VARCHAR, VARCHAR)")));
    }
  }

  private static List<String> rows(Statement s, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}
