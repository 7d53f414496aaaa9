package dev.landfall.io.files;

import dev.landfall.io.retry.Retry;
import dev.landfall.io.s3.S3Listing;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Listings of file patterns through network faults. Beam's file systems report a failed listing (on
 * S3: a connection cut in the middle of a {@code ListObjectsV2} answer, which the AWS SDK does not
 * retry) as a match result in error; here the whole listing is attempted again through landfall's
 * one retry policy ({@link #LISTINGS}, a WARN line each) before the failure is rethrown with the
 * pattern and the reason. A pattern that matches nothing gives an empty list.
 */
public final class Listings {
  /** Attempts of one listing: 5 within about 15 s (1, 2, 4, 8 s apart). */
  static final Retry LISTINGS = new Retry(5, Duration.ofSeconds(1), Duration.ofSeconds(8));

  private Listings() {}

  /** The files of each of {@code patterns}, in order, through Beam's file systems. */
  public static List<List<MatchResult.Metadata>> match(List<String> patterns) throws IOException {
    return match(patterns, null);
  }

  /**
   * The files of each of {@code patterns}, in order: {@code s3://} patterns through {@code s3} with
   * {@link S3Listing} (one request per 1,000 keys) when it is given, the others through Beam's file
   * systems.
   */
  public static List<List<MatchResult.Metadata>> match(List<String> patterns, S3Client s3)
      throws IOException {
    try {
      return LISTINGS.run(
          "listing " + patterns,
          () -> {
            List<List<MatchResult.Metadata>> lists = new ArrayList<>(patterns.size());
            List<String> others = new ArrayList<>();
            for (String p : patterns) {
              if (s3 == null || !S3Listing.handles(p)) {
                others.add(p);
              }
            }
            List<MatchResult> beam =
                others.isEmpty() ? List.of() : FileSystems.match(others, EmptyMatchTreatment.ALLOW);
            int next = 0;
            for (String p : patterns) {
              if (s3 != null && S3Listing.handles(p)) {
                try {
                  lists.add(S3Listing.match(s3, p));
                } catch (SdkException e) {
                  throw new IOException(e);
                }
              } else {
                lists.add(beam.get(next++).metadata()); // throws the listing's error
              }
            }
            return lists;
          },
          ResumingReadChannel::isTransient,
          ResumingReadChannel::describe);
    } catch (IOException e) {
      throw new IOException(
          "cannot list "
              + patterns
              + " (after up to "
              + LISTINGS.attempts()
              + " attempts): "
              + ResumingReadChannel.describe(e),
          e);
    }
  }

  /** The files of {@code pattern}. */
  public static List<MatchResult.Metadata> match(String pattern) throws IOException {
    return match(List.of(pattern)).get(0);
  }

  /** The files of {@code pattern}, an {@code s3://} one through {@code s3} (null: Beam's). */
  public static List<MatchResult.Metadata> match(String pattern, S3Client s3) throws IOException {
    return match(List.of(pattern), s3).get(0);
  }
}
