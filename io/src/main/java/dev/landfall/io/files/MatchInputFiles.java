package dev.landfall.io.files;

import java.util.List;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;

/**
 * Discovers the input files: every file under {@code input} matching {@code glob} whose name ends
 * in {@code .csv} or {@code .csv.gz} (gzip is decompressed transparently), or {@code .parquet} with
 * {@link #withSuffixes}. Other matches are skipped and counted as {@code files-skipped}. Once (a
 * backfill) or continuously ({@link #continuously}, watch mode); optionally limited to a range of
 * the first partition ({@link #inRange}) and passed through the ledger ({@link #claimingWith}).
 * Works for any Beam file system (local folders, {@code s3://} with the AWS module on the class
 * path).
 */
public class MatchInputFiles extends PTransform<PBegin, PCollection<FileIO.ReadableFile>> {
  private final String input;
  private final String glob;
  private final PTransform<PBegin, PCollection<MatchResult.Metadata>> discovery;
  private final PTransform<PCollection<MatchResult.Metadata>, PCollection<MatchResult.Metadata>>
      claim;
  private final String partitionName;
  private final String since;
  private final String until;
  private List<String> suffixes = CSV_SUFFIXES;

  /** Names read as CSV (gzip is decompressed transparently). */
  public static final List<String> CSV_SUFFIXES = List.of(".csv", ".csv.gz");

  /** Names read as Parquet. */
  public static final List<String> PARQUET_SUFFIXES = List.of(".parquet");

  public MatchInputFiles(String input, String glob) {
    this(input, glob, null, null, null, "", "");
  }

  /** Takes files whose names end in one of {@code suffixes} (default: {@link #CSV_SUFFIXES}). */
  public MatchInputFiles withSuffixes(List<String> suffixes) {
    MatchInputFiles m =
        new MatchInputFiles(input, glob, discovery, claim, partitionName, since, until);
    m.suffixes = List.copyOf(suffixes);
    return m;
  }

  private MatchInputFiles(
      String input,
      String glob,
      PTransform<PBegin, PCollection<MatchResult.Metadata>> discovery,
      PTransform<PCollection<MatchResult.Metadata>, PCollection<MatchResult.Metadata>> claim,
      String partitionName,
      String since,
      String until) {
    this.input = input;
    this.partitionName = partitionName;
    this.glob = glob;
    this.discovery = discovery;
    this.claim = claim;
    this.since = since;
    this.until = until;
  }

  /**
   * Watch mode: discover files continuously with {@link WatchForStableFiles}, which ends after
   * {@code stopAfterIdle} (null: never) without a new file and without a file in flight (as {@code
   * inFlight} tells; null: without a new file).
   */
  public MatchInputFiles continuously(
      Duration pollInterval, Duration stopAfterIdle, WatchForStableFiles.FilesInFlight inFlight) {
    return continuously(pollInterval, stopAfterIdle, inFlight, null);
  }

  /**
   * As {@link #continuously(Duration, Duration, WatchForStableFiles.FilesInFlight)}; files that
   * {@code finished} holds, unchanged, are left out of every poll (null: none).
   */
  public MatchInputFiles continuously(
      Duration pollInterval,
      Duration stopAfterIdle,
      WatchForStableFiles.FilesInFlight inFlight,
      WatchForStableFiles.FinishedFiles finished) {
    WatchForStableFiles watch =
        new WatchForStableFiles(filePatterns(input, glob), pollInterval, stopAfterIdle, inFlight);
    return new MatchInputFiles(
            input,
            glob,
            finished == null ? watch : watch.skippingFinished(finished),
            claim,
            partitionName,
            since,
            until)
        .withSuffixes(suffixes);
  }

  /** Passes each matched file through {@code claim} (the ledger) before it is opened. */
  public MatchInputFiles claimingWith(
      PTransform<PCollection<MatchResult.Metadata>, PCollection<MatchResult.Metadata>> claim) {
    return new MatchInputFiles(input, glob, discovery, claim, partitionName, since, until)
        .withSuffixes(suffixes);
  }

  /**
   * Keeps only files whose first partition folder value lies in {@code [since, until]} (either may
   * be empty: open). Values are compared as text, which orders ISO dates and zero-padded numbers
   * correctly.
   */
  public MatchInputFiles inRange(String partition, String since, String until) {
    return new MatchInputFiles(input, glob, discovery, claim, partition, since, until)
        .withSuffixes(suffixes);
  }

  /** The file pattern for an input folder or prefix and a glob below it. */
  public static String filePattern(String input, String glob) {
    return input.endsWith("/") ? input + glob : input + "/" + glob;
  }

  /**
   * The patterns to list: the glob below {@code input}, and for a glob starting with {@code **}/
   * also the same name pattern directly in {@code input} ({@code **}/ needs at least one folder in
   * Beam's file systems), so a file outside the partition layout is seen and rejected with its
   * reason rather than silently never read.
   */
  public static List<String> filePatterns(String input, String glob) {
    if (glob.startsWith("**/") && !glob.substring(3).contains("/")) {
      return List.of(filePattern(input, glob), filePattern(input, glob.substring(3)));
    }
    return List.of(filePattern(input, glob));
  }

  /** True when a file of this name is read as input: it ends in one of {@code suffixes}. */
  static boolean isInputFile(String name, List<String> suffixes) {
    return name != null && suffixes.stream().anyMatch(name::endsWith);
  }

