package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.retry.Retry;
import dev.landfall.io.testing.FaultyS3Proxy;
import dev.landfall.io.testing.FaultyS3Proxy.Fault;
import dev.landfall.io.testing.FaultyS3Proxy.Kind;
import dev.landfall.io.testing.S3ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Reads of an S3 object (S3Proxy) whose answers are cut half-way ({@link FaultyS3Proxy}): the
 * object's bytes come whole and once; an object that changed, or ends before its listed size, fails
 * the read with the reason instead of giving a different or shorter file.
 */
class ResumingReadChannelTest {
  private static final Retry NO_WAIT = new Retry(4, Duration.ZERO, Duration.ZERO);

  @TempDir static Path dir;
  private static S3ProxyServer s3;
  private static byte[] object;
  private FaultyS3Proxy proxy;

  @BeforeAll
  static void startS3() throws Exception {
    s3 = S3ProxyServer.start(dir.resolve("s3"));
    s3.createBucket("objects");
    object = new byte[700_000];
    new Random(7).nextBytes(object);
    s3.client()
        .putObject(b -> b.bucket("objects").key("data/blob.bin"), RequestBody.fromBytes(object));
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (s3 != null) {
      s3.close();
    }
  }

  @BeforeEach
  void startProxy() throws IOException {
    proxy = FaultyS3Proxy.start(s3.endpoint());
    s3.useAsBeamDefault(proxy.endpoint());
  }

  @AfterEach
  void stopProxy() throws IOException {
    proxy.close();
    S3ProxyServer.clearBeamDefaults();
  }

  private static MatchResult.Metadata listed() throws IOException {
    return FileSystems.match("s3://objects/data/blob.bin").metadata().get(0);
  }

  private static byte[] readAll(ReadableByteChannel c) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = Channels.newInputStream(c)) {
      in.transferTo(out);
    }
    return out.toByteArray();
  }

  @Test
  void readsCutHalfWayAreResumedAndGiveTheWholeObjectOnce() throws Exception {
    MatchResult.Metadata m = listed();
    proxy.inject(Fault.CUT_BODY, Kind.GET_OBJECT, 1, 3);

    byte[] read = readAll(new ResumingReadChannel(m, NO_WAIT));

    assertThat(proxy.injected(Fault.CUT_BODY, Kind.GET_OBJECT), equalTo(3));
    assertThat(read.length, equalTo(object.length));
    assertThat(java.util.Arrays.equals(read, object), equalTo(true));
  }

  @Test
  void aSeekableReadIsResumedAtEachPosition() throws Exception {
    MatchResult.Metadata m = listed();
    proxy.inject(Fault.CUT_BODY, Kind.GET_OBJECT, 1, 2);
    try (ResumingReadChannel c = new ResumingReadChannel(m, NO_WAIT)) {
      c.position(500_000);
      ByteBuffer b = ByteBuffer.allocate(200_000);
      while (b.hasRemaining() && c.read(b) >= 0) {
        // to the end
      }
      assertThat(b.position(), equalTo(200_000));
      assertThat(
          java.util.Arrays.equals(
              b.array(), java.util.Arrays.copyOfRange(object, 500_000, 700_000)),
          equalTo(true));
      assertThat(c.read(ByteBuffer.allocate(1)), equalTo(-1));
    }
  }

  @Test
  void anObjectChangedSinceItWasListedIsNotResumed() throws Exception {
    MatchResult.Metadata listed = listed();
    MatchResult.Metadata older =
        MatchResult.Metadata.builder()
            .setResourceId(listed.resourceId())
            .setSizeBytes(listed.sizeBytes())
            .setIsReadSeekEfficient(true)
            .setLastModifiedMillis(listed.lastModifiedMillis() - 60_000)
            .build();
    proxy.inject(Fault.CUT_BODY, Kind.GET_OBJECT, 1, 1);

    IOException e =
        assertThrows(IOException.class, () -> readAll(new ResumingReadChannel(older, NO_WAIT)));

    assertThat(e.getMessage(), containsString("changed while it was read"));
  }

  @Test
  void anObjectEndingBeforeItsListedSizeIsAFaultNotAShorterFile() throws Exception {
    MatchResult.Metadata listed = listed();
    MatchResult.Metadata longer =
        MatchResult.Metadata.builder()
            .setResourceId(FileSystems.matchNewResource(listed.resourceId().toString(), false))
            .setSizeBytes(listed.sizeBytes() + 10)
            .setIsReadSeekEfficient(true)
            .setLastModifiedMillis(listed.lastModifiedMillis())
            .build();

    IOException e =
        assertThrows(IOException.class, () -> readAll(new ResumingReadChannel(longer, NO_WAIT)));

    // It ends early, and the resume finds the object smaller than listed.
    assertThat(e.getMessage(), containsString("listed with " + (object.length + 10) + " bytes"));
  }
}
