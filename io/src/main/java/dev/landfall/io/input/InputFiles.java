package dev.landfall.io.input;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.ValueParser;
import java.io.Serializable;
import java.util.Collections;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * What every reader of input files (CSV, Parquet) yields and counts, so that validation,
 * de-duplication, the ledger and the run summary do not care which format was read: the output tags
 * of raw records, whole-file dead letters and per-file item counts, the reader counters, and the
 * partition values a file takes from its folders.
 */
public final class InputFiles {
  private InputFiles() {}

  /** Raw records (schema {@code DatasetSchemas.RAW}), one per record of a file. */
  public static final TupleTag<Row> RECORDS = new TupleTag<Row>() {};

  /** The dead letter of a file that cannot be read (further) or not at all. */
  public static final TupleTag<Row> FILE_REJECTS = new TupleTag<Row>() {};

  /**
   * Per file, once it has been read: how many dead letters and records it produced (the items the
   * later steps must account for before the file is complete).
   */
  public static final TupleTag<KV<String, Long>> FILE_ITEMS = new TupleTag<KV<String, Long>>() {};

  /**
   * The namespace of the reader counters: the CSV reader's class name, as it has always been, so
   * that what queries {@code ReadCsvFiles}' counters (tests, dashboards) finds every reader's.
   */
  public static final String METRICS_NAMESPACE = "dev.landfall.io.csv.ReadCsvFiles";

  /** The counters every reader keeps: files read and rejected, records and bytes read. */
  public static final class Counters implements Serializable {
    private static final long serialVersionUID = 1L;
    public final Counter filesRead = Metrics.counter(METRICS_NAMESPACE, "files-read");
    public final Counter filesRejected = Metrics.counter(METRICS_NAMESPACE, "files-rejected");
    public final Counter rowsRead = Metrics.counter(METRICS_NAMESPACE, "rows-read");
    public final Counter bytesRead = Metrics.counter(METRICS_NAMESPACE, "bytes-read");
  }

  /**
   * The partition values of input files ({@link HivePartitions}), each checked by its partition's
   * parser; the values stay text. Serializable, to be held by a reader's DoFn.
   */
  public static final class Partitions implements Serializable {
    private static final long serialVersionUID = 1L;
    private final DatasetDefinition def;
    private transient ValueParser[] parsers;

    public Partitions(DatasetDefinition def) {
      this.def = def;
    }

    /**
     * The partition values of the file at {@code path}, in definition order, unmodifiable.
     *
     * @throws HivePartitions.MissingPartition when a folder is missing or its value is unusable:
     *     the file is rejected as a whole ({@code partition})
     */
    public List<String> of(String path) throws HivePartitions.MissingPartition {
      if (parsers == null) {
        ValueParser[] built = new ValueParser[def.partitions.size()];
        for (int i = 0; i < built.length; i++) {
          DatasetDefinition.Partition p = def.partitions.get(i);
          built[i] = new ValueParser(DatasetDefinition.partitionType(p), p.format);
        }
        parsers = built;
      }
      return Collections.unmodifiableList(
          HivePartitions.checkedValuesOf(path, def.partitions, parsers));
    }
  }
}
