package dev.landfall.pipeline;

import dev.landfall.io.testing.PostgresTestBase;
import org.junit.jupiter.api.Test;

/** Watch mode on the DirectRunner against a real PostgreSQL (see {@link WatchScenario}). */
class WatchDirectRunnerTest extends PostgresTestBase {
  @Test
  void filesLandingDuringARunAreEachIngestedOnce() throws Exception {
    new WatchScenario(dir, postgres.jdbcUrl())
        .filesLandingDuringARunAreEachIngestedOnce("watch_direct");
  }

  @Test
  void aChangedFileIsReportedAndReplacedOnlyWhenAsked() throws Exception {
    new WatchScenario(dir, postgres.jdbcUrl())
        .aChangedFileIsReportedAndReplacedOnlyWhenAsked("changed_direct");
  }

  @Test
  void aRestartFinishesWhatAStoppedRunLeftAndNothingTwice() throws Exception {
    new WatchScenario(dir, postgres.jdbcUrl())
        .aRestartFinishesWhatAStoppedRunLeftAndNothingTwice("restart_direct");
  }
}
