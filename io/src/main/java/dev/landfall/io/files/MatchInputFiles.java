package dev.landfall.io.files;

import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * Discovers the input files of a backfill: every file under {@code input} matching {@code glob}
 * whose name ends in {@code .csv} or {@code .csv.gz} (gzip is decompressed transparently). Other
 * matches are skipped and counted as {@code files-skipped}. Works for any Beam file system
 * (local folders, {@code s3://} with the AWS module on the class path).
 */
public class MatchInputFiles extends PTransform<PBegin, PCollection<FileIO.ReadableFile>> {
  private final String input;
  private final String glob;

  public MatchInputFiles(String input, String glob) {
    this.input = input;
    this.glob = glob;
  }

  /** The file pattern for an input folder or prefix and a glob below it. */
  public static String filePattern(String input, String glob) {
    return input.endsWith("/") ? input + glob : input + "/" + glob;
  }

  @Override
  public PCollection<FileIO.ReadableFile> expand(PBegin begin) {
    return begin
        .apply(
            "MatchFiles",
            FileIO.match()
                .filepattern(filePattern(input, glob))
                .withEmptyMatchTreatment(EmptyMatchTreatment.ALLOW))
        .apply("KeepCsvFiles", ParDo.of(new KeepCsvFn()))
        .apply("OpenFiles", FileIO.readMatches().withCompression(Compression.AUTO));
  }

  static class KeepCsvFn extends DoFn<MatchResult.Metadata, MatchResult.Metadata> {
    private final Counter matched = Metrics.counter(MatchInputFiles.class, "files-matched");
    private final Counter skipped = Metrics.counter(MatchInputFiles.class, "files-skipped");
    private final Counter bytes = Metrics.counter(MatchInputFiles.class, "bytes-matched");

    @ProcessElement
    public void process(@Element MatchResult.Metadata file, OutputReceiver<MatchResult.Metadata> out) {
      String name = file.resourceId().getFilename();
      if (name != null && (name.endsWith(".csv") || name.endsWith(".csv.gz"))) {
        matched.inc();
        bytes.inc(file.sizeBytes());
        out.output(file);
      } else {
        skipped.inc();
      }
    }
  }
}
