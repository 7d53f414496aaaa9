package dev.landfall.io.testing;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base class of tests that need a real PostgreSQL: one embedded server (the real binary) per test
 * class, with its data and a scratch folder under a JUnit temporary directory.
 */
public abstract class PostgresTestBase {
  @TempDir protected static Path dir;
  protected static EmbeddedPostgresServer postgres;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = EmbeddedPostgresServer.start(dir.resolve("pg"), 0);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }
}
