package dev.landfall.io.s3;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.matchesPattern;

import dev.landfall.io.testing.S3ProxyServer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * landfall's S3 listing (one request per 1,000 keys) finds exactly what Beam's S3 file system finds
 * for the globs landfall lists, with the same sizes and times, plus each object's ETag.
 */
class S3ListingTest {
  @TempDir static Path dir;
  private static S3ProxyServer s3;
  private static S3Options options;

  @BeforeAll
  static void start() throws Exception {
    s3 = S3ProxyServer.start(dir.resolve("s3"));
    options = s3.useAsBeamDefault(s3.endpoint());
    s3.createBucket("listed");
    for (String key :
        List.of(
            "in/a.csv",
            "in/b.csv.gz",
            "in/notes.txt",
            "in/date=2024-01-01/part-0.csv",
            "in/date=2024-01-01/deep/part-1.csv",
            "in/date=2024-01-02/part-0.csv",
            "other/x.csv",
            "in-sibling/y.csv")) {
      s3.client().putObject(b -> b.bucket("listed").key(key), RequestBody.fromString(key));
    }
    for (int i = 0; i < 1_100; i++) { // more than one page of 1,000 keys
      String key = String.format("in/date=2024-02-01/many-%04d.csv", i);
      s3.client().putObject(b -> b.bucket("listed").key(key), RequestBody.fromString("x"));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    S3ProxyServer.clearBeamDefaults();
    if (s3 != null) {
      s3.close();
    }
  }

  private static List<String> describe(List<MatchResult.Metadata> files) {
    return files.stream()
        .map(m -> m.resourceId() + " " + m.sizeBytes() + " " + m.lastModifiedMillis() / 1000)
        .sorted()
        .collect(Collectors.toList());
  }

  @Test
  void findsWhatBeamFindsWithTheEtags() throws Exception {
    try (S3Client client = new S3Listing.ClientSource(options).create()) {
      for (String glob :
          List.of(
              "s3://listed/in/**/*.csv*",
              "s3://listed/in/*.csv*",
              "s3://listed/in/date=2024-01-01/*.csv",
              "s3://listed/nothing/**/*.csv")) {
        List<MatchResult.Metadata> ours = S3Listing.match(client, glob);
        List<MatchResult.Metadata> beams =
            FileSystems.match(List.of(glob), EmptyMatchTreatment.ALLOW).get(0).metadata();
        assertThat(glob, describe(ours), equalTo(describe(beams)));
        assertThat(
            ours.stream().map(MatchResult.Metadata::checksum).collect(Collectors.toList()),
            everyItem(matchesPattern("[0-9a-f]{32}")));
      }
      assertThat(S3Listing.match(client, "s3://listed/in/**/*.csv*").size(), equalTo(1_105));
    }
  }
}
