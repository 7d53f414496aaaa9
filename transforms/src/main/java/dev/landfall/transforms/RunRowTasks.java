package dev.landfall.transforms;

import static java.util.stream.Collectors.toList;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Runs several {@link RowTask}s over the same rows in one step, each with its own output. Rows that
 * several consumers need are then handed over once: on Flink's batch execution a collection read by
 * several steps is serialized and deserialized once per consumer, while one step chained to the
 * step that makes the rows gets them as objects. (Each consumer's own output, a file name or a
 * count per batch, is small.)
 *
 * <p>The tasks run in the order they were added, for each row and at the end of each bundle. Rows
 * must be in the global window (triggers are allowed, as in watch mode's panes); what a task hands
 * on at the end of a bundle is in the global window.
 */
public final class RunRowTasks extends PTransform<PCollection<Row>, PCollectionTuple> {
  private final List<Entry<?>> entries;

  private RunRowTasks(List<Entry<?>> entries) {
    this.entries = entries;
  }

  /** A step running {@code task}, whose output is {@code tag} with {@code coder}. */
  public static <T> RunRowTasks of(TupleTag<T> tag, Coder<T> coder, RowTask<T> task) {
    return new RunRowTasks(new ArrayList<>()).and(tag, coder, task);
  }

  /** A step running {@code task} alone: its output, with {@code coder}. */
  public static <T> PTransform<PCollection<Row>, PCollection<T>> single(
      Coder<T> coder, RowTask<T> task) {
    TupleTag<T> tag = new TupleTag<>("output");
    RunRowTasks step = of(tag, coder, task);
    return new PTransform<>() {
      @Override
      public PCollection<T> expand(PCollection<Row> rows) {
        return rows.apply(step).get(tag);
      }
    };
  }

  /** This step with {@code task} as well, run after the others; its output is {@code tag}. */
  public <T> RunRowTasks and(TupleTag<T> tag, Coder<T> coder, RowTask<T> task) {
    for (Entry<?> e : entries) {
      if (e.tag.getId().equals(tag.getId())) {
        throw new IllegalArgumentException("two tasks with the output " + tag.getId());
      }
    }
    List<Entry<?>> more = new ArrayList<>(entries);
    more.add(new Entry<>(tag, coder, task));
    return new RunRowTasks(more);
  }

  @Override
  @SuppressWarnings("unchecked")
  public PCollectionTuple expand(PCollection<Row> rows) {
    if (!(rows.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
      throw new IllegalArgumentException(
          "RunRowTasks needs rows in the global window, not "
              + rows.getWindowingStrategy().getWindowFn());
    }
    List<TupleTag<?>> others = new ArrayList<>();
    for (int i = 1; i < entries.size(); i++) {
      others.add(entries.get(i).tag);
    }
    PCollectionTuple out =
        rows.apply(
            "ForEachRow",
            ParDo.of(
                    new TasksFn(
                        entries.stream().map(e -> e.tag.getId()).collect(toList()),
                        entries.stream().map(e -> e.task).collect(toList())))
                .withOutputTags((TupleTag<Object>) entries.get(0).tag, TupleTagList.of(others)));
    for (Entry<?> e : entries) {
      out.get((TupleTag<Object>) e.tag).setCoder((Coder<Object>) e.coder);
    }
    return out;
  }

  /** A task with its output tag and coder. */
  private static final class Entry<T> {
    final TupleTag<T> tag;
    final Coder<T> coder;
    final RowTask<T> task;

    Entry(TupleTag<T> tag, Coder<T> coder, RowTask<T> task) {
      this.tag = tag;
      this.coder = coder;
      this.task = task;
    }
  }

  /**
   * Calls every task, in order, for each row and at each bundle's start and end. It holds the
   * outputs' ids, not the callers' tags (which may be anonymous classes of anything).
   */
  private static final class TasksFn extends DoFn<Row, Object> {
    private final List<String> outputs;
    private final List<RowTask<?>> tasks;
    private transient List<TupleTag<Object>> tags;

    /** One output per task, pointed at the current element's receiver (no allocation per row). */
    private transient List<ElementOutput> perElement;

    TasksFn(List<String> outputs, List<RowTask<?>> tasks) {
      this.outputs = outputs;
      this.tasks = tasks;
    }

    @Setup
    public void setup() throws Exception {
      tags = outputs.stream().map(id -> new TupleTag<Object>(id)).collect(toList());
      perElement = tags.stream().map(ElementOutput::new).collect(toList());
      for (RowTask<?> task : tasks) {
        task.setup();
      }
    }

    @StartBundle
    public void startBundle() throws Exception {
      for (RowTask<?> task : tasks) {
        task.startBundle();
      }
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(@Element Row row, MultiOutputReceiver out) throws Exception {
      for (int i = 0; i < tasks.size(); i++) {
        ElementOutput output = perElement.get(i);
        output.receiver = out;
        ((RowTask<Object>) tasks.get(i)).process(row, output);
      }
    }

    /** A task's output while one element is processed: looks up its receiver only to emit. */
    private static final class ElementOutput implements RowTask.Output<Object> {
      private final TupleTag<Object> tag;
      MultiOutputReceiver receiver;

      ElementOutput(TupleTag<Object> tag) {
        this.tag = tag;
      }

      @Override
      public void output(Object value) {
        receiver.get(tag).output(value);
      }
    }

    @FinishBundle
    @SuppressWarnings("unchecked")
    public void finishBundle(FinishBundleContext c) throws Exception {
      for (int i = 0; i < tasks.size(); i++) {
        TupleTag<Object> tag = tags.get(i);
        ((RowTask<Object>) tasks.get(i))
            .finishBundle(
                v -> c.output(tag, v, GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE));
      }
    }

    @Teardown
    public void teardown() throws Exception {
      Exception first = null;
      for (RowTask<?> task : tasks) {
        try {
          task.teardown();
        } catch (Exception e) {
          if (first == null) {
            first = e;
          } else {
            first.addSuppressed(e);
          }
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }
}
