package dev.landfall.io.s3;

import dev.landfall.io.retry.Retry;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.beam.sdk.io.aws2.options.S3ClientBuilderFactory;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.util.InstanceBuilder;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Checks, before a pipeline is built, that every {@code s3://} location it will use is reachable:
 * credentials resolve, the bucket exists and the credentials may list it. A problem becomes one
 * {@link S3AccessException} naming the bucket, the option it came from and the credential source
 * tried, instead of a failure deep inside a running job. Uses the same client factory, endpoint,
 * region and credentials as the job, with few retries so a dead endpoint fails in seconds.
 */
public final class S3Preflight {
  /** The bucket check's own attempts after the SDK's: for answers cut half-way. */
  private static final Retry LISTING = new Retry(3, Duration.ofSeconds(1), Duration.ofSeconds(2));

  private final S3Options options;

  /** s3:// location by the option that names it, e.g. "--input" -> "s3://bucket/billing". */
  private final Map<String, String> locations = new LinkedHashMap<>();

  private S3Preflight(S3Options options) {
    this.options = options;
  }

  public static S3Preflight of(S3Options options) {
    return new S3Preflight(options);
  }

  /** Adds a location to check if it is an {@code s3://} URI; other locations are ignored. */
  public S3Preflight location(String option, String uri) {
    if (isS3(uri)) {
      locations.put(option, uri);
    }
    return this;
  }

  public static boolean isS3(String uri) {
    return uri != null && uri.regionMatches(true, 0, "s3://", 0, 5);
  }

  /** The bucket of an {@code s3://bucket/key} URI. */
  public static String bucketOf(String uri) {
    String rest = uri.substring(5);
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  /** The key prefix of an {@code s3://bucket/prefix} URI (no leading slash, may be empty). */
  static String prefixOf(String uri) {
    String rest = uri.substring(5);
    int slash = rest.indexOf('/');
    return slash < 0 ? "" : rest.substring(slash + 1);
  }

  /** Runs the checks; throws {@link S3AccessException} on the first problem. */
  public void check() {
    if (locations.isEmpty()) {
      return;
    }
    AwsCredentialsProvider credentials = options.getAwsCredentialsProvider();
    String source = describe(credentials);
    String first = locations.values().iterator().next();
    try {
      credentials.resolveCredentials();
    } catch (RuntimeException e) {
      throw new S3AccessException(
          "no AWS credentials found for S3 bucket '"
              + bucketOf(first)
              + "': tried the "
              + source
              + ". Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a"
              + " profile (AWS_PROFILE) or an instance role.");
    }
    try (S3Client s3 = client()) {
      for (Map.Entry<String, String> loc : locations.entrySet()) {
        checkBucket(s3, loc.getKey(), loc.getValue(), source);
      }
    }
  }

  private S3Client client() {
    S3ClientBuilderFactory factory =
        InstanceBuilder.ofType(S3ClientBuilderFactory.class)
            .fromClass(options.getS3ClientFactoryClass())
            .build();
    S3ClientBuilder builder = factory.createBuilder(options);
    return builder
        .overrideConfiguration(
            builder.overrideConfiguration().toBuilder()
                .retryPolicy(RetryPolicy.builder(RetryMode.STANDARD).numRetries(2).build())
                .apiCallTimeout(Duration.ofSeconds(30))
                .build())
        .build();
  }

  private void checkBucket(S3Client s3, String option, String uri, String source) {
    String bucket = bucketOf(uri);
    String where = "S3 bucket '" + bucket + "' (" + option + "=" + uri + ", " + store() + ")";
    try {
      // An answer cut half-way (an unreadable listing) is not retried by the SDK: again here.
      LISTING.run(
          "listing " + where,
          () -> s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefixOf(uri)).maxKeys(1)),
          S3Preflight::isCut,
          S3Preflight::rootMessage);
    } catch (S3Exception e) {
      String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      int status = e.statusCode();
      if ("NoSuchBucket".equals(code) || status == 404) {
        throw new S3AccessException(where + " does not exist. Create it or fix " + option + ".");
      }
      if ("InvalidAccessKeyId".equals(code)
          || "SignatureDoesNotMatch".equals(code)
          || "InvalidToken".equals(code)
          || "ExpiredToken".equals(code)) {
        throw new S3AccessException(
            where + ": the credentials from the " + source + " were rejected (" + code + ").");
      }
      if (status == 403) {
        throw new S3AccessException(
            where
                + ": access denied for the credentials from the "
                + source
                + " ("
                + (code == null ? "HTTP 403" : code)
                + "). They need s3:ListBucket,"
                + " s3:GetObject and, for outputs, s3:PutObject and s3:DeleteObject.");
      }
      throw new S3AccessException(
          where + " cannot be used: " + (code == null ? "" : code + ", ") + "HTTP " + status + ".");
    } catch (SdkClientException e) {
      throw new S3AccessException(where + " cannot be reached: " + rootMessage(e));
    }
  }

  /**
   * Whether a failed check met an answer that broke off (a network blip): a client-side failure
   * other than an endpoint that cannot be reached at all, which the SDK has already retried.
   */
  private static boolean isCut(Exception e) {
    if (!(e instanceof SdkClientException)) {
      return false;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException
          || t instanceof java.net.UnknownHostException
          || t instanceof java.net.NoRouteToHostException
          || t instanceof java.net.SocketTimeoutException) {
        return false;
      }
    }
    return true;
  }

  /** The endpoint or region, without any user info an endpoint URI might carry. */
  private String store() {
    URI endpoint = options.getEndpoint();
    if (endpoint != null) {
      return "endpoint "
          + endpoint.getScheme()
          + "://"
          + endpoint.getHost()
          + (endpoint.getPort() < 0 ? "" : ":" + endpoint.getPort());
    }
    return "AWS region " + options.getAwsRegion();
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /**
   * Where credentials come from, for messages: for the default chain, the first link that has
   * credentials (system properties, environment variables) or the rest of the chain. Never the key
   * itself.
   */
  public static String describe(AwsCredentialsProvider provider) {
    if (provider instanceof DefaultCredentialsProvider) {
      if (resolves(SystemPropertyCredentialsProvider.create())) {
        return "default provider chain (Java system properties aws.accessKeyId/"
            + "aws.secretAccessKey)";
      }
      if (resolves(EnvironmentVariableCredentialsProvider.create())) {
        return "default provider chain (environment variables AWS_ACCESS_KEY_ID/"
            + "AWS_SECRET_ACCESS_KEY)";
      }
      String profile = System.getenv("AWS_PROFILE");
      return "default provider chain (system properties, environment variables, web identity,"
          + " profile '"
          + (profile == null || profile.isEmpty() ? "default" : profile)
          + "', container and instance role)";
    }
    if (provider instanceof StaticCredentialsProvider) {
      return "static credentials provider";
    }
    return "credentials provider " + provider.getClass().getSimpleName();
  }

  private static boolean resolves(AwsCredentialsProvider p) {
    try {
      p.resolveCredentials();
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
