package dev.landfall.pipeline;

import dev.landfall.io.testing.PostgresTestBase;
import org.junit.jupiter.api.Test;

/** The database password never shows (see {@link SecretScan}), on the DirectRunner. */
class SecretsTest extends PostgresTestBase {
  @Test
  void thePasswordAppearsNowhereAndAWrongOneIsNotEchoed() throws Exception {
    SecretScan.assertPasswordNeverShows(dir, postgres, "secure_direct");
  }
}