  /**
   * True when at least one input file (as {@link #filePatterns} and {@code suffixes} select them)
   * is under {@code input} now; lists it as a backfill would, before the job starts.
   */
  public static boolean hasInputFiles(
      String input,
      String glob,
      List<String> suffixes,
      org.apache.beam.sdk.options.PipelineOptions options)
      throws java.io.IOException {
    List<String> patterns = filePatterns(input, glob);
    software.amazon.awssdk.services.s3.S3Client s3 =
        patterns.stream().anyMatch(dev.landfall.io.s3.S3Listing::handles)
            ? dev.landfall.io.s3.S3Listing.client(options)
            : null;
    try {
      return hasInputFiles(Listings.match(patterns, s3), suffixes);
    } finally {
      if (s3 != null) {
        s3.close();
      }
    }
  }

  private static boolean hasInputFiles(
      List<List<MatchResult.Metadata>> lists, List<String> suffixes) {
    for (List<MatchResult.Metadata> files : lists) {
      for (MatchResult.Metadata m : files) {
        if (isInputFile(m.resourceId().getFilename(), suffixes)) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public PCollection<FileIO.ReadableFile> expand(PBegin begin) {
    PCollection<MatchResult.Metadata> matched =
        discovery != null
            ? begin.apply("WatchFiles", discovery)
            : begin
                .apply("FilePatterns", Create.of(filePatterns(input, glob)))
                .apply("MatchFiles", ParDo.of(new MatchFn()))
                .setCoder(FileMetadataCoder.of())
                .apply("SpreadMatches", Reshuffle.viaRandomKey());
    PCollection<MatchResult.Metadata> kept =
        matched
            .apply("KeepInputFiles", ParDo.of(new KeepCsvFn(suffixes, partitionName, since, until)))
            .setCoder(FileMetadataCoder.of());
    if (claim != null) {
      kept = kept.apply("ClaimFiles", claim);
    }
    if (discovery != null) {
      // Spread the files of one poll over the workers.
      kept = kept.apply("SpreadFiles", Reshuffle.viaRandomKey());
    }
    return kept.apply("OpenFiles", FileIO.readMatches().withCompression(Compression.AUTO));
  }

  /**
   * Lists one file pattern. As {@code FileIO.matchAll()}, but its output keeps every fact of a file
   * ({@link FileMetadataCoder}): matchAll hands its matches through a reshuffle encoded with Beam's
   * {@code MetadataCoder}, which drops the modification time, so the ledger of a backfill recorded
   * none.
   */
  static class MatchFn extends DoFn<String, MatchResult.Metadata> {
    private static final org.slf4j.Logger LOG =
        org.slf4j.LoggerFactory.getLogger(MatchInputFiles.class);

    private transient software.amazon.awssdk.services.s3.S3Client s3;

    @ProcessElement
    public void process(
        @Element String pattern,
        OutputReceiver<MatchResult.Metadata> out,
        org.apache.beam.sdk.options.PipelineOptions options)
        throws java.io.IOException {
      if (s3 == null && dev.landfall.io.s3.S3Listing.handles(pattern)) {
        s3 = dev.landfall.io.s3.S3Listing.client(options);
      }
      List<MatchResult.Metadata> files = Listings.match(pattern, s3);
      LOG.info("matched {} files for pattern {}", files.size(), pattern);
      for (MatchResult.Metadata m : files) {
        out.output(m);
      }
    }

    @Teardown
    public void teardown() {
      if (s3 != null) {
        s3.close();
        s3 = null;
      }
    }
  }

  static class KeepCsvFn extends DoFn<MatchResult.Metadata, MatchResult.Metadata> {
    private final Counter matched = Metrics.counter(MatchInputFiles.class, "files-matched");
    private final Counter skipped = Metrics.counter(MatchInputFiles.class, "files-skipped");
    private final Counter bytes = Metrics.counter(MatchInputFiles.class, "bytes-matched");
    private final Counter outOfRange = Metrics.counter(MatchInputFiles.class, "files-out-of-range");
    private final String partition;
    private final String since;
    private final String until;

    private final List<String> suffixes;

    KeepCsvFn(List<String> suffixes, String partition, String since, String until) {
      this.suffixes = suffixes;
      this.partition = partition;
      this.since = since == null ? "" : since;
      this.until = until == null ? "" : until;
    }

    /**
     * Whether the file's partition value (decoded, as the partition column gets it) lies in the
     * range; a file without the partition folder passes (the reader rejects it with its reason).
     */
    boolean inRange(String path) {
      if (partition == null || (since.isEmpty() && until.isEmpty())) {
        return true;
      }
      String v = HivePartitions.valueOf(path, partition);
      return v == null
          || (since.isEmpty() || v.compareTo(since) >= 0)
              && (until.isEmpty() || v.compareTo(until) <= 0);
    }

    @ProcessElement
    public void process(
        @Element MatchResult.Metadata file, OutputReceiver<MatchResult.Metadata> out) {
      String name = file.resourceId().getFilename();
      if (isInputFile(name, suffixes)) {
        if (!inRange(file.resourceId().toString())) {
          outOfRange.inc();
          return;
        }
        matched.inc();
        bytes.inc(file.sizeBytes());
        out.output(file);
      } else {
        skipped.inc();
      }
    }
  }
}
