package dev.landfall.pipeline;

import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.pipeline.options.FlinkRunnerSettings;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.options.WatchOptions;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.beam.sdk.io.FileSystems;
import org.joda.time.Duration;

/**
 * What one landfall command will do, read once from its options and checked as a whole before
 * anything starts: no server, table, folder or job exists yet when a bad flag is reported here.
 * Later steps ({@link LandfallPipeline#run}, the graph, the work after the job) read their settings
 * from this value rather than parsing option strings again.
 *
 * <p>Built by {@link #from}; immutable. The dataset definition is loaded here (from {@code
 * --datasetFile} or the built-in {@code --dataset}), so a definition error is a plan error too.
 */
public final class RunPlan {
  /** The outputs a run writes ({@code --sinks}). */
  public enum Sink {
    PARQUET,
    POSTGRES
  }

  /** The format of the input files ({@code --format}). */
  public enum InputFormat {
    CSV,
    PARQUET
  }

  /** Hash buckets of a CSV backfill's key pass unless --dedupeBuckets says otherwise. */
  static final int KEY_BUCKETS = 1024;

  private final DatasetTables tables;
  private final Set<Sink> sinks;
  private final InputFormat format;
  private final boolean sampleInput;
  private final Path workDir;
  private final String input;
  private final String output;
  private final String since;
  private final String until;
  private final String inputGlob;
  private final boolean watch;
  private final boolean compact;
  private final boolean detached;
  private final boolean directRunner;
  private final int flinkParallelism;
  private final Duration pollInterval;
  private final Duration dbMaxOutage;
  private final Duration progressEvery;
  private final Duration stopAfterIdle;
  private final Duration lookupRefresh;
  private final boolean reingestChanged;
  private final boolean reingestOlderDefinitions;
  private final boolean reingestQuarantined;
  private final boolean dryRun;
  private final int rowGroupBytes;
  private final long parquetTargetFileBytes;
  private final int compactAfterFiles;
  private final int parquetShardsPerPartition;
  private final int dedupeBuckets;
  private final int dbBatchSize;
  private final String webhookUrl;

  private RunPlan(LandfallOptions o, DatasetDefinition definition) {
    this.tables = DatasetTables.of(definition, o.getDbSchema());
    this.sinks = sinks(o.getSinks());
    this.format = format(o.getFormat());
    this.watch = o.getWatch();
    this.compact = o.getCompact();
    this.detached = FlinkDefaults.isDetached(o);
    this.directRunner = o.getRunner().getSimpleName().equals("DirectRunner");
    Integer parallelism = o.as(FlinkRunnerSettings.class).getParallelism();
    this.flinkParallelism =
        FlinkDefaults.isFlink(o) && parallelism != null && parallelism > 0 ? parallelism : 0;
    this.sampleInput = o.getInput().isEmpty() && !compact;
    this.workDir = Paths.get(o.getWorkDir()).toAbsolutePath();
    this.input = sampleInput ? sampleFolder().toString() : o.getInput();
    this.output = o.getOutput().isEmpty() ? workDir.resolve("parquet").toString() : o.getOutput();
    this.since = o.getSince();
    this.until = o.getUntil();
    this.inputGlob =
        format == InputFormat.PARQUET && o.getInputGlob().equals("**/*.csv*")
            ? "**/*.parquet"
            : o.getInputGlob();
    this.pollInterval = WatchOptions.parseDuration("--pollInterval", o.getPollInterval());
    this.dbMaxOutage = WatchOptions.parseDuration("--dbMaxOutage", o.getDbMaxOutage());
    this.progressEvery =
        o.getProgressEvery().trim().equals("0")
            ? Duration.ZERO
            : WatchOptions.parseDuration("--progressEvery", o.getProgressEvery());
    this.stopAfterIdle =
        o.getStopAfterIdle().isEmpty()
            ? null
            : WatchOptions.parseDuration("--stopAfterIdle", o.getStopAfterIdle());
    this.lookupRefresh = WatchOptions.parseDuration("--lookupRefresh", o.getLookupRefresh());
    Set<String> reingest = reingest(o.getReingest());
    this.reingestChanged = reingest.contains("changed") || o.getReingestChanged();
    this.reingestOlderDefinitions = reingest.contains("olderDefinitions");
    this.reingestQuarantined = reingest.contains("quarantined");
    this.dryRun = o.getDryRun();
    this.rowGroupBytes =
        between("--parquetRowGroupMb", o.getParquetRowGroupMb(), 1, 1024) * 1024 * 1024;
    this.parquetTargetFileBytes =
        between("--parquetTargetFileMb", o.getParquetTargetFileMb(), 1, 1 << 20) * 1024L * 1024L;
    this.compactAfterFiles =
        between("--compactAfterFiles", o.getCompactAfterFiles(), 0, Integer.MAX_VALUE);
    this.parquetShardsPerPartition =
        between(
            "--parquetShardsPerPartition", o.getParquetShardsPerPartition(), 1, Integer.MAX_VALUE);
    this.dedupeBuckets = between("--dedupeBuckets", o.getDedupeBuckets(), -1, 1 << 20);
    this.dbBatchSize = between("--dbBatchSize", o.getDbBatchSize(), 1, Integer.MAX_VALUE);
    this.webhookUrl = webhook(o.getWebhookUrl());
    between("--sampleRows", o.getSampleRows(), 1, Long.MAX_VALUE);
  }

