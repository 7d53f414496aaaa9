package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Backfill a folder, then watch it: the ledger holds the same facts of a file (size and
 * modification time) whichever path took it, so the watch that follows a backfill reads nothing,
 * marks nothing {@code changed} and pushes no event, even with {@code --reingestChanged}.
 */
class BackfillThenWatchTest extends PostgresTestBase {

  @Test
  void aWatchAfterABackfillOfTheSameFilesReadsNothingAndMarksNothingChanged() throws Exception {
    Path input = dir.resolve("in");
    new BillingSampleGenerator(3_000, 3, 3, 0.01, 0.02, 7).writeTo(input);
    String schema = "backfill_watch";
    RunSummary backfill =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input, dir.resolve("work"), postgres.jdbcUrl(), "--dbSchema=" + schema));
    assertThat(backfill.render(), backfill.succeeded(), equalTo(true));
    assertThat(backfill.filesFinished, greaterThan(0L));
    assertThat(
        "every backfilled file has its modification time",
        ledger(schema, "count(*) FILTER (WHERE modified_at IS NULL)"),
        equalTo("0"));
    String before =
        ledger(
            schema,
            "string_agg(path || ' ' || status || ' ' || finished_at," + " ', ' ORDER BY path)");

    RunSummary watch =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                dir.resolve("work"),
                postgres.jdbcUrl(),
                "--dbSchema=" + schema,
                "--watch",
                "--pollInterval=1s",
                "--stopAfterIdle=3s",
                "--reingestChanged"));

    assertThat(watch.render(), watch.succeeded(), equalTo(true));
    assertThat("changed", watch.filesChanged, equalTo(0L));
    assertThat("read", watch.filesClaimed, equalTo(0L));
    assertThat("already done", watch.filesAlreadyDone, equalTo(backfill.filesFinished));
    assertThat(
        ledger(
            schema,
            "string_agg(path || ' ' || status || ' ' || finished_at," + " ', ' ORDER BY path)"),
        equalTo(before));
  }

  /** One aggregate {@code expr} over the dataset's ledger rows, as text. */
  static String ledger(String schema, String expr) throws Exception {
    try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", "");
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT (" + expr + ")::text FROM " + schema + ".landfall_files")) {
      r.next();
      return r.getString(1);
    }
  }
}
