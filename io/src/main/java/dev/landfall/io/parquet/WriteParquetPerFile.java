package dev.landfall.io.parquet;

import dev.landfall.transforms.RowTask;
import dev.landfall.transforms.RunRowTasks;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Writes the Parquet file of each input file as its rows go by, without a shuffle: the files,
 * names and contents {@link WriteParquetPartitions} writes with one shard per input file, for
 * clean rows that arrive <b>each input file's rows together</b>, as the CSV backfill's second
 * pass ({@code csv.ReadDeduplicatedCsv}) emits them (steps in between may only map rows one to
 * one). The file of an input file is opened at its first row and written under a temporary name
 * ({@code .<name>.inprogress}); at the next input file's first row, or at the end of the bundle,
 * it is closed and renamed, so a reader never sees a half-written file under its final name.
 *
 * <p>Emits {@code (destination, final file name)} per file written, as {@code WriteFilesResult}'s
 * per-destination file names. Rows of an input file that arrive after its file was closed would
 * replace it; the step fails instead.
 */
public class WriteParquetPerFile
    extends PTransform<PCollection<Row>, PCollection<KV<String, String>>> {
  private final DatasetDefinition definition;
  private final String output;
  private final int rowGroupBytes;

  public WriteParquetPerFile(DatasetDefinition definition, String output, int rowGroupBytes) {
    this.definition = definition;
    this.output = output;
    this.rowGroupBytes = rowGroupBytes;
  }

  @Override
  public PCollection<KV<String, String>> expand(PCollection<Row> rows) {
    return rows.apply("WriteParquetPerInputFile", RunRowTasks.single(writtenCoder(), asTask()));
  }

  /**
   * The same work as a task, to run with others over the same rows ({@link RunRowTasks}); its
   * output is this transform's, with {@link #writtenCoder()}.
   */
  public RowTask<KV<String, String>> asTask() {
    return new WriteTask(definition, output, rowGroupBytes);
  }

  /** The coder of the {@code (destination, file name)} pairs this step emits. */
  public static KvCoder<String, String> writtenCoder() {
    return KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of());
  }

  static final class WriteTask extends RowTask<KV<String, String>> {
    private final DatasetDefinition def;
    private final String datasetFolder;
    private final int rowGroupBytes;
    private transient WriteParquetPartitions.PartitionFolder destinations;
    /** The input files whose Parquet files this instance has closed. */
    private transient Set<String> closed;
    private transient String current;
    private transient String destination;
    private transient RowParquetSink sink;
    private transient ResourceId temporary;
    private transient ResourceId target;

    WriteTask(DatasetDefinition def, String output, int rowGroupBytes) {
      this.def = def;
      this.datasetFolder = WriteParquetPartitions.datasetFolder(output, def);
      this.rowGroupBytes = rowGroupBytes;
    }

    @Override
    public void setup() {
      destinations = new WriteParquetPartitions.PartitionFolder(def);
      closed = new HashSet<>();
    }

    @Override
    public void process(Row row, Output<KV<String, String>> out) throws IOException {
      String file = row.getString(DatasetDefinition.SOURCE_FILE);
      if (!file.equals(current)) {
        KV<String, String> done = close();
        if (done != null) {
          out.output(done);
        }
        open(file, row);
      }
      sink.write(row);
    }

    @Override
    public void finishBundle(Output<KV<String, String>> out) throws IOException {
      KV<String, String> done = close();
      if (done != null) {
        out.output(done);
      }
    }

    @Override
    public void teardown() throws IOException {
      if (sink != null) {
        sink.flush(); // an aborted bundle: the temporary file is left, never renamed
        sink = null;
      }
    }

    private void open(String file, Row first) throws IOException {
      if (!closed.add(file)) {
        throw new IllegalStateException("rows of " + file + " arrived after its Parquet file was"
            + " written; this step needs each input file's rows together");
      }
      current = file;
      destination = destinations.apply(first);
      target = FileSystems.matchNewResource(datasetFolder + "/" + destination
          + "-00000-of-00001.parquet", false);
      temporary = target.getCurrentDirectory().resolve("." + target.getFilename() + ".inprogress",
          StandardResolveOptions.RESOLVE_FILE);
      sink = new RowParquetSink(def, rowGroupBytes);
      sink.open(FileSystems.create(temporary, "application/octet-stream"));
    }

    /** Closes and renames the open file; returns its (destination, name), or null if none. */
    private KV<String, String> close() throws IOException {
      if (sink == null) {
        return null;
      }
      sink.flush();
      sink = null;
      current = null;
      FileSystems.rename(List.of(temporary), List.of(target));
      return KV.of(destination, target.toString());
    }
  }
}
