package dev.landfall.io.parquet;

import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compaction job: finds every partition folder under a dataset's Parquet folder and merges its
 * small files into files of about the target size ({@link ParquetCompaction}). Folders are spread
 * over the workers, one worker per folder. Counts {@code parquet-files-merged}, {@code
 * parquet-files-written} and {@code parquet-rows-merged}; emits one line per folder that changed.
 */
public class CompactParquetPartitions extends PTransform<PBegin, PCollection<String>> {
  private final String datasetFolder;
  private final ParquetCompaction compaction;

  public CompactParquetPartitions(String datasetFolder, ParquetCompaction compaction) {
    this.datasetFolder = datasetFolder;
    this.compaction = compaction;
  }

  @Override
  public PCollection<String> expand(PBegin begin) {
    return begin
        .apply("DatasetFolder", Create.of(datasetFolder))
        .apply("ListPartitionFolders", ParDo.of(new ListFoldersFn()))
        .apply("SpreadFolders", Reshuffle.viaRandomKey())
        .apply("MergeSmallFiles", ParDo.of(new CompactFn(compaction)));
  }

  static class ListFoldersFn extends DoFn<String, String> {
    @ProcessElement
    public void process(@Element String dataset, OutputReceiver<String> out) throws Exception {
      List<String> folders = ParquetCompaction.partitionFolders(dataset);
      LoggerFactory.getLogger(CompactParquetPartitions.class)
          .info("compaction: {} partition folders under {}", folders.size(), dataset);
      folders.forEach(out::output);
    }
  }

  static class CompactFn extends DoFn<String, String> {
    private static final Logger LOG = LoggerFactory.getLogger(CompactParquetPartitions.class);
    private final Counter merged =
        Metrics.counter(CompactParquetPartitions.class, "parquet-files-merged");
    private final Counter written =
        Metrics.counter(CompactParquetPartitions.class, "parquet-files-written");
    private final Counter rows =
        Metrics.counter(CompactParquetPartitions.class, "parquet-rows-merged");
    private final ParquetCompaction compaction;

    CompactFn(ParquetCompaction compaction) {
      this.compaction = compaction;
    }

    @ProcessElement
    public void process(@Element String folder, OutputReceiver<String> out) throws Exception {
      ParquetCompaction.Result r = compaction.compact(folder);
      merged.inc(r.filesMerged);
      written.inc(r.filesWritten);
      rows.inc(r.rows);
      if (r.filesWritten > 0) {
        String line = folder + ": " + r.filesMerged + " files merged into " + r.filesWritten;
        LOG.info("compaction: {}", line);
        out.output(line);
      }
    }
  }
}
