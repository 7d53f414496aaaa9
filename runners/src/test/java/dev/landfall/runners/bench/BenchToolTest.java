package dev.landfall.runners.bench;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's PostgreSQL baselines on a small generated input, against the real server: plain
 * COPY, COPY through a staging table with a merge, and COPY first with the merge as fallback (in
 * batches that do not divide the files) each load every row exactly once.
 */
class BenchToolTest extends PostgresTestBase {
  @Test
  void copyBaselinesLoadEveryRowOnce() throws Exception {
    Path input = dir.resolve("bench-input");
    BenchTool.generate(input, 25_000, 0);
    String jdbc = postgres.jdbcUrl();

    BenchTool.copy(input, jdbc);
    assertThat(count(jdbc, "bench_copy.billing"), equalTo(25_000L));

    BenchTool.copyMerge(input, jdbc, 4_000, false);
    assertThat(count(jdbc, "bench_merge.billing"), equalTo(25_000L));
    BenchTool.copyMerge(input, jdbc, 4_000, true);
    assertThat(count(jdbc, "bench_merge.billing"), equalTo(25_000L));
    assertThat(
        count(jdbc, "bench_merge.billing"),
        equalTo(count(jdbc, "(SELECT DISTINCT event_id FROM bench_merge.billing) d")));
  }

  private static long count(String jdbc, String from) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbc, "postgres", "");
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM " + from)) {
      r.next();
      return r.getLong(1);
    }
  }
}
