package dev.landfall.io.parquet;

import dev.landfall.transforms.RowTask;
import dev.landfall.transforms.RunRowTasks;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Writes Parquet files sized by data, not by input files, as the rows go by and without a shuffle,
 * for clean rows that arrive <b>each input file's rows together</b>, as the CSV backfill's second
 * pass ({@code csv.ReadDeduplicatedCsv}) emits them (steps in between may only map rows one to
 * one).
 *
 * <p>Each worker keeps one open file per partition folder and adds whole input files to it; once it
 * holds about {@code targetBytes}, it is closed after the input file being written. A file is
 * written under a hidden temporary name; when it is closed, {@code _compact-<hash>.parquet.members}
 * is written beside it, listing the {@code part-*} names of the input files it holds (the names
 * {@link WriteParquetPartitions} would give them), and it is renamed to {@code
 * compact-<hash>.parquet}: the layout of a merged file ({@link ParquetCompaction}), so everything
 * that keeps merged files right keeps these right too. A re-read input file replaces exactly its
 * rows: its new file is newer, and {@link ParquetCompaction#reconcile} drops its rows from the
 * older file that held them. A reader never sees a half-written file under its final name.
 *
 * <p>Memory: the open files of one worker buffer at most about one row group between them ({@code
 * rowGroupBytes}); when they hold more, the largest is closed early. Emits {@code (partition
 * folder, final file name)} per file written. Rows of an input file that arrive after its rows were
 * closed would be written twice; the step fails instead.
 */
public class WriteParquetBySize
    extends PTransform<PCollection<Row>, PCollection<KV<String, String>>> {
  private final DatasetDefinition definition;
  private final String output;
  private final int rowGroupBytes;
  private final long targetBytes;

  public WriteParquetBySize(
      DatasetDefinition definition, String output, int rowGroupBytes, long targetBytes) {
    this.definition = definition;
    this.output = output;
    this.rowGroupBytes = rowGroupBytes;
    this.targetBytes = targetBytes;
  }

  @Override
  public PCollection<KV<String, String>> expand(PCollection<Row> rows) {
    return rows.apply("WriteParquetBySize", RunRowTasks.single(writtenCoder(), asTask()));
  }

  /**
   * The same work as a task, to run with others over the same rows ({@link RunRowTasks}); its
   * output is this transform's, with {@link #writtenCoder()}.
   */
  public RowTask<KV<String, String>> asTask() {
    return new WriteTask(definition, output, rowGroupBytes, targetBytes);
  }

  /** The coder of the {@code (partition folder, file name)} pairs this step emits. */
  public static KvCoder<String, String> writtenCoder() {
    return KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of());
  }

  /** A file being filled: its sink, where it goes, and the input files it holds. */
  private static final class OpenFile {
    final String partition;
    final ResourceId folder;
    final ResourceId temporary;
    final RowParquetSink sink;
    final Set<String> members = new TreeSet<>();

    OpenFile(String partition, ResourceId folder, ResourceId temporary, RowParquetSink sink) {
      this.partition = partition;
      this.folder = folder;
      this.temporary = temporary;
      this.sink = sink;
    }
  }

  static final class WriteTask extends RowTask<KV<String, String>> {
    /** At most this many files open per worker, whatever their size. */
    static final int MAX_OPEN = 16;

    private final DatasetDefinition def;
    private final String datasetFolder;
    private final int rowGroupBytes;
    private final long targetBytes;
    private transient WriteParquetPartitions.PartitionFolder destinations;

    /** The input files this instance has written rows of. */
    private transient Set<String> seen;

    /** Open files by partition, least recently written first. */
    private transient LinkedHashMap<String, OpenFile> open;

    private transient String current;
    private transient OpenFile currentFile;

    WriteTask(DatasetDefinition def, String output, int rowGroupBytes, long targetBytes) {
      this.def = def;
      this.datasetFolder = WriteParquetPartitions.datasetFolder(output, def);
      this.rowGroupBytes = rowGroupBytes;
      this.targetBytes = targetBytes;
    }

    @Override
    public void setup() {
      destinations = new WriteParquetPartitions.PartitionFolder(def);
      seen = new HashSet<>();
      open = new LinkedHashMap<>(16, 0.75f, true);
    }

    @Override
    public void process(Row row, Output<KV<String, String>> out) throws IOException {
      String file = row.getString(DatasetDefinition.SOURCE_FILE);
      if (!file.equals(current)) {
        endInputFile(out);
        startInputFile(file, row);
      }
      currentFile.sink.write(row);
    }

    @Override
    public void finishBundle(Output<KV<String, String>> out) throws IOException {
      endInputFile(out);
      for (OpenFile f : new ArrayList<>(open.values())) {
        out.output(close(f));
      }
    }

    @Override
    public void teardown() throws IOException {
      if (open != null) {
        for (OpenFile f : open.values()) {
          f.sink.flush(); // an aborted bundle: the temporary file is left, never renamed
        }
        open.clear();
      }
    }

    private void startInputFile(String file, Row first) throws IOException {
      if (!seen.add(file)) {
        throw new IllegalStateException(
            "rows of "
                + file
                + " arrived after its Parquet rows were"
                + " written; this step needs each input file's rows together");
      }
      String destination = destinations.apply(first);
      int slash = destination.lastIndexOf('/');
      String partition = slash < 0 ? "" : destination.substring(0, slash);
      String part =
          destination.substring(slash + 1) + "-00000-of-00001" + ParquetCompaction.PARQUET;
      OpenFile f = open.get(partition);
      if (f == null) {
        ResourceId folder =
            FileSystems.matchNewResource(
                datasetFolder + "/" + (partition.isEmpty() ? "" : partition + "/"), true);
        ResourceId temporary = ParquetCompaction.temporaryFile(folder);
        RowParquetSink sink = new RowParquetSink(def, rowGroupBytes);
        sink.open(FileSystems.create(temporary, "application/octet-stream"));
        f = new OpenFile(partition, folder, temporary, sink);
        open.put(partition, f);
      }
      f.members.add(part);
      current = file;
      currentFile = f;
    }

    /** After an input file's last row: closes its file once it is full, or files to keep memory. */
    private void endInputFile(Output<KV<String, String>> out) throws IOException {
      if (currentFile == null) {
        return;
      }
      OpenFile ended = currentFile;
      current = null;
      currentFile = null;
      if (ended.sink.dataSize() >= targetBytes) {
        out.output(close(ended));
      }
      // The open files buffer their rows until a row group is full: keep them within about one
      // row group in all, closing the largest first.
      while (open.size() > MAX_OPEN || (open.size() > 1 && buffered() > rowGroupBytes)) {
        OpenFile largest = null;
        for (OpenFile f : open.values()) {
          if (largest == null || f.sink.dataSize() > largest.sink.dataSize()) {
            largest = f;
          }
        }
        out.output(close(largest));
      }
    }

    private long buffered() {
      long sum = 0;
      for (OpenFile f : open.values()) {
        sum += f.sink.dataSize();
      }
      return sum;
    }

    /**
     * Writes the footer, then the member list, then renames the file into place; returns its
     * (partition, final name).
     */
    private KV<String, String> close(OpenFile f) throws IOException {
      open.remove(f.partition);
      f.sink.flush();
      ResourceId target = ParquetCompaction.publishMerged(f.folder, f.temporary, f.members);
      return KV.of(f.partition, target.toString());
    }
  }
}
