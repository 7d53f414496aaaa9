package dev.landfall.pipeline;

import dev.landfall.io.s3.LandfallS3ClientBuilderFactory;
import dev.landfall.io.s3.S3Preflight;
import dev.landfall.pipeline.options.LandfallOptions;
import java.net.URI;
import org.apache.beam.sdk.io.aws2.s3.DefaultS3ClientBuilderFactory;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

/**
 * Maps landfall's S3 flags ({@code --s3Endpoint}, {@code --s3PathStyle}) onto Beam's AWS and S3
 * options before the pipeline (and with it Beam's {@code s3://} file system) is created, and checks
 * the {@code s3://} locations of the run up front ({@link S3Preflight}).
 */
final class S3Setup {
  /** Region used with --s3Endpoint when neither --awsRegion nor the AWS chain names one. */
  static final Region ENDPOINT_DEFAULT_REGION = Region.US_EAST_1;

  private S3Setup() {}

  /** True if the run reads or writes S3. */
  static boolean usesS3(LandfallOptions o) {
    return S3Preflight.isS3(o.getInput())
        || S3Preflight.isS3(o.getOutput())
        || S3Preflight.isS3(o.getDatasetFile());
  }

  /** Sets Beam's endpoint, region and S3 client factory from the landfall flags. */
  static void configure(LandfallOptions o) {
    if (o.getAwsCredentialsProvider() instanceof StaticCredentialsProvider) {
      // Beam serialises this option (keys included) into the job's options: runner UIs show it.
      throw new IllegalArgumentException(
          "--awsCredentialsProvider with static keys is refused:"
              + " keys would travel in the job's options. Use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,"
              + " a profile (AWS_PROFILE) or an instance role.");
    }
    String endpoint = o.getS3Endpoint().trim();
    if (!endpoint.isEmpty()) {
      URI uri;
      try {
        uri = URI.create(endpoint);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "--s3Endpoint is not a URI; use e.g." + " --s3Endpoint=http://localhost:9000");
      }
      if (uri.getHost() == null
          || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getUserInfo() != null) {
        throw new IllegalArgumentException(
            "--s3Endpoint must be http(s)://host[:port] without"
                + " user info (credentials come from the AWS provider chain); e.g."
                + " --s3Endpoint=http://localhost:9000");
      }
      o.setEndpoint(uri);
    }
    if (o.getS3ClientFactoryClass().equals(DefaultS3ClientBuilderFactory.class)
        || o.getS3ClientFactoryClass()
            .getName()
            .startsWith(LandfallS3ClientBuilderFactory.class.getName())) {
      o.setS3ClientFactoryClass(
          o.getS3PathStyle()
              ? LandfallS3ClientBuilderFactory.PathStyle.class
              : LandfallS3ClientBuilderFactory.class);
    }
    if (!usesS3(o)) {
      // Beam builds its S3 client configuration for every run; with no region set it would probe
      // the region chain, including EC2 instance metadata (about 1 s off EC2). Unused here.
      o.setAwsRegion(ENDPOINT_DEFAULT_REGION);
      return;
    }
    if (o.getAwsRegion() == null) {
      if (o.getEndpoint() == null) {
        throw new IllegalArgumentException(
            "no AWS region for the s3:// locations: pass"
                + " --awsRegion=eu-west-1 (or set AWS_REGION, or a region in the AWS profile)");
      }
      o.setAwsRegion(ENDPOINT_DEFAULT_REGION);
    }
  }

  /** Fails with one clear message if a bucket of --input, --output or --datasetFile is unusable. */
  static void check(LandfallOptions o) {
    S3Preflight.of(o)
        .location("--datasetFile", o.getDatasetFile())
        .location("--input", o.getInput())
        .location("--output", o.getOutput())
        .check();
  }
}
