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
 * <p>A backfill closes its files this way instead of with {@code TrackFileCompletion}: that joins
 * the reader's counts with counts taken after the sinks, and Flink's batch execution cannot
 * pipeline a graph that branches and joins again. It writes the whole stream of records, and later
 * of unique rows, to disk first (about 21 GB for 100M rows on this machine before any row was
 * validated).
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

  /** Records the counts of a bundle's files together, up to {@value #BATCH} per transaction. */
  static class RecordFn extends DoFn<KV<String, Long>, Void> {
    static final int BATCH = 1000;
    private final FileLedger ledger;
    private transient java.util.Map<String, Long> pending;

    RecordFn(FileLedger ledger) {
      this.ledger = ledger;
    }

    @StartBundle
    public void startBundle() {
      pending = new java.util.LinkedHashMap<>();
    }

    @ProcessElement
    public void process(@Element KV<String, Long> file) throws Exception {
      pending.put(file.getKey(), file.getValue());
      if (pending.size() >= BATCH) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle() throws Exception {
      flush();
    }

    private void flush() throws Exception {
      if (!pending.isEmpty()) {
        ledger.recordItems(pending);
        pending.clear();
      }
    }
  }
}
