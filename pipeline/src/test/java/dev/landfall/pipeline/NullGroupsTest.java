package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An aggregate grouped by a column that may be empty: NULL is one group of its own (apart from
 * the text "null"), in a backfill, in a later backfill that adds to it, and in a watch run.
 */
class NullGroupsTest extends PostgresTestBase {
  static final String DEF = "{\"name\": \"sales\","
      + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
      + "{\"name\": \"sale_id\", \"type\": \"string\", \"required\": true},"
      + "{\"name\": \"region\", \"type\": \"string\"},"
      + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\", \"required\": true}],"
      + " \"key\": [\"sale_id\"],"
      + " \"aggregates\": {\"groupBy\": [\"day\", \"region\"],"
      + "   \"measures\": {\"amount\": [\"sum\", \"max\"]}}}";
  static final String A = "sale_id,region,amount\n"
      + "s1,eu,10.00\n" + "s2,,5.00\n" + "s3,null,7.00\n" + "s4,,1.00\n";
  static final String B = "sale_id,region,amount\n" + "s5,,4.00\n" + "s6,eu,2.00\n";

  static final List<String> AFTER_A = List.of("2024-03-01 - 2 6.00 5.00",
      "2024-03-01 eu 1 10.00 10.00", "2024-03-01 null 1 7.00 7.00");
  static final List<String> AFTER_B = List.of("2024-03-01 - 3 10.00 5.00",
      "2024-03-01 eu 2 12.00 10.00", "2024-03-01 null 1 7.00 7.00");

  @Test
  void nullIsAGroupInABackfillAndInALaterOne() throws Exception {
    Path in = dir.resolve("backfill-in");
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.writeString(in.resolve("day=2024-03-01/a.csv"), A);
    Path def = Files.writeString(dir.resolve("sales.json"), DEF);
    Path work = dir.resolve("backfill-work");
    RunSummary first = LandfallPipeline.run(EndToEndChecks.options(in, work, postgres.jdbcUrl(),
        "--dbSchema=null_groups", "--datasetFile=" + def));
    assertThat(first.render(), first.rowsValid, equalTo(4L));
    assertThat(aggregates("null_groups"), equalTo(AFTER_A));

    Files.writeString(in.resolve("day=2024-03-01/b.csv"), B);
    RunSummary second = LandfallPipeline.run(EndToEndChecks.options(in, work, postgres.jdbcUrl(),
        "--dbSchema=null_groups", "--datasetFile=" + def));
    assertThat(second.render(), second.rowsValid, equalTo(2L));
    assertThat(aggregates("null_groups"), equalTo(AFTER_B));
  }

  @Test
  void nullIsAGroupInAWatchRun() throws Exception {
    Path in = dir.resolve("watch-in");
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.writeString(in.resolve("day=2024-03-01/a.csv"), A);
    Path def = Files.writeString(dir.resolve("sales-watch.json"), DEF);
    CompletableFuture<RunSummary> run = CompletableFuture.supplyAsync(() -> {
      try {
        return LandfallPipeline.run(EndToEndChecks.options(in, dir.resolve("watch-work"),
            postgres.jdbcUrl(), "--dbSchema=null_groups_watch", "--datasetFile=" + def,
            "--watch", "--pollInterval=1s", "--stopAfterIdle=10s"));
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    WatchScenario.await("the first file", 120,
        () -> WatchScenario.doneFiles(postgres.jdbcUrl(), "null_groups_watch") == 1);
    assertThat(aggregates("null_groups_watch"), equalTo(AFTER_A));
    Files.writeString(in.resolve("day=2024-03-01/b.csv"), B);
    RunSummary summary = run.get(120, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    assertThat(aggregates("null_groups_watch"), equalTo(AFTER_B));
  }

  static List<String> aggregates(String schema) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl()); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT day || ' ' || coalesce(region, '-') || ' '"
            + " || row_count || ' ' || amount_sum || ' ' || amount_max FROM " + schema
            + ".sales_agg ORDER BY day, region NULLS FIRST")) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}
