package dev.landfall.runners;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.QualityGateScenario;
import org.junit.jupiter.api.Test;

/**
 * {@code QualityGateScenario} on the FlinkRunner (embedded local Flink, parallelism 2): a file over
 * the definition's quality rules is quarantined in a backfill (both passes) and in a watch.
 */
class QualityGateFlinkRunnerTest extends PostgresTestBase {
  private QualityGateScenario scenario() {
    return new QualityGateScenario(
        dir,
        postgres.jdbcUrl(),
        "--runner=FlinkRunner",
        "--flinkMaster=[local]",
        "--parallelism=2");
  }

  @Test
  void aFileOverTheLimitIsQuarantinedInABackfill() throws Exception {
    scenario().aFileOverTheLimitIsQuarantinedInABackfill("gate_backfill_flink");
  }

  @Test
  void aFileOverTheLimitIsQuarantinedInAWatch() throws Exception {
    scenario().aFileOverTheLimitIsQuarantinedInAWatch("gate_watch_flink");
  }
}
