package dev.landfall.pipeline.options;

import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * Where {@code s3://} inputs and outputs live. Credentials are never options: they come from the
 * AWS default provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance or
 * container role). The region is Beam's {@code --awsRegion}, else the chain's. Extends Beam's
 * {@link S3Options}, so its flags ({@code --awsRegion}, {@code --s3StorageClass}, ...) work too.
 */
public interface S3Settings extends S3Options {
  @Description(
      "Endpoint of an S3-compatible store (MinIO, Ceph, S3Proxy), e.g. http://localhost:9000."
          + " Empty: AWS S3 in --awsRegion.")
  @Default.String("")
  String getS3Endpoint();

  void setS3Endpoint(String value);

  @Description(
      "Address buckets as <endpoint>/<bucket>/<key> (path style), as MinIO, Ceph and S3Proxy"
          + " usually need. false: <bucket>.<endpoint>/<key> (virtual-hosted, AWS's default).")
  @Default.Boolean(false)
  Boolean getS3PathStyle();

  void setS3PathStyle(Boolean value);
}
