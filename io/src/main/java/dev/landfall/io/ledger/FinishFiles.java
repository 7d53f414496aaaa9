package dev.landfall.io.ledger;

import dev.landfall.io.parquet.ExportFileToParquet;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * Closes each completed input file (path and the number of items the reader produced for it):
 * optionally writes its Parquet file from the stored rows and recomputes its aggregate groups
 * (watch mode), then marks it {@code done} or {@code failed} in the {@link FileLedger} with its
 * counts, which also notifies {@code landfall_status}; logs one line per file and posts the same
 * JSON to the webhook if one is set. Emits the status events. The files completed in one bundle are
 * closed together, in one ledger transaction that recomputes their aggregate groups once.
 */
public class FinishFiles extends PTransform<PCollection<KV<String, Long>>, PCollection<String>> {
  /** What is written for files closed together before they are marked done. */
  @FunctionalInterface
  public interface BeforeDone extends Serializable {
    /** Writes what the files {@code paths} need before they count as done. */
    void write(List<String> paths) throws Exception;

    /** Nothing (the pipeline wrote the Parquet, or there is none). */
    BeforeDone NOTHING = paths -> {};

    /** A watch's Parquet: the files' stored rows exported ({@link ExportFileToParquet}). */
    static BeforeDone parquet(ExportFileToParquet export) {
      return export::exportAll;
    }
  }

  private final FileLedger ledger;
  private final BeforeDone beforeDone;
  private final String webhookUrl;

  /**
   * @param beforeDone what is written for the files before they are marked done (a watch's
   *     Parquet), or {@link BeforeDone#NOTHING}
   * @param webhookUrl where status events are POSTed, or empty
   */
  public FinishFiles(FileLedger ledger, BeforeDone beforeDone, String webhookUrl) {
    this.ledger = ledger;
    this.beforeDone = beforeDone;
    this.webhookUrl = webhookUrl == null ? "" : webhookUrl;
  }

  @Override
  public PCollection<String> expand(PCollection<KV<String, Long>> completed) {
    return completed
        .apply("MarkDoneInLedger", ParDo.of(new FinishFn(ledger, beforeDone, webhookUrl)))
        .setCoder(StringUtf8Coder.of());
  }

  static class FinishFn extends DoFn<KV<String, Long>, String> {
    private final Counter finished = Metrics.counter(FinishFiles.class, "files-finished");
    private final FileLedger ledger;
    private final BeforeDone beforeDone;
    private final String webhookUrl;

    FinishFn(FileLedger ledger, BeforeDone beforeDone, String webhookUrl) {
      this.ledger = ledger;
      this.beforeDone = beforeDone;
      this.webhookUrl = webhookUrl;
    }

    /** The files of the current bundle, finished together when it ends. */
    private transient List<Completed> pending;

    /** Where status events go (the log, the webhook if a URL is set); this instance's own. */
    private transient FileStatusEvents statusEvents;

    /** A completed file with where it came from in the pipeline. */
    private static final class Completed {
      final KV<String, Long> file;
      final Instant timestamp;
      final BoundedWindow window;

      Completed(KV<String, Long> file, Instant timestamp, BoundedWindow window) {
        this.file = file;
        this.timestamp = timestamp;
        this.window = window;
      }
    }

    @Setup
    public void setup() {
      statusEvents = new FileStatusEvents(webhookUrl);
    }

    @Teardown
    public void teardown() {
      if (statusEvents != null) {
        statusEvents.close();
        statusEvents = null;
      }
    }

    @StartBundle
    public void startBundle() {
      pending = new ArrayList<>();
    }

    @ProcessElement
    public void process(
        @Element KV<String, Long> file, @Timestamp Instant timestamp, BoundedWindow window) {
      pending.add(new Completed(file, timestamp, window));
    }

    /**
     * Closes the bundle's files: their Parquet (one file per partition folder for all of them),
     * then one ledger transaction for all of them, which recomputes the aggregate groups they touch
     * once. When files complete faster than they can be closed (a stream of landings), the ones
     * waiting are closed together.
     */
    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws Exception {
      if (pending.isEmpty()) {
        return;
      }
      List<Completed> files = pending;
      pending = new ArrayList<>();
      long start = System.nanoTime();
      List<String> paths = new ArrayList<>(files.size());
      List<Long> items = new ArrayList<>(files.size());
      for (Completed f : files) {
        paths.add(f.file.getKey());
        items.add(f.file.getValue());
      }
      beforeDone.write(paths);
      long exported = System.nanoTime();
      List<String> events = ledger.finishAll(paths, items, true);
      long end = System.nanoTime();
      String together = files.size() == 1 ? "" : ", for " + files.size() + " files together";
      for (int i = 0; i < files.size(); i++) {
        String event = events.get(i);
        finished.inc();
        statusEvents.publish(
            event,
            (end - start) / 1_000_000
                + " ms: Parquet "
                + (exported - start) / 1_000_000
                + " ms, ledger and aggregates "
                + (end - exported) / 1_000_000
                + " ms"
                + together);
        context.output(event, files.get(i).timestamp, files.get(i).window);
      }
    }
  }
}
