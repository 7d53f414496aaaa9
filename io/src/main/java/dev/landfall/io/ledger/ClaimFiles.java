package dev.landfall.io.ledger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Passes on only the files the {@link FileLedger} says to read: new ones, ones an earlier run left
 * unfinished, and (with {@code reingestChanged}) ones changed since they were ingested. A file
 * ingested before and unchanged is skipped, so a restarted or repeated run never reads a completed
 * file again. The files of a bundle are claimed together, up to {@value ClaimFn#BATCH} per
 * transaction ({@link FileLedger#claimAll}). Counts {@code files-claimed}, {@code
 * files-already-done}, {@code files-changed}.
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

  /** The ledger's facts of a listed file. */
  static FileLedger.FileFacts factsOf(MatchResult.Metadata file) {
    Instant modified =
        file.lastModifiedMillis() > 0 ? Instant.ofEpochMilli(file.lastModifiedMillis()) : null;
    return new FileLedger.FileFacts(
        file.resourceId().toString(), file.sizeBytes(), modified, file.checksum());
  }

  static class ClaimFn extends DoFn<MatchResult.Metadata, MatchResult.Metadata> {
    private static final Logger LOG = LoggerFactory.getLogger(ClaimFiles.class);

    /** Files claimed per transaction, at most. */
    static final int BATCH = 1000;

    /** Up to this many claimed files in a batch are logged by name, one line each. */
    private static final int LOG_EACH_UP_TO = 10;

    private final Counter claimed = Metrics.counter(ClaimFiles.class, "files-claimed");
    private final Counter done = Metrics.counter(ClaimFiles.class, "files-already-done");
    private final Counter changed = Metrics.counter(ClaimFiles.class, "files-changed");
    private final FileLedger ledger;
    private final boolean reingestChanged;
    private final boolean reingestOlder;

    /** A file waiting for its bundle's claim, with where it goes on. */
    private record Pending(
        MatchResult.Metadata file, org.joda.time.Instant timestamp, BoundedWindow window) {}

    private transient List<Pending> pending;

    ClaimFn(FileLedger ledger, boolean reingestChanged, boolean reingestOlder) {
      this.ledger = ledger;
      this.reingestChanged = reingestChanged;
      this.reingestOlder = reingestOlder;
    }

    @StartBundle
    public void startBundle() {
      pending = new ArrayList<>();
    }

    @ProcessElement
    public void process(
        @Element MatchResult.Metadata file,
        @Timestamp org.joda.time.Instant at,
        BoundedWindow window) {
      pending.add(new Pending(file, at, window));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) throws Exception {
      for (int from = 0; from < pending.size(); from += BATCH) {
        claim(pending.subList(from, Math.min(pending.size(), from + BATCH)), out);
      }
      pending.clear();
    }

    private void claim(List<Pending> batch, FinishBundleContext out) throws Exception {
      List<FileLedger.FileFacts> facts = new ArrayList<>(batch.size());
      for (Pending p : batch) {
        facts.add(factsOf(p.file()));
      }
      List<FileLedger.Claim> claims = ledger.claimAll(facts, reingestChanged, reingestOlder);
      List<String> taken = new ArrayList<>();
      for (int i = 0; i < batch.size(); i++) {
        Pending p = batch.get(i);
        String path = facts.get(i).path();
        FileLedger.Claim claim = claims.get(i);
        switch (claim) {
          case INGEST:
          case REINGEST:
            claimed.inc();
            taken.add((claim == FileLedger.Claim.INGEST ? "ingesting: " : "re-ingesting: ") + path);
            out.output(p.file(), p.timestamp(), p.window());
            break;
          case ALREADY_DONE:
            done.inc();
            LOG.debug("already ingested, skipped: {}", path);
            break;
          case CHANGED:
            changed.inc();
            LOG.warn(
                "changed since it was ingested, not re-read (use --reingestChanged): {}", path);
            break;
          default:
            throw new IllegalStateException(claim.toString());
        }
      }
      if (taken.size() <= LOG_EACH_UP_TO) {
        for (String t : taken) {
          LOG.info(t);
        }
      } else {
        LOG.info(
            "claimed {} files to read: {}, ..., {}",
            taken.size(),
            taken.get(0),
            taken.get(taken.size() - 1));
      }
    }
  }
}
