package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.Test;

/** Backfill end to end on the DirectRunner against a real PostgreSQL. */
class BackfillDirectRunnerTest extends PostgresTestBase {
  @Test
  void generatedDataLandsExactlyAndASecondRunChangesNothing() throws Exception {
    Path input = dir.resolve("in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(6_000, 11).writeTo(input);
    Path work = dir.resolve("work");

    RunSummary first =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, postgres.jdbcUrl(), "--dbSchema=direct_e2e"));
    EndToEndChecks.assertBillingOutputs(
        first, exp, postgres.jdbcUrl(), "direct_e2e", work.resolve("parquet"));
    String before =
        EndToEndChecks.fingerprint(
            postgres.jdbcUrl(), "direct_e2e", work.resolve("parquet"), "billing");

    RunSummary second =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input, work, postgres.jdbcUrl(), "--dbSchema=direct_e2e", "--dedupeBuckets=0"));
    // The ledger knows every file: none is read again, and nothing changes.
    assertThat(second.filesRead, equalTo(0L));
    assertThat(second.filesAlreadyDone, equalTo(first.filesFinished));
    assertThat(second.rowsRead, equalTo(0L));
    assertThat(
        EndToEndChecks.fingerprint(
            postgres.jdbcUrl(), "direct_e2e", work.resolve("parquet"), "billing"),
        equalTo(before));
    assertThat(first.render(), containsString("all accounted for"));
  }

  @Test
  void embeddedDefaultKeepsItsDataForLaterQueries() throws Exception {
    Path work = dir.resolve("default");
    RunSummary summary = LandfallPipeline.run(EndToEndChecks.defaults(work, "--sampleRows=3000"));
    assertThat(summary.succeeded(), equalTo(true));
    assertThat(summary.rowsRead, equalTo(3000L));
    assertThat(summary.render(), containsString("psql -h 127.0.0.1 -p "));
    try (EmbeddedPostgresServer again = EmbeddedPostgresServer.start(work.resolve("pgdata"), 0);
        Connection c = EndToEndChecks.pg(again.jdbcUrl())) {
      assertThat(
          EndToEndChecks.scalar(c, "SELECT count(*) FROM public.billing"),
          equalTo(summary.rowsValid));
    }
  }
}
