package dev.landfall.transforms;

import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * What a de-duplication that accounts for the losers hands on, typed: the winning rows, one per key
 * ({@link #unique()}), and per source file how many of its rows lost their key ({@link
 * #duplicates()}, only files with at least one), so that a file's rows can be accounted for as they
 * finish.
 */
public final class Deduplicated implements POutput {
  private final TupleTag<Row> uniqueTag;
  private final TupleTag<KV<String, Long>> duplicatesTag;
  private final PCollectionTuple outputs;

  Deduplicated(
      TupleTag<Row> uniqueTag, TupleTag<KV<String, Long>> duplicatesTag, PCollectionTuple outputs) {
    this.uniqueTag = uniqueTag;
    this.duplicatesTag = duplicatesTag;
    this.outputs = outputs;
  }

  /** The winning rows, one per key. */
  public PCollection<Row> unique() {
    return outputs.get(uniqueTag);
  }

  /** Per source file, the number of its rows that lost their key (emitted only when > 0). */
  public PCollection<KV<String, Long>> duplicates() {
    return outputs.get(duplicatesTag);
  }

  @Override
  public Pipeline getPipeline() {
    return outputs.getPipeline();
  }

  @Override
  public Map<TupleTag<?>, PValue> expand() {
    return Map.of(uniqueTag, unique(), duplicatesTag, duplicates());
  }

  @Override
  public void finishSpecifyingOutput(
      String transformName, PInput input, PTransform<?, ?> transform) {
    // Each collection was finished by the step that produced it.
  }
}
