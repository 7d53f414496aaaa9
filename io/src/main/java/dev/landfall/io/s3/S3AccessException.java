package dev.landfall.io.s3;

/**
 * An S3 location that cannot be used (missing bucket, refused or missing credentials, unreachable
 * endpoint), found before the pipeline starts. The message names the bucket, the option it came
 * from and where the credentials were looked up; it never contains a secret.
 */
public class S3AccessException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public S3AccessException(String message) {
    super(message);
  }
}
