package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watch's local listing finds exactly what Beam's local file system matches, with the same
 * facts.
 */
class LocalListingTest {
  @TempDir Path dir;

  private static TreeSet<String> facts(List<MatchResult.Metadata> files) {
    return files.stream()
        .map(
            m ->
                m.resourceId()
                    + " "
                    + m.sizeBytes()
                    + " "
                    + m.lastModifiedMillis()
                    + " "
                    + m.isReadSeekEfficient())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void matchesWhatBeamMatches() throws Exception {
    Path in = dir.resolve("in");
    for (String f :
        List.of(
            "date=2024-01-01/a.csv",
            "date=2024-01-01/b.csv.gz",
            "date=2024-01-01/notes.txt",
            "date=2024-01-02/deeper/c.csv",
            "top.csv",
            "date=2024-01-02/.hidden.csv",
            "date=2024-01-02/_marker.csv",
            "x=1/y=2/z.csv")) {
      Path p = in.resolve(f);
      Files.createDirectories(p.getParent());
      Files.writeString(p, "x".repeat(f.length()));
    }
    Files.createDirectories(in.resolve("empty=1"));
    Path outside = dir.resolve("outside/date=2024-01-09");
    Files.createDirectories(outside);
    Files.writeString(outside.resolve("linked.csv"), "linked");
    Files.createSymbolicLink(in.resolve("date=2024-01-09"), outside);
    for (String glob :
        List.of("**/*.csv*", "*.csv*", "date=*/*.csv", "x=?/**/*.csv", "nothing/**/*.csv")) {
      String spec = in + "/" + glob;
      assertThat(LocalListing.handles(spec), equalTo(true));
      List<MatchResult.Metadata> beam =
          FileSystems.match(spec, EmptyMatchTreatment.ALLOW).metadata();
      assertThat(glob, facts(LocalListing.match(spec)), equalTo(facts(beam)));
    }
    assertThat(LocalListing.match(in + "/**/*.csv*"), hasSize(7));
    assertThat(LocalListing.handles("s3://bucket/**/*.csv"), equalTo(false));
    assertThat(LocalListing.handles("relative/**/*.csv"), equalTo(false));
  }
}
