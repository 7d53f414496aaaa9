package dev.landfall.io.ledger;

import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;

/**
 * Backfill: writes each file's item count (records plus file-level dead letters, as the reader
 * reports it) into the {@link FileLedger}; once the job has ended, {@link
 * FileLedger#finishRecorded} closes the files from these counts and the stored rows.
 *
 * <p>A backfill closes its files this way instead of with {@code TrackFileCompletion}: that
 * joins the reader's counts with counts taken after the sinks, and Flink's batch execution cannot
 * pipeline a graph that branches and joins again. It writes the whole stream of records, and
 * later of unique rows, to disk first (about 21 GB for 100M rows on this machine before any
 * row was validated).
 */
public class RecordFileItems extends PTransform<PCollection<KV<String, Long>>, PDone> {
  private final FileLedger ledger;

  public RecordFileItems(FileLedger ledger) {
    this.ledger = ledger;
  }

  @Override
  public PDone expand(PCollection<KV<String, Long>> items) {
    items.apply("RecordInLedger", ParDo.of(new RecordFn(ledger)));
    return PDone.in(items.getPipeline());
  }

  static class RecordFn extends DoFn<KV<String, Long>, Void> {
    private final FileLedger ledger;

    RecordFn(FileLedger ledger) {
      this.ledger = ledger;
    }

    @ProcessElement
    public void process(@Element KV<String, Long> file) throws Exception {
      ledger.recordItems(file.getKey(), file.getValue());
    }
  }
}