  /**
   * Reads and checks every setting of a run: the flags that name outputs, formats, durations, sizes
   * and buckets, the database schema, the dataset definition, and the combinations that cannot
   * work. Starts nothing and writes nothing.
   *
   * @throws IllegalArgumentException naming the flag and what it accepts
   */
  public static RunPlan from(LandfallOptions options) throws IOException {
    RunPlan plan = new RunPlan(options, loadDefinition(options));
    plan.checkCombinations(options);
    return plan;
  }

  private void checkCombinations(LandfallOptions o) {
    if (sampleInput && !definition().name.equals("billing")) {
      throw new IllegalArgumentException(
          "--input is required for dataset '"
              + definition().name
              + "' (sample data exists for billing only)");
    }
    if (dryRun && (watch || compact || detached)) {
      throw new IllegalArgumentException(
          "--dryRun reads the files there are, once, and waits"
              + " for its report: not with --watch, --compact or --attachedMode=false");
    }
    if (compact) {
      return;
    }
    if (parquetInput() && definition().maxRejectedShare() >= 0) {
      throw new IllegalArgumentException(
          "the definition's quality rules apply to CSV input;"
              + " --format=parquet reads typed files: remove \"quality\" from the definition"
              + " of '"
              + definition().name
              + "' for this input");
    }
    if (reingestQuarantined && !postgres()) {
      throw new IllegalArgumentException(
          "--reingest=quarantined needs the postgres output:"
              + " the file ledger that records quarantined files lives in PostgreSQL");
    }
    if (watch && !postgres()) {
      throw new IllegalArgumentException(
          "--watch needs the postgres output (--sinks=parquet,postgres): the file ledger that"
              + " makes each file count once lives in PostgreSQL");
    }
    if (detached && postgres() && o.getJdbcUrl().isEmpty()) {
      throw new IllegalArgumentException(
          "--attachedMode=false needs --jdbcUrl: the embedded"
              + " PostgreSQL stops when this command returns, while the job goes on on the cluster");
    }
  }

  /** Loads --datasetFile if given (any Beam file system), else the built-in --dataset. */
  static DatasetDefinition loadDefinition(LandfallOptions options) throws IOException {
    if (options.getDatasetFile().isEmpty()) {
      return DatasetDefinition.builtIn(options.getDataset());
    }
    String file = options.getDatasetFile();
    try {
      Path local = Paths.get(file);
      if (Files.exists(local)) {
        try (InputStream in = Files.newInputStream(local)) {
          return DatasetDefinition.load(in);
        }
      }
      if (!file.contains("://")) {
        throw new IllegalArgumentException("the file does not exist");
      }
      FileSystems.setDefaultPipelineOptions(options);
      try (InputStream in =
          java.nio.channels.Channels.newInputStream(
              FileSystems.open(FileSystems.matchSingleFileSpec(file).resourceId()))) {
        return DatasetDefinition.load(in);
      }
    } catch (IllegalArgumentException | IOException e) {
      // The definition's own checks name the field; say which file they are about.
      throw new IllegalArgumentException(
          "--datasetFile="
              + file
              + ": "
              + e.getMessage().replaceAll("\\s+", " ")
              + " (the format is in docs/definition.md)",
          e);
    }
  }

