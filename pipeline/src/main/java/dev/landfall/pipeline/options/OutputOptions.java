package dev.landfall.pipeline.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Where the Parquet files and the local working data go. */
public interface OutputOptions extends PipelineOptions {
  @Description(
      "Folder for the Parquet output: files go to <output>/<dataset>/<partition>=<value>/. Empty:"
          + " <workDir>/parquet.")
  @Default.String("")
  String getOutput();

  void setOutput(String value);

  @Description(
      "Outputs to write, comma-separated: parquet, postgres. 'parquet' alone needs no database.")
  @Default.String("parquet,postgres")
  String getSinks();

  void setSinks(String value);

  @Description("Parquet files written per partition folder.")
  @Default.Integer(1)
  Integer getParquetShardsPerPartition();

  void setParquetShardsPerPartition(Integer value);

  @Description(
      "Local working folder: generated sample input, the embedded PostgreSQL data, default Parquet"
          + " output.")
  @Default.String("landfall-work")
  String getWorkDir();

  void setWorkDir(String value);
}
