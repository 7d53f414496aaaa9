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

  @Description(
      "Above 1: group a backfill's rows by input file with Beam's FileIO and write this many"
          + " shards per input file (then merge each folder down to what its bytes need). 1: files"
          + " sized by data, written without a shuffle.")
  @Default.Integer(1)
  Integer getParquetShardsPerPartition();

  void setParquetShardsPerPartition(Integer value);

  @Description(
      "Row group size of the Parquet files, in MB. Readers skip whole row groups using their"
          + " column statistics.")
  @Default.Integer(128)
  Integer getParquetRowGroupMb();

  void setParquetRowGroupMb(Integer value);

  @Description(
      "Size in MB a backfill fills its Parquet files up to; --compact and watch mode merge the"
          + " files of a partition folder smaller than this into files of about this size.")
  @Default.Integer(128)
  Integer getParquetTargetFileMb();

  void setParquetTargetFileMb(Integer value);

  @Description(
      "Watch mode: once a partition folder holds this many Parquet files smaller than"
          + " --parquetTargetFileMb, merge them (as --compact does). 0: never.")
  @Default.Integer(16)
  Integer getCompactAfterFiles();

  void setCompactAfterFiles(Integer value);

  @Description(
      "Instead of ingesting, compact the Parquet output: in every partition folder of"
          + " <output>/<dataset>, merge the small files into files of about --parquetTargetFileMb."
          + " Needs no database.")
  @Default.Boolean(false)
  Boolean getCompact();

  void setCompact(Boolean value);

  @Description(
      "Reads and validates the input against the definition (quality rules included) and writes"
          + " only a report, <workDir>/reports/dry-run-<time>.html: no table, no Parquet, no"
          + " ledger entry, no embedded database. With --jdbcUrl it reads the ledger to leave"
          + " out files already done. Exits with 1 when a file would be quarantined, naming it.")
  @Default.Boolean(false)
  Boolean getDryRun();

  void setDryRun(Boolean value);

  @Description(
      "Local working folder: generated sample input, the embedded PostgreSQL data, default Parquet"
          + " output.")
  @Default.String("landfall-work")
  String getWorkDir();

  void setWorkDir(String value);
}
