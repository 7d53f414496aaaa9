package dev.landfall.pipeline.options;

/**
 * All options of a landfall run, composed from one interface per concern. Runner options
 * ({@code --runner=FlinkRunner --flinkMaster=host:8081 --parallelism=2}) come from the runner;
 * AWS options ({@code --awsRegion}) from Beam's S3 file system.
 */
public interface LandfallOptions
    extends InputOptions, OutputOptions, DatabaseOptions, WatchOptions, S3Settings {}
