package dev.landfall.io.parquet;

import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * After a backfill's Parquet files are final, brings each partition folder they went to back in
 * line with its merged files ({@link ParquetCompaction#reconcileAndBound}): a re-read input file's
 * rows are dropped from a merged file that still held them, and a folder left with more small files
 * than its bytes need has them merged. Input: the (destination, file name) of every file written.
 * The files are grouped by folder first, so one worker reconciles a folder. Emits {@code (folder,
 * one of its files)} once per folder, when it is done.
 */
public class ReconcileCompactedFiles
    extends PTransform<PCollection<KV<String, String>>, PCollection<KV<String, String>>> {
  private final ParquetCompaction compaction;

  public ReconcileCompactedFiles(ParquetCompaction compaction) {
    this.compaction = compaction;
  }

  @Override
  public PCollection<KV<String, String>> expand(PCollection<KV<String, String>> written) {
    return written
        .apply(
            "ByFolder",
            MapElements.into(
                    TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                .via(
                    f ->
                        KV.of(
                            FileSystems.matchNewResource(f.getValue(), false)
                                .getCurrentDirectory()
                                .toString(),
                            f.getValue())))
        .apply("GroupByFolder", GroupByKey.create())
        .apply("ReconcileFolders", ParDo.of(new ReconcileFn(compaction)));
  }

  static class ReconcileFn extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    private final ParquetCompaction compaction;

    ReconcileFn(ParquetCompaction compaction) {
      this.compaction = compaction;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<String>> folder, OutputReceiver<KV<String, String>> out)
        throws Exception {
      ResourceId dir = FileSystems.matchNewResource(folder.getKey(), true);
      compaction.reconcileAndBound(dir);
      // One per folder: the folder is done.
      out.output(KV.of(folder.getKey(), folder.getValue().iterator().next()));
    }
  }
}
