package dev.landfall.runners;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.ChangingDataScenario;
import org.junit.jupiter.api.Test;

/**
 * {@code ChangingDataScenario} on the FlinkRunner (embedded local Flink, parallelism 2): rescued
 * columns, NULL groups and a dimension as of event time in a backfill, NULL groups in a watch run.
 */
class ChangingDataFlinkRunnerTest extends PostgresTestBase {
  private ChangingDataScenario scenario() {
    return new ChangingDataScenario(
        dir,
        postgres.jdbcUrl(),
        "--runner=FlinkRunner",
        "--flinkMaster=[local]",
        "--parallelism=2");
  }

  @Test
  void aBackfillRescuesUnknownColumns() throws Exception {
    scenario().aBackfillRescuesUnknownColumns("rescue_flink");
  }

  @Test
  void nullIsAGroupInABackfillAndInALaterOne() throws Exception {
    scenario().nullIsAGroupInABackfillAndInALaterOne("null_groups_flink");
  }

  @Test
  void nullIsAGroupInAWatchRun() throws Exception {
    scenario().nullIsAGroupInAWatchRun("null_groups_watch_flink");
  }

  @Test
  void rowsTakeTheDimensionAsOfTheirEventTime() throws Exception {
    scenario().rowsTakeTheDimensionAsOfTheirEventTime("as_of_flink");
  }
}
