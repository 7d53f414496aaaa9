package dev.landfall.io.ledger;

import dev.landfall.io.parquet.ExportFileToParquet;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes each completed input file (path and the number of items the reader produced for it):
 * optionally writes its Parquet file from the stored rows and recomputes its aggregate groups
 * (watch mode), then marks it {@code done} or {@code failed} in the {@link FileLedger} with its
 * counts, which also notifies {@code landfall_status}; logs one line per file and posts the same
 * JSON to the webhook if one is set. Emits the status events.
 */
public class FinishFiles extends PTransform<PCollection<KV<String, Long>>, PCollection<String>> {
  private final FileLedger ledger;
  private final ExportFileToParquet parquet;
  private final boolean refreshAggregates;
  private final String webhookUrl;

  /**
   * @param parquet writes the file's Parquet from the database, or null (Parquet written by the
   *     pipeline, as in a backfill)
   * @param refreshAggregates recompute the file's aggregate groups from the rows table
   * @param webhookUrl where status events are POSTed, or empty
   */
  public FinishFiles(FileLedger ledger, ExportFileToParquet parquet, boolean refreshAggregates,
      String webhookUrl) {
    this.ledger = ledger;
    this.parquet = parquet;
    this.refreshAggregates = refreshAggregates;
    this.webhookUrl = webhookUrl == null ? "" : webhookUrl;
  }

  @Override
  public PCollection<String> expand(PCollection<KV<String, Long>> completed) {
    return completed
        .apply("MarkDoneInLedger",
            ParDo.of(new FinishFn(ledger, parquet, refreshAggregates, webhookUrl)))
        .setCoder(StringUtf8Coder.of());
  }

  static class FinishFn extends DoFn<KV<String, Long>, String> {
    private static final Logger LOG = LoggerFactory.getLogger(FinishFiles.class);
    private final Counter finished = Metrics.counter(FinishFiles.class, "files-finished");
    private final FileLedger ledger;
    private final ExportFileToParquet parquet;
    private final boolean refreshAggregates;
    private final String webhookUrl;

    FinishFn(FileLedger ledger, ExportFileToParquet parquet, boolean refreshAggregates,
        String webhookUrl) {
      this.ledger = ledger;
      this.parquet = parquet;
      this.refreshAggregates = refreshAggregates;
      this.webhookUrl = webhookUrl;
    }

    @ProcessElement
    public void process(@Element KV<String, Long> file, OutputReceiver<String> out)
        throws Exception {
      String path = file.getKey();
      long start = System.nanoTime();
      if (parquet != null) {
        parquet.export(path);
      }
      long exported = System.nanoTime();
      String event = ledger.finish(path, file.getValue(), refreshAggregates);
      finished.inc();
      LOG.info("file finished: {} ({} ms: Parquet {} ms, ledger{} {} ms)", event,
          (System.nanoTime() - start) / 1_000_000, (exported - start) / 1_000_000,
          refreshAggregates ? " and aggregates" : "", (System.nanoTime() - exported) / 1_000_000);
      if (!webhookUrl.isEmpty()) {
        StatusWebhook.to(webhookUrl).post(event);
      }
      out.output(event);
    }
  }
}
