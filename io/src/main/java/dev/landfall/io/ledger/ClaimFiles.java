package dev.landfall.io.ledger;

import java.time.Instant;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes on only the files the {@link FileLedger} says to read: new ones, ones an earlier run
 * left unfinished, and (with {@code reingestChanged}) ones changed since they were ingested. A
 * file ingested before and unchanged is skipped, so a restarted or repeated run never reads a
 * completed file again. Counts {@code files-claimed}, {@code files-already-done}, {@code
 * files-changed}.
 */
public class ClaimFiles
    extends PTransform<PCollection<MatchResult.Metadata>, PCollection<MatchResult.Metadata>> {
  private final FileLedger ledger;
  private final boolean reingestChanged;
  private final boolean reingestOlder;

  public ClaimFiles(FileLedger ledger, boolean reingestChanged) {
    this(ledger, reingestChanged, false);
  }

  private ClaimFiles(FileLedger ledger, boolean reingestChanged, boolean reingestOlder) {
    this.ledger = ledger;
    this.reingestChanged = reingestChanged;
    this.reingestOlder = reingestOlder;
  }

  /** Also reads again the files finished under another version of the dataset definition. */
  public ClaimFiles reingestingOlderDefinitions(boolean older) {
    return new ClaimFiles(ledger, reingestChanged, older);
  }

  @Override
  public PCollection<MatchResult.Metadata> expand(PCollection<MatchResult.Metadata> files) {
    return files
        .apply("ClaimInLedger", ParDo.of(new ClaimFn(ledger, reingestChanged, reingestOlder)))
        .setCoder(files.getCoder());
  }

  static class ClaimFn extends DoFn<MatchResult.Metadata, MatchResult.Metadata> {
    private static final Logger LOG = LoggerFactory.getLogger(ClaimFiles.class);
    private final Counter claimed = Metrics.counter(ClaimFiles.class, "files-claimed");
    private final Counter done = Metrics.counter(ClaimFiles.class, "files-already-done");
    private final Counter changed = Metrics.counter(ClaimFiles.class, "files-changed");
    private final FileLedger ledger;
    private final boolean reingestChanged;
    private final boolean reingestOlder;

    ClaimFn(FileLedger ledger, boolean reingestChanged, boolean reingestOlder) {
      this.ledger = ledger;
      this.reingestChanged = reingestChanged;
      this.reingestOlder = reingestOlder;
    }

    @ProcessElement
    public void process(@Element MatchResult.Metadata file,
        OutputReceiver<MatchResult.Metadata> out) throws Exception {
      String path = file.resourceId().toString();
      Instant modified = file.lastModifiedMillis() > 0
          ? Instant.ofEpochMilli(file.lastModifiedMillis()) : null;
      FileLedger.Claim claim =
          ledger.claim(path, file.sizeBytes(), modified, file.checksum(), reingestChanged,
              reingestOlder);
      switch (claim) {
        case INGEST:
        case REINGEST:
          claimed.inc();
          LOG.info("{}: {}", claim == FileLedger.Claim.INGEST ? "ingesting" : "re-ingesting",
              path);
          out.output(file);
          break;
        case ALREADY_DONE:
          done.inc();
          LOG.debug("already ingested, skipped: {}", path);
          break;
        case CHANGED:
          changed.inc();
          LOG.warn("changed since it was ingested, not re-read (use --reingestChanged): {}", path);
          break;
        default:
          throw new IllegalStateException(claim.toString());
      }
    }
  }
}
