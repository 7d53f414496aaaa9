package dev.landfall.io.ledger;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ledger: files closed together (one transaction, the same counts and aggregates as one by
 * one), and the states of one file (processing, done, failed, changed) with what moves it.
 */
class FileLedgerTest extends PostgresTestBase {
  private static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");

  @Test
  void filesFinishedTogetherGetTheCountsAndAggregatesOfFilesFinishedOneByOne() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    List<String> together =
        List.of(
            "/in/date=2024-01-01/a.csv", "/in/date=2024-01-01/b.csv", "/in/date=2024-01-02/c.csv");
    List<String> oneByOne =
        List.of(
            "/in/date=2024-01-01/a.csv", "/in/date=2024-01-01/b.csv", "/in/date=2024-01-02/c.csv");
    String[] schemas = {"together", "one_by_one"};
    List<List<String>> results = new ArrayList<>();
    for (String schema : schemas) {
      PostgresTables.createAll(db, DatasetTables.of(DEF, schema), FileLedger::createTables);
      FileLedger ledger = new FileLedger(db, DatasetTables.of(DEF, schema));
      List<String> files = schema.equals("together") ? together : oneByOne;
      List<Long> items = new ArrayList<>();
      for (int f = 0; f < files.size(); f++) {
        ledger.claim(files.get(f), 100, Instant.parse("2024-01-03T00:00:00Z"), null, false);
        // File f stores 10 + f rows (one more item each, counted as a duplicate).
        insertRows(db, schema, files.get(f), 10 + f);
        items.add(11L + f);
      }
      if (schema.equals("together")) {
        List<String> events = ledger.finishAll(files, items, true);
        assertThat(events, hasSize(3));
        for (int f = 0; f < files.size(); f++) {
          assertThat(
              "events in the order of the files", events.get(f), containsString(files.get(f)));
        }
      } else {
        for (int f = 0; f < files.size(); f++) {
          ledger.finish(files.get(f), items.get(f), true);
        }
      }
      results.add(
          query(
              db,
              "SELECT string_agg(path || ' ' || status || ' ' || rows_read || ' '"
                  + " || rows_valid || ' ' || rows_duplicate, ', ' ORDER BY path) FROM "
                  + schema
                  + ".landfall_files"));
      results.add(
          query(
              db,
              "SELECT string_agg(date || ' ' || service || ' ' || currency || ' '"
                  + " || row_count || ' ' || cost_sum || ' ' || cost_p90, ', '"
                  + " ORDER BY date, service, currency) FROM "
                  + schema
                  + ".billing_agg"));
    }
    assertThat(results.get(0).get(0), containsString("/in/date=2024-01-02/c.csv done 13 12 1"));
    assertThat(results.get(1).get(0), containsString("2024-01-02 compute USD 12"));
    assertThat("ledger", results.get(0), equalTo(results.get(2)));
    assertThat("aggregates", results.get(1), equalTo(results.get(3)));
  }

  @Test
  void groupsFewAmongManyAreRefreshedOneByOneWithTheSameResult() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    String schema = "few_groups";
    PostgresTables.createAll(db, DatasetTables.of(DEF, schema), FileLedger::createTables);
    FileLedger ledger = new FileLedger(db, DatasetTables.of(DEF, schema));
    // One group per day: from the fourth day on, a file touches 1 of at least 3 stored groups,
    // and its group is read on its own (FileLedger.GROUPS_PER_TOUCHED_GROUP).
    for (int day = 1; day <= 5; day++) {
      String file = "/in/date=2024-01-0" + day + "/a.csv";
      ledger.claim(file, 100, Instant.parse("2024-01-06T00:00:00Z"), null, false);
      insertRows(db, schema, file, 5 + day);
      ledger.finish(file, 5 + day, true);
    }
    List<String> fileByFile =
        query(
            db,
            "SELECT string_agg(concat_ws(' ', date, service,"
                + " currency, row_count, cost_sum, cost_min, cost_max, cost_avg, cost_p90), ', '"
                + " ORDER BY date) FROM "
                + schema
                + ".billing_agg");
    assertThat(fileByFile.get(0), containsString("2024-01-05 compute USD 10"));
    try (Connection c = db.connect();
        java.sql.Statement s = c.createStatement()) {
      s.execute("TRUNCATE " + schema + ".billing_agg");
      s.execute(
          PostgresTables.refreshAggregatesSql(
              DEF, schema, "SELECT DISTINCT date, service, currency FROM " + schema + ".billing"));
    }
    assertThat(
        query(
            db,
            "SELECT string_agg(concat_ws(' ', date, service, currency, row_count,"
                + " cost_sum, cost_min, cost_max, cost_avg, cost_p90), ', ' ORDER BY date) FROM "
                + schema
                + ".billing_agg"),
        equalTo(fileByFile));
  }

  @Test
  void olderDefinitionsAreReadAgainOnlyWhenAsked() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DatasetTables.of(DEF, "older"), FileLedger::createTables);
    String file = "/in/date=2024-01-01/a.csv";
    Instant modified = Instant.parse("2024-01-03T00:00:00Z");
    FileLedger v1 = new FileLedger(db, DatasetTables.of(DEF, "older"));
    assertThat(v1.claim(file, 100, modified, null, false), equalTo(FileLedger.Claim.INGEST));
    insertRows(db, "older", file, 5);
    v1.finish(file, 5, true);

    String json;
    try (java.io.InputStream in =
        DatasetDefinition.class.getResourceAsStream("/datasets/billing.json")) {
      json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    DatasetDefinition changed =
        DatasetDefinition.fromJson(json.replace("Cloud billing feed", "Changed billing feed"));
    PostgresTables.createAll(db, DatasetTables.of(changed, "older"), FileLedger::createTables);
    FileLedger v2 = new FileLedger(db, DatasetTables.of(changed, "older"));
    assertThat(
        "not asked",
        v2.claim(file, 100, modified, null, false, false),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(
        "the same definition",
        v1.claim(file, 100, modified, null, false, true),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(
        v2.claim(file, 100, modified, null, false, true), equalTo(FileLedger.Claim.REINGEST));
    assertThat(
        "its rows are replaced",
        query(db, "SELECT count(*) FROM older.billing"),
        equalTo(List.of("0")));
    assertThat(
        query(db, "SELECT status || ' ' || definition_hash FROM older.landfall_files"),
        equalTo(List.of("processing " + dev.landfall.io.postgres.SchemaEvolution.hash(changed))));
  }

  // The state machine of one file: processing -> done | failed -> changed -> processing.

  private static final Instant MODIFIED = Instant.parse("2024-01-03T00:00:00Z");
  private static final String FILE = "/in/date=2024-01-01/a.csv";

  private static FileLedger ledger(String schema) throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    PostgresTables.createAll(db, DatasetTables.of(DEF, schema), FileLedger::createTables);
    return new FileLedger(db, DatasetTables.of(DEF, schema));
  }

  private static Database db() {
    return new Database(postgres.jdbcUrl(), "postgres");
  }

  /** The database's clock once it reads later than {@code t} (asked until it does). */
  private static Instant databaseClockAfter(Instant t) throws Exception {
    while (true) {
      Instant now =
          Instant.parse(
              query(
                      db(),
                      "SELECT to_char(clock_timestamp() AT TIME ZONE"
                          + " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
                  .get(0));
      if (now.isAfter(t)) {
        return now;
      }
    }
  }

  /** The file's ledger row: status, size, rows_read, error (null shown as "-"). */
  private static String row(String schema, String path) throws Exception {
    List<String> r =
        query(
            db(),
            "SELECT status || ' ' || size_bytes || ' '"
                + " || coalesce(rows_read::text, '-') || ' ' || coalesce(error, '-') FROM "
                + schema
                + ".landfall_files WHERE path = '"
                + path
                + "'");
    return r.get(0);
  }

  @Test
  void aNewFileIsClaimedForIngestAndStaysProcessingUntilFinished() throws Exception {
    FileLedger ledger = ledger("sm_new");
    assertThat(ledger.claim(FILE, 100, MODIFIED, null, false), equalTo(FileLedger.Claim.INGEST));
    assertThat(row("sm_new", FILE), equalTo("processing 100 - -"));
    assertThat(ledger.count(FileLedger.Status.PROCESSING), equalTo(1L));
    assertThat(ledger.count(FileLedger.Status.DONE), equalTo(0L));
    // Claimed again before it was finished (an earlier run stopped): read it again.
    assertThat(ledger.claim(FILE, 100, MODIFIED, null, false), equalTo(FileLedger.Claim.INGEST));
    assertThat(ledger.count(FileLedger.Status.PROCESSING), equalTo(1L));
  }

  @Test
  void aFinishedFileIsDoneWithItsCountsAndSkippedWhileUnchanged() throws Exception {
    FileLedger ledger = ledger("sm_done");
    ledger.claim(FILE, 100, MODIFIED, null, false);
    insertRows(db(), "sm_done", FILE, 4);
    insertReject("sm_done", FILE, 7, "type");
    // 6 items: 4 stored, 1 rejected row, 1 duplicate.
    String event = ledger.finish(FILE, 6, false);
    assertThat(event, containsString("\"status\":\"done\""));
    assertThat(event, containsString("\"rows_duplicate\":1"));
    assertThat(row("sm_done", FILE), equalTo("done 100 6 -"));
    assertThat(
        query(
            db(),
            "SELECT rows_valid || ' ' || rows_duplicate || ' ' || rows_rejected"
                + " FROM sm_done.landfall_files"),
        equalTo(List.of("4 1 1")));
    assertThat(
        ledger.claim(FILE, 100, MODIFIED, null, false), equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(
        "reingest applies to changed files only",
        ledger.claim(FILE, 100, MODIFIED, null, true),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(ledger.count(FileLedger.Status.DONE), equalTo(1L));
  }

  @Test
  void aFileRejectedAsAWholeIsFailedAndStaysSoWhileUnchanged() throws Exception {
    FileLedger ledger = ledger("sm_failed");
    ledger.claim(FILE, 100, MODIFIED, null, false);
    insertReject("sm_failed", FILE, 0, "header");
    String event = ledger.finish(FILE, 1, false);
    assertThat(event, containsString("\"status\":\"failed\""));
    assertThat(row("sm_failed", FILE), equalTo("failed 100 0 header: bad"));
    assertThat(
        "a failed file with counts is not read again while unchanged",
        ledger.claim(FILE, 100, MODIFIED, null, false),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(ledger.count(FileLedger.Status.FAILED), equalTo(1L));
  }

  @Test
  void aChangedFileIsReadAgainOnlyWithReingestChanged() throws Exception {
    FileLedger ledger = ledger("sm_changed");
    ledger.claim(FILE, 100, MODIFIED, null, false);
    insertRows(db(), "sm_changed", FILE, 3);
    ledger.finish(FILE, 3, false);

    // Another size: changed; the ledger keeps what was ingested.
    assertThat(ledger.claim(FILE, 120, MODIFIED, null, false), equalTo(FileLedger.Claim.CHANGED));
    assertThat(row("sm_changed", FILE), equalTo("changed 100 3 -"));
    assertThat(
        "still changed",
        ledger.claim(FILE, 120, MODIFIED, null, false),
        equalTo(FileLedger.Claim.CHANGED));
    // Another modification time at the same size: changed too.
    assertThat(
        ledger.claim(FILE, 100, MODIFIED.plusSeconds(1), null, false),
        equalTo(FileLedger.Claim.CHANGED));

    assertThat(ledger.claim(FILE, 120, MODIFIED, null, true), equalTo(FileLedger.Claim.REINGEST));
    assertThat(row("sm_changed", FILE), equalTo("processing 120 - -"));
    assertThat(
        "its old rows are removed",
        query(db(), "SELECT count(*) FROM sm_changed.billing"),
        equalTo(List.of("0")));
    insertRows(db(), "sm_changed", FILE, 5);
    ledger.finish(FILE, 5, false);
    assertThat(row("sm_changed", FILE), equalTo("done 120 5 -"));
    assertThat(
        ledger.claim(FILE, 120, MODIFIED, null, false), equalTo(FileLedger.Claim.ALREADY_DONE));
  }

  @Test
  void anEtagDecidesOverTheModificationTimeWhereBothHaveOne() throws Exception {
    FileLedger ledger = ledger("sm_etag");
    ledger.claim(FILE, 100, MODIFIED, "etag-1", false);
    ledger.finish(FILE, 0, false);
    assertThat(
        "same ETag, touched",
        ledger.claim(FILE, 100, MODIFIED.plusSeconds(60), "etag-1", false),
        equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(
        "another ETag",
        ledger.claim(FILE, 100, MODIFIED, "etag-2", false),
        equalTo(FileLedger.Claim.CHANGED));
  }

  @Test
  void anEntryWithoutAModificationTimeIsUnchangedAtTheSameSizeAndGetsItsTimeFilledIn()
      throws Exception {
    FileLedger ledger = ledger("sm_legacy");
    // As a backfill of an earlier build recorded it: no modification time, no ETag.
    ledger.claim(FILE, 100, null, null, false);
    ledger.finish(FILE, 0, false);
    assertThat(
        ledger.claim(FILE, 100, MODIFIED, "etag-1", false), equalTo(FileLedger.Claim.ALREADY_DONE));
    assertThat(
        query(
            db(),
            "SELECT modified_at = '"
                + MODIFIED
                + "' AND etag = 'etag-1'"
                + " AND status = 'done' FROM sm_legacy.landfall_files"),
        equalTo(List.of("t")));
    assertThat(
        "once filled in, a new time is a change",
        ledger.claim(FILE, 100, MODIFIED.plusSeconds(1), null, false),
        equalTo(FileLedger.Claim.CHANGED));
    assertThat(
        "another size is a change whatever the ledger lacks",
        ledger("sm_legacy2").claim(FILE, 100, null, null, false),
        equalTo(FileLedger.Claim.INGEST));
    FileLedger legacy2 = ledger("sm_legacy2");
    legacy2.finish(FILE, 0, false);
    assertThat(legacy2.claim(FILE, 101, MODIFIED, null, false), equalTo(FileLedger.Claim.CHANGED));
  }

  @Test
  void filesClaimedTogetherGetTheDecisionsOfFilesClaimedOneByOne() throws Exception {
    String newFile = "/in/date=2024-01-01/new.csv";
    String done = "/in/date=2024-01-01/done.csv";
    String unfinished = "/in/date=2024-01-02/unfinished.csv";
    String changed = "/in/date=2024-01-02/changed.csv";
    String reingested = "/in/date=2024-01-03/reingested.csv";
    List<String> results = new ArrayList<>();
    for (String schema : List.of("claim_together", "claim_one_by_one")) {
      FileLedger ledger = ledger(schema);
      for (String f : List.of(done, unfinished, changed, reingested)) {
        ledger.claim(f, 100, MODIFIED, null, false);
      }
      insertRows(db(), schema, reingested, 3);
      for (String f : List.of(done, changed, reingested)) {
        ledger.finish(f, f.equals(reingested) ? 3 : 0, false);
      }
      List<FileLedger.FileFacts> facts =
          List.of(
              new FileLedger.FileFacts(newFile, 10, MODIFIED, null),
              new FileLedger.FileFacts(done, 100, MODIFIED, null),
              new FileLedger.FileFacts(unfinished, 100, MODIFIED, null),
              new FileLedger.FileFacts(changed, 200, MODIFIED, null),
              new FileLedger.FileFacts(reingested, 300, MODIFIED, null));
      List<FileLedger.Claim> claims;
      if (schema.equals("claim_together")) {
        // Only the re-ingested file changes with --reingestChanged: claim it on its own first.
        claims = new ArrayList<>(ledger.claimAll(facts.subList(0, 4), false, false));
        claims.addAll(ledger.claimAll(facts.subList(4, 5), true, false));
      } else {
        claims = new ArrayList<>();
        for (FileLedger.FileFacts f : facts) {
          claims.add(
              ledger.claim(
                  f.path(), f.size(), f.modified(), f.etag(), f.path().equals(reingested)));
        }
      }
      assertThat(
          claims,
          equalTo(
              List.of(
                  FileLedger.Claim.INGEST,
                  FileLedger.Claim.ALREADY_DONE,
                  FileLedger.Claim.INGEST,
                  FileLedger.Claim.CHANGED,
                  FileLedger.Claim.REINGEST)));
      results.add(
          query(
                  db(),
                  "SELECT string_agg(path || ' ' || status || ' ' || size_bytes"
                      + " || ' ' || coalesce(rows_read::text, '-'), ', ' ORDER BY path) FROM "
                      + schema
                      + ".landfall_files")
              .get(0));
      results.add(query(db(), "SELECT count(*) FROM " + schema + ".billing").get(0));
    }
    assertThat(results.get(1), equalTo("0"));
    assertThat(results.subList(0, 2), equalTo(results.subList(2, 4)));
  }

  @Test
  void failUnfinishedFailsTheFilesOfThisRunWhichAreThenReadAgain() throws Exception {
    FileLedger ledger = ledger("sm_unfinished");
    String earlier = "/in/date=2024-01-01/earlier.csv";
    ledger.claim(earlier, 10, MODIFIED, null, false);
    // The run starts on the database's clock after the earlier claim, and claims after that.
    Instant runStart =
        databaseClockAfter(
            Instant.parse(
                query(
                        db(),
                        "SELECT to_char(started_at"
                            + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM sm_unfinished"
                            + ".landfall_files WHERE path = '"
                            + earlier
                            + "'")
                    .get(0)));
    databaseClockAfter(runStart);
    ledger.claim(FILE, 100, MODIFIED, null, false);
    String done = "/in/date=2024-01-02/done.csv";
    ledger.claim(done, 50, MODIFIED, null, false);
    ledger.finish(done, 0, false);

    ledger.failUnfinished(runStart, "job cancelled");
    assertThat(row("sm_unfinished", FILE), equalTo("failed 100 - job cancelled"));
    assertThat(
        "claimed before the run started",
        row("sm_unfinished", earlier),
        equalTo("processing 10 - -"));
    assertThat("finished", row("sm_unfinished", done), equalTo("done 50 0 -"));
    assertThat(
        "failed without counts: read again",
        ledger.claim(FILE, 100, MODIFIED, null, false),
        equalTo(FileLedger.Claim.INGEST));
    assertThat(row("sm_unfinished", FILE), equalTo("processing 100 - -"));
  }

  @Test
  void recordedItemsFinishTheFilesAfterTheJob() throws Exception {
    FileLedger ledger = ledger("sm_recorded");
    Instant since = Instant.now().minusSeconds(60);
    assertThat("nothing claimed", ledger.quietFor(since), equalTo(null));
    String other = "/in/date=2024-01-02/b.csv";
    ledger.claim(FILE, 100, MODIFIED, null, false);
    ledger.claim(other, 100, MODIFIED, null, false);
    assertThat("files in flight", ledger.quietFor(since), equalTo(java.time.Duration.ZERO));
    insertRows(db(), "sm_recorded", FILE, 2);
    ledger.recordItems(FILE, 2);
    List<String> events = ledger.finishRecorded(since);
    assertThat(events, hasSize(1));
    assertThat(events.get(0), containsString(FILE));
    assertThat(row("sm_recorded", FILE), equalTo("done 100 2 -"));
    assertThat(
        "no items recorded: left processing",
        row("sm_recorded", other),
        equalTo("processing 100 - -"));
    ledger.finish(other, 0, false);
    assertThat(ledger.quietFor(since).isNegative(), equalTo(false));
  }

  @Test
  void filesClosedTogetherAfterTheJobEachGetTheirOwnCounts() throws Exception {
    FileLedger ledger = ledger("sm_batch");
    Instant since = Instant.now().minusSeconds(60);
    String rows = "/in/date=2024-01-01/rows.csv";
    String mixed = "/in/date=2024-01-01/mixed.csv";
    String empty = "/in/date=2024-01-02/empty.csv";
    String header = "/in/date=2024-01-02/header.csv";
    for (String f : List.of(rows, mixed, empty, header)) {
      ledger.claim(f, 100, MODIFIED, null, false);
    }
    insertRows(db(), "sm_batch", rows, 3);
    ledger.recordItems(rows, 3);
    // 7 items: 4 stored, 2 rejected rows, 1 duplicate.
    insertRows(db(), "sm_batch", mixed, 4);
    insertReject("sm_batch", mixed, 5, "type");
    insertReject("sm_batch", mixed, 6, "required");
    ledger.recordItems(mixed, 7);
    ledger.recordItems(empty, 0);
    insertReject("sm_batch", header, 0, "header");
    ledger.recordItems(header, 1);

    List<String> events = ledger.finishRecorded(since);
    assertThat(
        "events in path order",
        events.stream().map(e -> e.replaceAll(".*\"path\":\"([^\"]*)\".*", "$1")).toList(),
        equalTo(List.of(mixed, rows, empty, header)));
    assertThat(
        query(
            db(),
            "SELECT string_agg(path || ' ' || status || ' ' || rows_read || ' '"
                + " || rows_valid || ' ' || rows_duplicate || ' ' || rows_rejected || ' '"
                + " || coalesce(error, '-'), ', ' ORDER BY path) FROM sm_batch.landfall_files"),
        equalTo(
            List.of(
                mixed
                    + " done 7 4 1 2 -, "
                    + rows
                    + " done 3 3 0 0 -, "
                    + empty
                    + " done 0 0 0 0 -, "
                    + header
                    + " failed 0 0 0 0 header: bad")));
  }

  @Test
  void everyChangeIsNotifiedOnTheStatusChannel() throws Exception {
    FileLedger ledger = ledger("sm_notify");
    try (Connection listener = db().connect()) {
      try (java.sql.Statement s = listener.createStatement()) {
        s.execute("LISTEN " + FileLedger.CHANNEL);
      }
      ledger.claim(FILE, 100, MODIFIED, null, false);
      ledger.finish(FILE, 0, false);
      ledger.claim(FILE, 101, MODIFIED, null, false);
      ledger.claim(FILE, 101, MODIFIED, null, false); // still changed: no second event
      List<String> statuses = new ArrayList<>();
      org.postgresql.PGConnection pg = listener.unwrap(org.postgresql.PGConnection.class);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (statuses.size() < 3 && System.nanoTime() < deadline) {
        org.postgresql.PGNotification[] got = pg.getNotifications(500);
        if (got != null) {
          for (org.postgresql.PGNotification n : got) {
            com.fasterxml.jackson.databind.JsonNode e =
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(n.getParameter());
            assertThat(e.get("path").asText(), equalTo(FILE));
            statuses.add(e.get("status").asText());
          }
        }
      }
      assertThat(statuses, equalTo(List.of("discovered", "done", "changed")));
      org.postgresql.PGNotification[] more = pg.getNotifications(200);
      assertThat("nothing more", more == null ? 0 : more.length, equalTo(0));
    }
  }

  private static void insertReject(String schema, String file, long line, String reason)
      throws Exception {
    try (Connection c = db().connect();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO "
                    + schema
                    + ".billing_rejects (source_file, line_number, reason, message) VALUES"
                    + " (?, ?, ?, 'bad')")) {
      s.setString(1, file);
      s.setLong(2, line);
      s.setString(3, reason);
      s.executeUpdate();
    }
  }

  private static void insertRows(Database db, String schema, String file, int n) throws Exception {
    String date = file.substring(file.indexOf("date=") + 5, file.indexOf("date=") + 15);
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO "
                    + schema
                    + ".billing (date, event_id, event_time, account_id, service, cost, currency,"
                    + " source_file, source_line) VALUES (?::date, ?, now(), 'acct', 'compute', ?, 'USD',"
                    + " ?, ?)")) {
      for (int i = 0; i < n; i++) {
        s.setString(1, date);
        s.setString(2, file + "#" + i);
        s.setBigDecimal(3, new java.math.BigDecimal(i + ".5000"));
        s.setString(4, file);
        s.setLong(5, i + 2);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private static List<String> query(Database db, String sql) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement(sql);
        ResultSet r = s.executeQuery()) {
      r.next();
      return List.of(String.valueOf(r.getString(1)));
    }
  }
}
