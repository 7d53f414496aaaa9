package dev.landfall.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.EndToEndChecks;
import dev.landfall.pipeline.LandfallPipeline;
import dev.landfall.pipeline.RunSummary;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Backfill end to end on the FlinkRunner (embedded local Flink, parallelism 2) against a real
 * PostgreSQL: same checks as on the DirectRunner, the same outputs as a DirectRunner run of the
 * same input and as Flink runs at parallelism 1 and 4, and a re-run that changes nothing.
 */
class BackfillFlinkRunnerTest extends PostgresTestBase {
  @Test
  void flinkGivesTheExpectedAndTheDirectRunnersOutputs() throws Exception {
    Path input = dir.resolve("in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(8_000, 23).writeTo(input);
    Path flinkWork = dir.resolve("flink");

    RunSummary first =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                flinkWork,
                postgres.jdbcUrl(),
                "--dbSchema=flink_e2e",
                "--runner=FlinkRunner",
                "--flinkMaster=[local]",
                "--parallelism=2"));
    EndToEndChecks.assertBillingOutputs(
        first, exp, postgres.jdbcUrl(), "flink_e2e", flinkWork.resolve("parquet"));
    String flink =
        EndToEndChecks.fingerprint(
            postgres.jdbcUrl(), "flink_e2e", flinkWork.resolve("parquet"), "billing");

    LandfallPipeline.run(
        EndToEndChecks.options(
            input,
            flinkWork,
            postgres.jdbcUrl(),
            "--dbSchema=flink_e2e",
            "--runner=FlinkRunner",
            "--flinkMaster=[local]",
            "--parallelism=2"));
    assertThat(
        "a second Flink run changes nothing",
        EndToEndChecks.fingerprint(
            postgres.jdbcUrl(), "flink_e2e", flinkWork.resolve("parquet"), "billing"),
        equalTo(flink));

    Path directWork = dir.resolve("direct");
    LandfallPipeline.run(
        EndToEndChecks.options(
            input, directWork, postgres.jdbcUrl(), "--dbSchema=direct_same_input"));
    assertThat(
        "rows and rejects equal the DirectRunner's",
        EndToEndChecks.contentFingerprint(
            postgres.jdbcUrl(), "direct_same_input", directWork.resolve("parquet"), "billing"),
        equalTo(
            EndToEndChecks.contentFingerprint(
                postgres.jdbcUrl(), "flink_e2e", flinkWork.resolve("parquet"), "billing")));

    // --parallelism is honoured and does not change the outputs.
    for (int parallelism : new int[] {1, 4}) {
      Path work = dir.resolve("flink-p" + parallelism);
      String schema = "flink_p" + parallelism;
      RunSummary run =
          LandfallPipeline.run(
              EndToEndChecks.options(
                  input,
                  work,
                  postgres.jdbcUrl(),
                  "--dbSchema=" + schema,
                  "--runner=FlinkRunner",
                  "--flinkMaster=[local]",
                  "--parallelism=" + parallelism));
      assertThat(run.render(), run.succeeded(), equalTo(true));
      assertThat(
          "parallelism " + parallelism + " gives the same outputs as parallelism 2",
          EndToEndChecks.contentFingerprint(
              postgres.jdbcUrl(), schema, work.resolve("parquet"), "billing"),
          equalTo(
              EndToEndChecks.contentFingerprint(
                  postgres.jdbcUrl(), "flink_e2e", flinkWork.resolve("parquet"), "billing")));
    }
  }
}
