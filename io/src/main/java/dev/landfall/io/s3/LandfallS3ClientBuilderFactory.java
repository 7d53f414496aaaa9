package dev.landfall.io.s3;

import org.apache.beam.sdk.io.aws2.options.S3ClientBuilderFactory;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.aws2.s3.DefaultS3ClientBuilderFactory;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.retry.RetryPolicy;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The S3 client Beam's {@code s3://} file system uses in landfall (set through {@link
 * S3Options#setS3ClientFactoryClass}). On top of Beam's default (region, endpoint and credentials
 * from {@code AwsOptions}) it retries transient errors harder (standard retry mode: throttling such
 * as 503 SlowDown, 5xx and connection errors, with jittered exponential backoff) and drops the
 * {@code x-amz-server-side-encryption-bucket-key-enabled: false} header Beam sends on every write,
 * which AWS treats as the default anyway and some S3-compatible stores (S3Proxy) reject. {@link
 * PathStyle} also addresses buckets as {@code endpoint/bucket/key}, as MinIO, Ceph and S3Proxy
 * need.
 */
public class LandfallS3ClientBuilderFactory implements S3ClientBuilderFactory {
  /** Attempts per request are this plus one. */
  public static final int MAX_RETRIES = 10;

  static final String BUCKET_KEY_HEADER = "x-amz-server-side-encryption-bucket-key-enabled";

  @Override
  public S3ClientBuilder createBuilder(S3Options options) {
    S3ClientBuilder builder = new DefaultS3ClientBuilderFactory().createBuilder(options);
    ClientOverrideConfiguration current = builder.overrideConfiguration();
    builder.overrideConfiguration(
        current.toBuilder()
            .retryPolicy(RetryPolicy.builder(RetryMode.STANDARD).numRetries(MAX_RETRIES).build())
            .addExecutionInterceptor(new DropDefaultBucketKeyHeader())
            .build());
    return builder;
  }

  /** The same client, addressing buckets by path ({@code --s3PathStyle=true}). */
  public static class PathStyle extends LandfallS3ClientBuilderFactory {
    @Override
    public S3ClientBuilder createBuilder(S3Options options) {
      return super.createBuilder(options).forcePathStyle(true);
    }
  }

  /** Removes the bucket-key header when it only restates the default ({@code false}). */
  static final class DropDefaultBucketKeyHeader implements ExecutionInterceptor {
    @Override
    public SdkHttpRequest modifyHttpRequest(
        Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
      SdkHttpRequest request = context.httpRequest();
      boolean restatesDefault =
          request
              .firstMatchingHeader(BUCKET_KEY_HEADER)
              .map("false"::equalsIgnoreCase)
              .orElse(false);
      return restatesDefault
          ? request.toBuilder().removeHeader(BUCKET_KEY_HEADER).build()
          : request;
    }
  }
}
