package dev.landfall.pipeline;

/**
 * Test-only: puts S3 credentials where the AWS default provider chain looks first (the Java system
 * properties aws.accessKeyId / aws.secretAccessKey), as an operator would with environment
 * variables. Main code never sees them except through the chain.
 */
final class S3Credentials {
  private S3Credentials() {}

  static void useChainCredentials(String accessKeyId, String secretAccessKey) {
    System.setProperty("aws.accessKeyId", accessKeyId);
    System.setProperty("aws.secretAccessKey", secretAccessKey);
  }

  static void clear() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }
}
