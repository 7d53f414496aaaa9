package dev.landfall.transforms;

import java.io.Serializable;

/**
 * Work done on every row of a collection, with its own output: what a sink's or an aggregation's
 * {@code DoFn} does, written so that several of them can run in one step ({@link RunRowTasks}).
 * Each worker gets its own copy (it is serialized with the step), so a task may keep state in
 * transient fields between {@link #setup()} and {@link #teardown()}, and per bundle between {@link
 * #startBundle()} and {@link #finishBundle}, as a {@code DoFn} does.
 *
 * @param <OutputT> what the task hands on (file names, counts, partial totals)
 */
public abstract class RowTask<OutputT> implements Serializable {
  /** Where a task hands on its output. */
  @FunctionalInterface
  public interface Output<T> {
    void output(T value);
  }

  /** Once per worker, before its first bundle. */
  public void setup() throws Exception {}

  /** At the start of each bundle. */
  public void startBundle() throws Exception {}

  /** Once per row. */
  public abstract void process(org.apache.beam.sdk.values.Row row, Output<OutputT> out)
      throws Exception;

  /** At the end of each bundle: hand on what is still held. */
  public void finishBundle(Output<OutputT> out) throws Exception {}

  /** Once per worker, when it is discarded (also after a failed bundle). */
  public void teardown() throws Exception {}
}
