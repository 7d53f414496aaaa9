package dev.landfall.pipeline.options;

/**
 * All options of a landfall run, composed from one interface per concern. Runner options ({@code
 * --runner=FlinkRunner --flinkMaster=host:8081 --parallelism=2}) come from the runner; AWS options
 * ({@code --awsRegion}) from Beam's S3 file system.
 */
public interface LandfallOptions
    extends InputOptions, OutputOptions, DatabaseOptions, WatchOptions, S3Settings {
  @org.apache.beam.sdk.options.Description(
      "How often a running job prints a progress line (files"
          + " and megabytes read of those claimed, rows, rows/s, time left), e.g. 10s, 1m; 0: never."
          + " Read from the file ledger, so only with the postgres output.")
  @org.apache.beam.sdk.options.Default.String("10s")
  String getProgressEvery();

  void setProgressEvery(String value);
}
