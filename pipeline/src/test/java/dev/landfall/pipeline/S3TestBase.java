package dev.landfall.pipeline;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.io.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Tests against S3Proxy on loopback (signature-checked) and a real PostgreSQL: the server starts
 * once per class, and credentials reach jobs only through the AWS default provider chain (system
 * properties here). Subclasses create their buckets in their own {@code @BeforeAll}.
 */
abstract class S3TestBase extends PostgresTestBase {
  static S3ProxyServer s3;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyServer.start(dir.resolve("s3"));
    S3Credentials.useChainCredentials(s3.identity(), s3.credential());
  }

  /**
   * Copies the first {@code n} CSV files of {@code local} (in name order) under {@code
   * <name>-first} and the others under {@code <name>-rest}: what is there when a watch starts, and
   * what lands during it. Returns both folders.
   */
  static Path[] splitFiles(Path local, int n, String name) throws IOException {
    List<Path> files = WatchScenario.csvFiles(local);
    Path first = dir.resolve(name + "-first");
    Path rest = dir.resolve(name + "-rest");
    for (int i = 0; i < files.size(); i++) {
      Path target = (i < n ? first : rest).resolve(files.get(i));
      Files.createDirectories(target.getParent());
      Files.copy(local.resolve(files.get(i)), target);
    }
    return new Path[] {first, rest};
  }

  @AfterAll
  static void stopS3() throws Exception {
    S3Credentials.clear();
    if (s3 != null) {
      s3.close();
    }
  }
}
