package dev.landfall.pipeline;

import dev.landfall.io.testing.PostgresTestBase;
import org.junit.jupiter.api.Test;

/** {@link ChangingDataScenario} on the DirectRunner, backfill and watch mode. */
class ChangingDataTest extends PostgresTestBase {
  private ChangingDataScenario scenario() {
    return new ChangingDataScenario(dir, postgres.jdbcUrl());
  }

  @Test
  void aBackfillRescuesUnknownColumns() throws Exception {
    scenario().aBackfillRescuesUnknownColumns("rescue");
  }

  @Test
  void aWatchRunRescuesUnknownColumns() throws Exception {
    scenario().aWatchRunRescuesUnknownColumns("rescue_watch");
  }

  @Test
  void aFileWithUnknownColumnsIsRejectedWhenTheDefinitionSaysSo() throws Exception {
    scenario().aFileWithUnknownColumnsIsRejectedWhenTheDefinitionSaysSo("reject_unknown");
  }

  @Test
  void nullIsAGroupInABackfillAndInALaterOne() throws Exception {
    scenario().nullIsAGroupInABackfillAndInALaterOne("null_groups");
  }

  @Test
  void nullIsAGroupInAWatchRun() throws Exception {
    scenario().nullIsAGroupInAWatchRun("null_groups_watch");
  }

  @Test
  void rowsTakeTheDimensionAsOfTheirEventTime() throws Exception {
    scenario().rowsTakeTheDimensionAsOfTheirEventTime("as_of");
  }

  @Test
  void aNewVersionDuringAWatchRunAppliesFromItsStart() throws Exception {
    scenario().aNewVersionDuringAWatchRunAppliesFromItsStart("as_of_watch");
  }
}
