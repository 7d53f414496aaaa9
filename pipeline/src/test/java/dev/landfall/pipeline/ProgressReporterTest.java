package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Progress lines while a job runs come from the ledger: files and bytes read of those claimed since
 * the run started, rows, and the rate and time left over the last interval.
 */
class ProgressReporterTest extends PostgresTestBase {
  @Test
  void aBackfillLineShowsFilesBytesRowsRateAndTimeLeft() {
    FileLedger.Progress before =
        new FileLedger.Progress(42, 10, 0, 948_000_000, 230_000_000, 2_400_000);
    FileLedger.Progress now =
        new FileLedger.Progress(42, 14, 0, 948_000_000, 320_000_000, 3_350_000);

    assertThat(
        ProgressReporter.line(null, before, 0, false),
        equalTo("progress: 10 of 42 files read, 2,400,000 rows, 230 MB of 948 MB (24%)"));
    // 950,000 rows and 90 MB in 10 s: 628 MB left at 9 MB/s.
    assertThat(
        ProgressReporter.line(before, now, 10, false),
        equalTo(
            "progress: 14 of 42 files read, 3,350,000 rows, 320 MB of 948 MB (33%),"
                + " 95,000 rows/s, about 1m 10s left"));
  }

  @Test
  void onceEveryFileIsReadTheLineSaysSo() {
    FileLedger.Progress before =
        new FileLedger.Progress(14, 4, 0, 191_000_000, 57_000_000, 571_428);
    FileLedger.Progress now =
        new FileLedger.Progress(14, 14, 0, 191_000_000, 191_000_000, 2_000_000);
    assertThat(
        ProgressReporter.line(before, now, 5, false),
        equalTo(
            "progress: 14 of 14 files read, 2,000,000 rows, 191 MB of 191 MB (100%), all"
                + " read; storing and closing"));
  }

  @Test
  void aWatchLineShowsFilesDoneOfClaimed() {
    FileLedger.Progress before = new FileLedger.Progress(5, 5, 4, 1_000, 1_000, 4_000);
    FileLedger.Progress now = new FileLedger.Progress(6, 6, 6, 1_200, 1_200, 6_000);
    assertThat(
        ProgressReporter.line(before, now, 4, true),
        equalTo("progress: 6 files done of 6 claimed, 6,000 rows, 500 rows/s"));
  }

  @Test
  void theLedgerCountsWhatTheRunClaimedAndRead() throws Exception {
    DatasetDefinition def;
    try (InputStream in = getClass().getResourceAsStream("/datasets/billing.json")) {
      def = DatasetDefinition.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    DatasetTables tables = DatasetTables.of(def, "progress_test");
    PostgresTables.createAll(db, tables, FileLedger::createTables);
    FileLedger ledger = new FileLedger(db, tables);
    Instant start = Instant.now().minusSeconds(1);
    ledger.claimAll(
        List.of(
            new FileLedger.FileFacts("/in/date=2024-01-01/a.csv", 100, start, null),
            new FileLedger.FileFacts("/in/date=2024-01-01/b.csv", 300, start, null),
            new FileLedger.FileFacts("/in/date=2024-01-02/c.csv", 600, start, null)),
        false,
        false);

    ledger.recordItems(Map.of("/in/date=2024-01-01/b.csv", 70L));

    assertThat(
        ledger.progressSince(start), equalTo(new FileLedger.Progress(3, 1, 0, 1_000, 300, 70)));
    assertThat(ledger.progressSince(Instant.now().plusSeconds(60)).files(), equalTo(0L));
  }
}