  static Set<Sink> sinks(String text) {
    Set<Sink> sinks = EnumSet.noneOf(Sink.class);
    for (String s : text.split(",")) {
      switch (s.trim()) {
        case "parquet":
          sinks.add(Sink.PARQUET);
          break;
        case "postgres":
          sinks.add(Sink.POSTGRES);
          break;
        default:
          throw new IllegalArgumentException(
              "--sinks: unknown output '" + s.trim() + "'; use parquet, postgres or both");
      }
    }
    return Collections.unmodifiableSet(sinks);
  }

  static InputFormat format(String text) {
    switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "csv":
        return InputFormat.CSV;
      case "parquet":
        return InputFormat.PARQUET;
      default:
        throw new IllegalArgumentException(
            "--format: unknown input format '" + text + "'; use csv or parquet");
    }
  }

  /** --reingest as a set of values; refuses unknown ones. */
  static Set<String> reingest(String text) {
    Set<String> values = new java.util.TreeSet<>();
    for (String v : text.split(",")) {
      if (v.isBlank()) {
        continue;
      }
      if (!List.of("changed", "olderDefinitions", "quarantined").contains(v.trim())) {
        throw new IllegalArgumentException(
            "--reingest: unknown value '"
                + v.trim()
                + "'; use changed, olderDefinitions and/or quarantined, e.g."
                + " --reingest=olderDefinitions");
      }
      values.add(v.trim());
    }
    return values;
  }

  private static int between(String flag, Integer value, int min, int max) {
    return (int) between(flag, (long) value, min, max);
  }

  private static long between(String flag, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          flag
              + " must be "
              + (max == Integer.MAX_VALUE || max == Long.MAX_VALUE
                  ? "at least " + min
                  : "between " + min + " and " + max)
              + ", not "
              + value);
    }
    return value;
  }

  /** The webhook address, checked as an http(s) URL; never echoed (it may carry a token). */
  private static String webhook(String url) {
    if (url.isEmpty()) {
      return url;
    }
    String scheme;
    try {
      URI uri = new URI(url);
      scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (uri.getHost() == null) {
        scheme = "";
      }
    } catch (java.net.URISyntaxException e) {
      scheme = "";
    }
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "--webhookUrl must be an http:// or https:// address with a host");
    }
    return url;
  }

  public DatasetDefinition definition() {
    return tables.definition();
  }

  /** The PostgreSQL schema of the dataset's tables (checked as a safe identifier). */
  public String dbSchema() {
    return tables.schema();
  }

  /** The dataset's tables in PostgreSQL: the definition and the schema, checked. */
  public DatasetTables tables() {
    return tables;
  }

  public boolean parquet() {
    return sinks.contains(Sink.PARQUET);
  }

  public boolean postgres() {
    return sinks.contains(Sink.POSTGRES);
  }

  public InputFormat format() {
    return format;
  }

  public boolean parquetInput() {
    return format == InputFormat.PARQUET;
  }

  /** True when no --input was given: the run reads (and first generates) the billing sample. */
  public boolean sampleInput() {
    return sampleInput;
  }

  /** The folder of the sample data generated for a run without --input. */
  public Path sampleFolder() {
    return workDir.resolve("sample-input").resolve(definition().name);
  }

  public Path workDir() {
    return workDir;
  }

  /** --input, or the sample folder when none was given. */
  public String input() {
    return input;
  }

  /** --output, or {@code <workDir>/parquet} when none was given. */
  public String output() {
    return output;
  }

  /** Only files whose first partition value is at least this (empty: no bound). */
  public String since() {
    return since;
  }

  /** Only files whose first partition value is at most this (empty: no bound). */
  public String until() {
    return until;
  }

  /** The glob of input files below --input: --inputGlob, or all Parquet files for Parquet input. */
  public String inputGlob() {
    return inputGlob;
  }

  /** The endings of the names that are read: .csv and .csv.gz, or .parquet. */
  public List<String> inputSuffixes() {
    return parquetInput() ? MatchInputFiles.PARQUET_SUFFIXES : MatchInputFiles.CSV_SUFFIXES;
  }

  public boolean watch() {
    return watch;
  }

  /** The --compact job: merges Parquet files and reads no input. */
  public boolean compact() {
    return compact;
  }

  /** Submitted to a Flink cluster without waiting for the job (--attachedMode=false). */
  public boolean detached() {
    return detached;
  }

  /** How often a progress line is printed while the job runs; zero: never. */
  public Duration progressEvery() {
    return progressEvery;
  }

  /** How long the job's database work rides out an outage ({@code --dbMaxOutage}). */
  public Duration dbMaxOutage() {
    return dbMaxOutage;
  }

  public Duration pollInterval() {
    return pollInterval;
  }

  /** --stopAfterIdle, or null when a watch runs until cancelled. */
  public Duration stopAfterIdle() {
    return stopAfterIdle;
  }

  public Duration lookupRefresh() {
    return lookupRefresh;
  }

  /** --reingest=changed (or --reingestChanged): files changed since ingestion are read again. */
  public boolean reingestChanged() {
    return reingestChanged;
  }

  /** --reingest=olderDefinitions: files ingested under an older definition are read again. */
  public boolean reingestOlderDefinitions() {
    return reingestOlderDefinitions;
  }

  /** --dryRun: read and validate, write only the report. */
  public boolean dryRun() {
    return dryRun;
  }

  /** --reingest=quarantined: files quarantined by the quality rules are read again. */
  public boolean reingestQuarantined() {
    return reingestQuarantined;
  }

  public int rowGroupBytes() {
    return rowGroupBytes;
  }

  public long parquetTargetFileBytes() {
    return parquetTargetFileBytes;
  }

  public int compactAfterFiles() {
    return compactAfterFiles;
  }

  public int parquetShardsPerPartition() {
    return parquetShardsPerPartition;
  }

  public int dbBatchSize() {
    return dbBatchSize;
  }

  /** --webhookUrl, or empty. */
  public String webhookUrl() {
    return webhookUrl;
  }

  /**
   * True when the files a run reads are closed in the ledger after its job has ended: a backfill
   * this command waits for. A watch run, or a backfill submitted to a cluster without waiting,
   * closes each file inside the job as it completes.
   */
  public boolean finishesFilesAfterJob() {
    return postgres() && !watch && !detached;
  }

  /** A CSV backfill reads each file twice: keys first, then each file's winning rows. */
  public boolean readsTwice() {
    return !watch && !parquetInput();
  }

  /**
   * The workers a CSV backfill's second pass spreads its files over ({@code --parallelism} on the
   * FlinkRunner); 1 (files keyed by rank) on other runners or when Flink picks the parallelism.
   */
  public int secondPassWorkers() {
    return Math.max(1, flinkParallelism);
  }

  /** Buckets of the key pass of a CSV backfill: --dedupeBuckets, with -1 resolved. */
  public int keyBuckets() {
    return dedupeBuckets >= 0 ? dedupeBuckets : KEY_BUCKETS;
  }

  /** Buckets of the de-duplication of Parquet input rows: --dedupeBuckets, -1 resolved. */
  public int dedupeBuckets() {
    if (dedupeBuckets >= 0) {
      return dedupeBuckets;
    }
    return directRunner ? 64 : 0;
  }

  /**
   * Buckets of a CSV watch's de-duplication of packed rows: --dedupeBuckets, with -1 resolved (64
   * on the DirectRunner, which runs each bucket of a pane as a bundle of its own; 1024 elsewhere);
   * 0 de-duplicates rows per key, unpacked.
   */
  public int watchBuckets() {
    if (dedupeBuckets >= 0) {
      return dedupeBuckets;
    }
    return directRunner ? 64 : KEY_BUCKETS;
  }
}
