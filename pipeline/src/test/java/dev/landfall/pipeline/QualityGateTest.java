package dev.landfall.pipeline;

import dev.landfall.io.testing.PostgresTestBase;
import org.junit.jupiter.api.Test;

/** {@link QualityGateScenario} on the DirectRunner: a backfill and a watch run. */
class QualityGateTest extends PostgresTestBase {
  private QualityGateScenario scenario() {
    return new QualityGateScenario(dir, postgres.jdbcUrl());
  }

  @Test
  void aFileOverTheLimitIsQuarantinedInABackfill() throws Exception {
    scenario().aFileOverTheLimitIsQuarantinedInABackfill("gate_backfill");
  }

  @Test
  void aFileOverTheLimitIsQuarantinedInAWatch() throws Exception {
    scenario().aFileOverTheLimitIsQuarantinedInAWatch("gate_watch");
  }
}
