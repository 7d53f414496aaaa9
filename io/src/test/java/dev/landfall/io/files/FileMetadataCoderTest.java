package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import org.apache.beam.sdk.io.LocalResources;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

/** Every fact the ledger compares survives the coder: size, modification time and checksum. */
class FileMetadataCoderTest {
  private static MatchResult.Metadata file(String checksum) {
    MatchResult.Metadata.Builder b =
        MatchResult.Metadata.builder()
            .setResourceId(LocalResources.fromString("/in/date=2024-01-01/a.csv", false))
            .setIsReadSeekEfficient(true)
            .setSizeBytes(1234)
            .setLastModifiedMillis(1_700_000_000_123L);
    return (checksum == null ? b : b.setChecksum(checksum)).build();
  }

  @Test
  void keepsSizeModificationTimeAndChecksum() throws Exception {
    for (String checksum : new String[] {null, "\"9b2cf535f27731c974343645a3985328\""}) {
      MatchResult.Metadata m = file(checksum);
      MatchResult.Metadata back = CoderUtils.clone(FileMetadataCoder.of(), m);
      assertThat(back, equalTo(m));
      assertThat(back.lastModifiedMillis(), equalTo(1_700_000_000_123L));
      assertThat(back.checksum(), equalTo(checksum));
      CoderProperties.coderDeterministic(FileMetadataCoder.of(), m, file(checksum));
    }
  }
}
