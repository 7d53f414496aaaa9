package dev.landfall.runners;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.WatchScenario;
import org.junit.jupiter.api.Test;

/**
 * Watch mode on the FlinkRunner (embedded local Flink, streaming, parallelism 2) against a real
 * PostgreSQL: the same scenarios as on the DirectRunner.
 */
class WatchFlinkRunnerTest extends PostgresTestBase {
  private static final String[] FLINK = {
    "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"
  };

  @Test
  void filesLandingDuringARunAreEachIngestedOnce() throws Exception {
    new WatchScenario(dir, postgres.jdbcUrl(), FLINK)
        .filesLandingDuringARunAreEachIngestedOnce("watch_flink");
  }

  @Test
  void aRestartFinishesWhatAStoppedRunLeftAndNothingTwice() throws Exception {
    new WatchScenario(dir, postgres.jdbcUrl(), FLINK)
        .aRestartFinishesWhatAStoppedRunLeftAndNothingTwice("restart_flink");
  }
}
