package dev.landfall.io.parquet;

import java.nio.channels.WritableByteChannel;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes an empty {@code _SUCCESS} marker into each partition folder once its Parquet files have
 * been renamed to their final names (the input is {@code WriteFilesResult}'s per-destination final
 * file names). Readers that wait for the marker never see a partition being written; pandas,
 * pyarrow, Spark and DuckDB's {@code *.parquet} globs ignore the file. Emits the folders marked.
 */
public class MarkPartitionsComplete
    extends PTransform<PCollection<KV<String, String>>, PCollection<String>> {
  private final String datasetFolder;

  public MarkPartitionsComplete(String datasetFolder) {
    this.datasetFolder = datasetFolder;
  }

  @Override
  public PCollection<String> expand(PCollection<KV<String, String>> written) {
    return written.apply("WriteSuccessMarkers", ParDo.of(new MarkFn(datasetFolder)));
  }

  static class MarkFn extends DoFn<KV<String, String>, String> {
    private final String datasetFolder;

    MarkFn(String datasetFolder) {
      this.datasetFolder = datasetFolder;
    }

    @ProcessElement
    public void process(@Element KV<String, String> file, OutputReceiver<String> out)
        throws Exception {
      ResourceId folder =
          FileSystems.matchNewResource(file.getValue(), false).getCurrentDirectory();
      ResourceId marker = folder.resolve("_SUCCESS", StandardResolveOptions.RESOLVE_FILE);
      try (WritableByteChannel ignored = FileSystems.create(marker, "application/octet-stream")) {
        // An empty file: its presence is the signal.
      }
      out.output(folder.toString());
    }
  }
}
