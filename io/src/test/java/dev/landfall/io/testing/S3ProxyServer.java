package dev.landfall.io.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3-compatible server for tests: S3Proxy (filesystem backend) started as a separate process
 * on 127.0.0.1 and a free port, with an identity and a random credential so every request is
 * signature-checked (AWS v2/v4). The jar comes from the build ({@code maven-dependency-plugin}
 * copies it to {@code target/s3proxy/s3proxy.jar}); it is never on the test class path because its
 * dependencies clash with Beam's. {@link #client()} is a plain SDK client for arranging and
 * inspecting buckets.
 */
public final class S3ProxyServer implements AutoCloseable {
  public static final String IDENTITY = "landfall-test";
  public static final String REGION = "us-east-1";

  private final Process process;
  private final int port;
  private final String credential;
  private final Path log;
  private final S3Client client;

  private S3ProxyServer(Process process, int port, String credential, Path log) {
    this.process = process;
    this.port = port;
    this.credential = credential;
    this.log = log;
    this.client =
        S3Client.builder()
            .endpointOverride(endpoint())
            .region(Region.of(REGION))
            .forcePathStyle(true)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, credential)))
            .build();
  }

  /** Starts a server keeping its buckets under {@code dir}; waits until it answers (about 2 s). */
  public static S3ProxyServer start(Path dir) throws IOException, InterruptedException {
    Path jar = Paths.get(System.getProperty("s3proxy.jar", "target/s3proxy/s3proxy.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar.toAbsolutePath()
              + " is missing: the build copies it in"
              + " generate-test-resources (maven-dependency-plugin execution copy-s3proxy)");
    }
    Path data = Files.createDirectories(dir.resolve("s3-data"));
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    byte[] secret = new byte[16];
    new SecureRandom().nextBytes(secret);
    String credential = HexFormat.of().formatHex(secret);
    Path properties = dir.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=http://127.0.0.1:" + port,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + IDENTITY,
            "s3proxy.credential=" + credential,
            "s3proxy.v4-max-non-chunked-request-size=134217728",
            "jclouds.provider=filesystem-nio2",
            "jclouds.filesystem.basedir=" + data.toAbsolutePath(),
            ""));
    Path log = dir.resolve("s3proxy.log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.add("-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("s3-tmp")));
    cmd.add("-jar");
    cmd.add(jar.toAbsolutePath().toString());
    cmd.add("--properties");
    cmd.add(properties.toAbsolutePath().toString());
    Process process =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "S3Proxy exited with " + process.exitValue() + ": " + Files.readString(log));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        break;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          process.destroyForcibly();
          throw new IllegalStateException("S3Proxy did not listen on " + port + " within 60 s");
        }
        Thread.sleep(100);
      }
    }
    return new S3ProxyServer(process, port, credential, log);
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  public int port() {
    return port;
  }

  /** The access key id every request must be signed with. */
  public String identity() {
    return IDENTITY;
  }

  /** The secret key (random per server). */
  public String credential() {
    return credential;
  }

  public Path log() {
    return log;
  }

  /** A client with the server's credentials, path-style. */
  /**
   * Points Beam's file systems at {@code endpoint} (this server, or a proxy in front of it),
   * path-style through landfall's client factory, with this server's keys in the AWS chain (system
   * properties); returns the options. {@link #clearBeamDefaults} undoes it.
   */
  public org.apache.beam.sdk.io.aws2.options.S3Options useAsBeamDefault(URI endpoint) {
    System.setProperty("aws.accessKeyId", identity());
    System.setProperty("aws.secretAccessKey", credential());
    org.apache.beam.sdk.io.aws2.options.S3Options o =
        org.apache.beam.sdk.options.PipelineOptionsFactory.fromArgs(
                "--endpoint=" + endpoint, "--awsRegion=" + REGION)
            .as(org.apache.beam.sdk.io.aws2.options.S3Options.class);
    o.setS3ClientFactoryClass(dev.landfall.io.s3.LandfallS3ClientBuilderFactory.PathStyle.class);
    org.apache.beam.sdk.io.FileSystems.setDefaultPipelineOptions(o);
    return o;
  }

  /** Undoes {@link #useAsBeamDefault}. */
  public static void clearBeamDefaults() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    org.apache.beam.sdk.io.FileSystems.setDefaultPipelineOptions(
        org.apache.beam.sdk.options.PipelineOptionsFactory.create());
  }

  public S3Client client() {
    return client;
  }

  public void createBucket(String bucket) {
    client.createBucket(b -> b.bucket(bucket));
  }

  /** Uploads every file under {@code dir} to {@code s3://bucket/prefix/<relative path>}. */
  public void upload(Path dir, String bucket, String prefix) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).collect(Collectors.toList())) {
        String key = prefix + "/" + dir.relativize(f).toString().replace('\\', '/');
        client.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromFile(f));
      }
    }
  }

  /** Keys under {@code prefix}, sorted. */
  public List<String> keys(String bucket, String prefix) {
    return client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
        .map(S3Object::key)
        .sorted()
        .collect(Collectors.toList());
  }

  /** Downloads every object under {@code prefix} to {@code dir/<key relative to prefix>}. */
  public void download(String bucket, String prefix, Path dir) throws IOException {
    for (String key : keys(bucket, prefix)) {
      Path target = dir.resolve(key.substring(prefix.length()).replaceFirst("^/", ""));
      Files.createDirectories(target.getParent());
      try (InputStream in = client.getObject(b -> b.bucket(bucket).key(key))) {
        Files.copy(in, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    client.close();
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
