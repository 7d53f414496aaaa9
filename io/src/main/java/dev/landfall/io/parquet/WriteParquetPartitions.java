package dev.landfall.io.parquet;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.transforms.definition.DatasetDefinition;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.WriteFilesResult;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Writes clean rows as zstd Parquet under {@code <output>/<dataset>/<p1>=<v1>/.../part-NNNNN-of-
 * NNNNN.parquet}, one folder per partition value. File names are deterministic, so a re-run over
 * the same input replaces the files instead of adding new ones; Beam writes into a temporary folder
 * and renames, so a reader never sees a half-written file under its final name.
 */
public class WriteParquetPartitions extends PTransform<PCollection<Row>, WriteFilesResult<String>> {
  private final DatasetDefinition definition;
  private final String output;
  private final int shardsPerPartition;
  private final int rowGroupBytes;

  public WriteParquetPartitions(
      DatasetDefinition definition, String output, int shardsPerPartition, int rowGroupBytes) {
    this.definition = definition;
    this.output = output;
    this.shardsPerPartition = shardsPerPartition;
    this.rowGroupBytes = rowGroupBytes;
  }

  /** The folder the dataset's Parquet files go to. */
  public static String datasetFolder(String output, DatasetDefinition def) {
    return (output.endsWith("/") ? output : output + "/") + def.name;
  }

  @Override
  public WriteFilesResult<String> expand(PCollection<Row> rows) {
    return rows.apply(
        "WriteParquetFiles",
        FileIO.<String, Row>writeDynamic()
            .by(new PartitionFolder(definition))
            .withDestinationCoder(StringUtf8Coder.of())
            .via(new RowParquetSink(definition, rowGroupBytes))
            .to(datasetFolder(output, definition))
            .withNaming(prefix -> FileIO.Write.defaultNaming(prefix, ".parquet"))
            .withNumShards(shardsPerPartition));
  }

  /**
   * The name prefix of the Parquet file holding the rows of one input file: {@code part-} and 16
   * hex digits of the SHA-256 of its path. One Parquet file per input file and partition means a
   * re-read input file replaces exactly its own output, in backfill and in watch mode alike.
   */
  public static String filePrefix(String sourceFile) {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(sourceFile.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      StringBuilder sb = new StringBuilder("part-");
      for (int i = 0; i < 8; i++) {
        sb.append(Character.forDigit((d[i] >> 4) & 0xf, 16))
            .append(Character.forDigit(d[i] & 0xf, 16));
      }
      return sb.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The final file name for an input file: the same in backfill and watch mode. */
  public static String fileName(String sourceFile) {
    return filePrefix(sourceFile) + "-00000-of-00001.parquet";
  }

  /** {@code date=2024-01-01/part-<hash of the input file>} for a row. */
  static final class PartitionFolder implements SerializableFunction<Row, String> {
    private final DatasetDefinition def;

    /**
     * The last input file seen and its name prefix, as one pair (replaced whole, so a reader never
     * sees the prefix of another file): rows of one file mostly come together.
     */
    private transient volatile String[] last;

    PartitionFolder(DatasetDefinition def) {
      this.def = def;
    }

    /** {@link #filePrefix} of the row's input file, hashed once per run of rows from it. */
    private String prefixOf(String sourceFile) {
      String[] seen = last;
      if (seen != null && seen[0].equals(sourceFile)) {
        return seen[1];
      }
      String prefix = filePrefix(sourceFile);
      last = new String[] {sourceFile, prefix};
      return prefix;
    }

    @Override
    public String apply(Row row) {
      if (def.partitions.isEmpty()) {
        return "all";
      }
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < def.partitions.size(); i++) {
        if (i > 0) {
          sb.append('/');
        }
        String name = def.partitions.get(i).name;
        sb.append(name)
            .append('=')
            .append(HivePartitions.encode(String.valueOf((Object) row.getValue(i))));
      }
      return sb.append('/')
          .append(prefixOf(row.getString(DatasetDefinition.SOURCE_FILE)))
          .toString();
    }
  }
}
