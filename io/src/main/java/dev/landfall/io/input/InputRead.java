package dev.landfall.io.input;

import dev.landfall.transforms.TrackFileCompletion;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * What a reader of input files hands on, typed (in the manner of Beam's {@code WriteResult}): what
 * it read ({@link #read()}: clean rows, packed chunks of them, or raw records, as the reader's name
 * says), its dead letters ({@link #rejects()}, schema {@code DatasetSchemas.REJECT}) and, per file
 * once it is read, how many items it produced ({@link #fileItems()}: the records and dead letters
 * the later steps must account for before the file is complete).
 *
 * @param <T> what the reader emits per record or per chunk of records
 */
public final class InputRead<T> implements POutput {
  private final Pipeline pipeline;
  private final TupleTag<T> readTag;
  private final PCollection<T> read;
  private final TupleTag<Row> rejectsTag;
  private final PCollection<Row> rejects;
  private final PCollection<KV<String, Long>> fileItems;

  private InputRead(
      Pipeline pipeline,
      TupleTag<T> readTag,
      PCollection<T> read,
      TupleTag<Row> rejectsTag,
      PCollection<Row> rejects,
      PCollection<KV<String, Long>> fileItems) {
    this.pipeline = pipeline;
    this.readTag = readTag;
    this.read = read;
    this.rejectsTag = rejectsTag;
    this.rejects = rejects;
    this.fileItems = fileItems;
  }

  /**
   * The result of a reader step whose outputs are {@code read} (under {@code readTag}), {@code
   * rejects} (under {@code rejectsTag}) and {@code fileItems} (under {@link
   * InputFiles#FILE_ITEMS}); sets the dead letters' schema and the item counts' coder, the same for
   * every reader.
   */
  public static <T> InputRead<T> of(
      TupleTag<T> readTag,
      PCollection<T> read,
      TupleTag<Row> rejectsTag,
      PCollection<Row> rejects,
      PCollection<KV<String, Long>> fileItems) {
    return new InputRead<>(
        read.getPipeline(),
        readTag,
        read,
        rejectsTag,
        rejects.setRowSchema(DatasetSchemas.REJECT),
        fileItems.setCoder(TrackFileCompletion.countCoder()));
  }

  /** What was read: one element per record, or per chunk of records. */
  public PCollection<T> read() {
    return read;
  }

  /** The dead letters: whole files that could not be read, and (validating readers) records. */
  public PCollection<Row> rejects() {
    return rejects;
  }

  /** Per file, once it is read: how many records and dead letters it produced. */
  public PCollection<KV<String, Long>> fileItems() {
    return fileItems;
  }

  @Override
  public Pipeline getPipeline() {
    return pipeline;
  }

  @Override
  public Map<TupleTag<?>, PValue> expand() {
    return Map.of(readTag, read, rejectsTag, rejects, InputFiles.FILE_ITEMS, fileItems);
  }

  @Override
  public void finishSpecifyingOutput(
      String transformName, PInput input, PTransform<?, ?> transform) {
    // Each collection was finished by the step that produced it.
  }
}
