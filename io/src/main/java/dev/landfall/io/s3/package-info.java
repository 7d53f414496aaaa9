/**
 * S3 support on top of Beam's {@code s3://} file system: the client factory (retries, path-style
 * addressing for S3-compatible stores) and the pre-flight check of buckets and credentials.
 */
package dev.landfall.io.s3;
