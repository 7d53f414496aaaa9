package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.s3.S3AccessException;
import dev.landfall.io.testing.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3 problems found before the job starts: one clear error naming the bucket and where the
 * credentials came from, never the secret, and nothing written (the database URL points nowhere, so
 * getting past the check would fail differently).
 */
class S3FailFastTest {
  private static final String NO_DB = "--jdbcUrl=jdbc:postgresql://127.0.0.1:1/nowhere";

  @TempDir static Path dir;
  private static S3ProxyServer s3;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyServer.start(dir);
    s3.createBucket("billing-in");
    s3.createBucket("lake");
    Path in = Files.createDirectories(dir.resolve("in/date=2024-01-01"));
    Files.writeString(in.resolve("a.csv"), "event_id\n");
    s3.upload(dir.resolve("in"), "billing-in", "billing");
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  @AfterEach
  void forgetCredentials() {
    S3Credentials.clear();
  }

  @Test
  void badCredentialsNameTheBucketAndTheirSourceButNotTheSecret() {
    String wrongSecret = "not-the-secret-" + s3.credential().substring(0, 6);
    S3Credentials.useChainCredentials(s3.identity(), wrongSecret);

    S3AccessException e =
        assertThrows(
            S3AccessException.class,
            () ->
                LandfallPipeline.run(
                    S3BackfillTest.options(
                        s3,
                        "s3://billing-in/billing",
                        "s3://lake/curated",
                        NO_DB,
                        "--workDir=" + dir.resolve("work"))));

    assertThat(e.getMessage(), containsString("'billing-in'"));
    assertThat(e.getMessage(), containsString("--input"));
    assertThat(e.getMessage(), containsString("system properties"));
    assertThat(e.getMessage(), containsString("SignatureDoesNotMatch"));
    assertThat(e.getMessage(), not(containsString(wrongSecret)));
    assertThat(e.getMessage(), not(containsString(s3.credential())));
    assertThat(s3.keys("lake", ""), empty());
  }

  @Test
  void unknownAccessKeyIsRejectedToo() {
    S3Credentials.useChainCredentials("nobody", s3.credential());

    S3AccessException e =
        assertThrows(
            S3AccessException.class,
            () ->
                LandfallPipeline.run(
                    S3BackfillTest.options(
                        s3, "s3://billing-in/billing", "s3://lake/curated", NO_DB)));

    assertThat(e.getMessage(), containsString("'billing-in'"));
    assertThat(e.getMessage(), containsString("InvalidAccessKeyId"));
    assertThat(e.getMessage(), not(containsString(s3.credential())));
  }

  @Test
  void missingInputBucketIsNamed() {
    S3Credentials.useChainCredentials(s3.identity(), s3.credential());

    S3AccessException e =
        assertThrows(
            S3AccessException.class,
            () ->
                LandfallPipeline.run(
                    S3BackfillTest.options(
                        s3, "s3://no-such-bucket/billing", "s3://lake/curated", NO_DB)));

    assertThat(e.getMessage(), containsString("'no-such-bucket'"));
    assertThat(e.getMessage(), containsString("--input=s3://no-such-bucket/billing"));
    assertThat(e.getMessage(), containsString("does not exist"));
    assertThat(s3.keys("lake", ""), empty());
  }

  @Test
  void missingOutputBucketIsNamedBeforeAnythingIsRead() {
    S3Credentials.useChainCredentials(s3.identity(), s3.credential());

    S3AccessException e =
        assertThrows(
            S3AccessException.class,
            () ->
                LandfallPipeline.run(
                    S3BackfillTest.options(
                        s3, "s3://billing-in/billing", "s3://no-lake/curated", NO_DB)));

    assertThat(e.getMessage(), containsString("'no-lake'"));
    assertThat(e.getMessage(), containsString("--output"));
    assertThat(e.getMessage(), containsString("does not exist"));
  }

  @Test
  void staticKeysInOptionsAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LandfallPipeline.run(
                    S3BackfillTest.options(
                        s3,
                        "s3://billing-in/billing",
                        "s3://lake/curated",
                        NO_DB,
                        "--awsCredentialsProvider={\"@type\":"
                            + "\"StaticCredentialsProvider\",\"accessKeyId\":\"AKIAX\",\"secretAccessKey\":"
                            + "\"sekrit-value\"}")));

    assertThat(e.getMessage(), containsString("--awsCredentialsProvider"));
    assertThat(e.getMessage(), not(containsString("sekrit-value")));
  }
}
