package dev.landfall.io;

import dev.landfall.io.files.MatchInputFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File discovery: which files a backfill takes, and --since/--until on the partition folder. */
class MatchInputFilesTest {
  @TempDir Path dir;

  private void touch(String rel) throws Exception {
    Path p = dir.resolve(rel);
    Files.createDirectories(p.getParent());
    Files.writeString(p, "x\n");
  }

  @Test
  void sinceAndUntilKeepAnInclusiveRangeOfTheFirstPartition() throws Exception {
    for (String d : new String[] {"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"}) {
      touch("date=" + d + "/part-0.csv");
    }
    touch("date=2024-01-02/notes.txt");
    touch("misc/loose.csv");
    Pipeline p = ReadCsvFilesTest.pipeline();
    String root = dir.toString();
    PAssert.that(
            p.apply(
                    new MatchInputFiles(root, "**/*.csv*")
                        .inRange("date", "2024-01-02", "2024-01-03"))
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (FileIO.ReadableFile f) ->
                                Path.of(root)
                                    .relativize(Path.of(f.getMetadata().resourceId().toString()))
                                    .toString())))
        // A file outside the layout is kept: the reader rejects it with its reason.
        .containsInAnyOrder(
            "date=2024-01-02/part-0.csv", "date=2024-01-03/part-0.csv", "misc/loose.csv");
    p.run().waitUntilFinish();
  }

  @Test
  void anOpenEndedRangeAndNoRangeKeepEverythingAfterOrAll() throws Exception {
    for (String d : new String[] {"2024-01-01", "2024-01-02"}) {
      touch("date=" + d + "/part-0.csv");
    }
    Pipeline p = ReadCsvFilesTest.pipeline();
    PAssert.that(
            p.apply(
                    "Since",
                    new MatchInputFiles(dir.toString(), "**/*.csv*")
                        .inRange("date", "2024-01-02", ""))
                .apply(
                    "NameSince",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (FileIO.ReadableFile f) -> f.getMetadata().resourceId().getFilename())))
        .containsInAnyOrder("part-0.csv");
    PAssert.that(
            p.apply("All", new MatchInputFiles(dir.toString(), "**/*.csv*"))
                .apply(
                    "NameAll",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (FileIO.ReadableFile f) -> f.getMetadata().resourceId().getFilename())))
        .containsInAnyOrder("part-0.csv", "part-0.csv");
    p.run().waitUntilFinish();
  }
}
