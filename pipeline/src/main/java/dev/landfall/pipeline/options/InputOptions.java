package dev.landfall.pipeline.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Where the CSV files are and how they are described. */
public interface InputOptions extends PipelineOptions {
  @Description(
      "Folder or prefix holding the Hive-partitioned CSV files (local path or any Beam file system"
          + " URI). Empty: generate --sampleRows rows of the billing sample under --workDir and use"
          + " them.")
  @Default.String("")
  String getInput();

  void setInput(String value);

  @Description(
      "Glob below --input; matches ending in .csv or .csv.gz are read (gzip transparently).")
  @Default.String("**/*.csv*")
  String getInputGlob();

  void setInputGlob(String value);

  @Description(
      "Format of the input files: csv (.csv, .csv.gz) or parquet (.parquet, laid out the same"
          + " way). With parquet, the default --inputGlob becomes **/*.parquet.")
  @Default.String("csv")
  String getFormat();

  void setFormat(String value);

  @Description(
      "Name of a built-in dataset definition (billing). Ignored when --datasetFile is set.")
  @Default.String("billing")
  String getDataset();

  void setDataset(String value);

  @Description("Path of a dataset definition JSON file (format: docs/definition.md).")
  @Default.String("")
  String getDatasetFile();

  void setDatasetFile(String value);

  @Description(
      "De-duplicate in this many hash buckets, one held in memory at a time, instead of per key"
          + " (0: sorted per key, spills to disk, slower). -1: a CSV backfill finds duplicate keys"
          + " in 1024 buckets (memory: the keys of one bucket, about rows/1024); a watch of CSV"
          + " files packs each file's rows into 1024 buckets (64 on the DirectRunner; memory: the"
          + " rows of one bucket of a pane); Parquet input is de-duplicated in 64 buckets on the"
          + " DirectRunner, per key elsewhere.")
  @Default.Integer(-1)
  Integer getDedupeBuckets();

  void setDedupeBuckets(Integer value);

  @Description("Rows of sample data to generate when --input is empty.")
  @Default.Long(30_000L)
  Long getSampleRows();

  void setSampleRows(Long value);
}
