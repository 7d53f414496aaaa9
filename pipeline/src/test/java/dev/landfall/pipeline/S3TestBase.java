package dev.landfall.pipeline;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.io.testing.S3ProxyServer;
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

  @AfterAll
  static void stopS3() throws Exception {
    S3Credentials.clear();
    if (s3 != null) {
      s3.close();
    }
  }
}
