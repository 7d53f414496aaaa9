package dev.landfall.runners;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.SecretScan;
import org.junit.jupiter.api.Test;

/**
 * The database password never shows on the FlinkRunner either: not in the logs of the embedded
 * Flink, not in the job's parameters (it is never an option), not in the tables.
 */
class SecretsFlinkRunnerTest extends PostgresTestBase {
  @Test
  void thePasswordAppearsNowhereOnFlink() throws Exception {
    SecretScan.assertPasswordNeverShows(
        dir,
        postgres,
        "secure_flink",
        "--runner=FlinkRunner",
        "--flinkMaster=[local]",
        "--parallelism=2");
  }
}
