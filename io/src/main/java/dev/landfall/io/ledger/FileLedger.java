package dev.landfall.io.ledger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The durable record of which input files were ingested: table {@code landfall_files} in the
 * dataset's schema, one row per (dataset, path) with the file's size and modification time as seen
 * when it was taken, its status and its row counts.
 *
 * <p>Statuses: {@code processing} (claimed by a run, outputs being written), {@code done} (all its
 * rows are in every output), {@code failed} (the file as a whole was rejected; the reason is in
 * {@code error} and in the rejects table), {@code changed} (its size or modification time differs
 * from when it was ingested; re-read only with {@code --reingestChanged}). Every change is pushed
 * as JSON on the PostgreSQL channel {@value #CHANNEL} in the same transaction, so a listener sees
 * it exactly when the ledger shows it.
 */
public final class FileLedger implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final String TABLE = "landfall_files";
  public static final String CHANNEL = "landfall_status";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Files closed per transaction after a backfill. */
  private static final int FINISH_BATCH = 1000;

  /** A file's status, as the ledger's {@code status} column and the status events write it. */
  public enum Status {
    /** Claimed by a run, being read (or left so by a run that stopped). */
    PROCESSING,
    /** Every record stored, counted as a duplicate or rejected. */
    DONE,
    /** Rejected as a whole (with counts), or left unfinished by a failed run (without). */
    FAILED,
    /** Differs from the file that was ingested; not read again without --reingestChanged. */
    CHANGED,
    /** Over the definition's quality rules: none of its rows stored. */
    QUARANTINED;

    /** The status as the column holds it: {@code done}, {@code failed}, ... */
    public String text() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The status a column value names. */
    public static Status of(String text) {
      return valueOf(text.toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** What a claim decided. */
  public enum Claim {
    /** New, or left unfinished by an earlier run: read it. */
    INGEST,
    /** Ingested before and changed since; its old rows were removed: read it again. */
    REINGEST,
    /** Ingested before, unchanged: skip. */
    ALREADY_DONE,
    /** Ingested before and changed since, not re-read without --reingestChanged. */
    CHANGED
  }

  private final Database db;
  private final DatasetDefinition def;
  private final String schema;

  /** The hash of the definition files are read with ({@code SchemaEvolution#hash}). */
  private final String definitionHash;

  /** Whether claims read quarantined files again ({@code --reingest=quarantined}). */
  private final boolean reingestQuarantined;

  /** Whether claims are decided and then rolled back, leaving the ledger as it was. */
  private final boolean readOnly;

  /** The run ({@code landfall_runs}) whose claims these are; -1: none recorded. */
  private final long runId;

  /** The ledger of the files read into {@code tables}. */
  public FileLedger(Database db, DatasetTables tables) {
    this(db, tables, false, false, -1);
  }

  private FileLedger(
      Database db,
      DatasetTables tables,
      boolean reingestQuarantined,
      boolean readOnly,
      long runId) {
    this.db = db;
    this.def = tables.definition();
    this.definitionHash = dev.landfall.io.postgres.SchemaEvolution.hash(def);
    this.schema = tables.schema();
    this.reingestQuarantined = reingestQuarantined;
    this.readOnly = readOnly;
    this.runId = runId;
  }

  /**
   * This ledger, claiming files for run {@code runId} of {@code landfall_runs}: each file it reads
   * names that run in {@code run_id} (negative: none).
   */
  public FileLedger forRun(long runId) {
    return new FileLedger(db, DatasetTables.of(def, schema), reingestQuarantined, readOnly, runId);
  }

  /**
   * This ledger, with claims that read a quarantined file again while it is unchanged (its dead
   * letters replaced), after the definition or the file was fixed: {@code --reingest=quarantined}.
   * A changed quarantined file follows the {@code changed} rule.
   */
  public FileLedger reingestingQuarantined(boolean yes) {
    return new FileLedger(db, DatasetTables.of(def, schema), yes, readOnly, runId);
  }

  /**
   * This ledger for a dry run: {@link #claimAll} decides as it would, inside a transaction that is
   * rolled back, so nothing is recorded, no row or reject removed and no event sent.
   */
  public FileLedger readOnly() {
    return new FileLedger(db, DatasetTables.of(def, schema), reingestQuarantined, true, runId);
  }

  /** Whether the ledger's table exists in the schema (a database no run has used has none). */
  public boolean exists() throws SQLException {
    try (Connection c = db.connect()) {
      return Database.tablesExist(c, table());
    }
  }

  private String table() {
    return Identifiers.quote(schema) + "." + Identifiers.quote(TABLE);
  }

  private String rowsTable() {
    return Identifiers.quote(schema) + "." + Identifiers.quote(def.name);
  }

  private String rejectsTable() {
    return Identifiers.quote(schema) + "." + Identifiers.quote(def.name + "_rejects");
  }

  /** CREATE TABLE IF NOT EXISTS for the ledger, with comments. */
  public static List<String> createStatements(String schema) {
    String t =
        Identifiers.quote(Identifiers.check("--dbSchema", schema)) + "." + Identifiers.quote(TABLE);
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + t
            + " ("
            + "dataset text NOT NULL, path text NOT NULL, size_bytes bigint NOT NULL,"
            + " modified_at timestamptz, etag text, status text NOT NULL,"
            + " rows_read bigint, rows_valid bigint, rows_duplicate bigint, rows_rejected bigint,"
            + " first_seen timestamptz NOT NULL DEFAULT now(),"
            + " last_seen timestamptz NOT NULL DEFAULT now(),"
            + " started_at timestamptz, finished_at timestamptz, error text,"
            + " PRIMARY KEY (dataset, path))",
        "ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS etag text",
        "ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS items_read bigint",
        "ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS definition_hash text",
        "ALTER TABLE " + t + " ADD COLUMN IF NOT EXISTS run_id bigint",
        "COMMENT ON COLUMN "
            + t
            + ".run_id IS 'The run (landfall_runs.run_id) that last read"
            + " this file; empty for files read before runs were recorded.'",
        "COMMENT ON COLUMN "
            + t
            + ".definition_hash IS 'Hash of the dataset definition the file"
            + " was last read with (see landfall_schema_changes); --reingest=olderDefinitions"
            + " reads the files of other definitions again.'",
        "COMMENT ON COLUMN "
            + t
            + ".items_read IS 'While a backfill runs: the records and"
            + " file-level dead letters the reader produced from this file; the file is finished"
            + " from them when the job has ended.'",
        "COMMENT ON TABLE "
            + t
            + " IS 'Input files landfall has seen: what was ingested, when,"
            + " with which counts (rows_read = rows_valid + rows_duplicate + rows_rejected).'",
        "COMMENT ON COLUMN "
            + t
            + ".status IS 'processing, done, failed (whole file rejected,"
            + " see error), changed (differs from what was ingested) or quarantined (over the"
            + " definition''s quality rules, see error: none of its rows stored)'",
        "COMMENT ON COLUMN "
            + t
            + ".rows_valid IS 'Rows of this file stored in the rows table"
            + " (a key already stored from another file counts as a duplicate).'");
  }

  /**
   * Creates the ledger table if it is missing (idempotent), on {@code c}: inside the transaction of
   * {@link PostgresTables#createAll(Database, DatasetTables, PostgresTables.MoreTables)}, to which
   * callers pass {@code FileLedger::createTables}. The ledger owns its table; {@code postgres}
   * knows nothing of it.
   */
  public static void createTables(Connection c, String schema) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String sql : createStatements(schema)) {
        s.execute(sql);
      }
    }
  }

  /** The facts of a file as listed: what the ledger compares to tell whether it changed. */
  public record FileFacts(String path, long size, Instant modified, String etag)
      implements Serializable {}

  /**
   * Decides whether a file is read, in one transaction, recording the decision. {@code reingest}: a
   * changed file's rows and rejects are deleted and it is read again.
   */
  public Claim claim(String path, long size, Instant modified, String etag, boolean reingest)
      throws SQLException, java.io.IOException {
    return claim(path, size, modified, etag, reingest, false);
  }

  /**
   * As {@link #claim(String, long, Instant, String, boolean)}; with {@code reingestOlder}, a file
   * finished under another definition (or before definitions were recorded) is read again too, its
   * rows and rejects replaced.
   */
  public Claim claim(
      String path,
      long size,
      Instant modified,
      String etag,
      boolean reingest,
      boolean reingestOlder)
      throws SQLException, java.io.IOException {
    return claimAll(List.of(new FileFacts(path, size, modified, etag)), reingest, reingestOlder)
        .get(0);
  }

  /**
   * Decides for each of {@code files} whether it is read, all in one transaction, and records the
   * decisions: one read of the ledger and at most one statement per kind of decision, however many
   * files (a claim per transaction cost about 5 ms per file). Returns the decisions in the order of
   * {@code files}; a path listed twice gets the decision of its last facts twice.
   */
  public List<Claim> claimAll(List<FileFacts> files, boolean reingest, boolean reingestOlder)
      throws SQLException, java.io.IOException {
    String what = files.size() == 1 ? files.get(0).path() : files.size() + " files";
    return db.retrying(
        "claiming " + what + " in the ledger",
        c -> {
          c.setAutoCommit(false);
          try {
            List<Claim> claims = claimAll(c, files, reingest, reingestOlder);
            if (readOnly) {
              c.rollback();
            } else {
              c.commit();
            }
            return claims;
          } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
          }
        });
  }

  /**
   * True when a file listed with {@code now}'s facts is the one the ledger recorded as {@code was}:
   * the same size and, where both sides have one, the same ETag (S3), else the same modification
   * time. A fact the ledger lacks (a row written before backfills recorded modification times) does
   * not make a file changed; {@link #claimAll} fills it in.
   */
  static boolean sameFile(Entry was, FileFacts now) {
    if (was.size != now.size()) {
      return false;
    }
    if (was.etag != null && now.etag() != null) {
      return was.etag.equals(now.etag());
    }
    if (was.mtime != null && now.modified() != null) {
      return was.mtime.toInstant().equals(now.modified());
    }
    return true;
  }

  private List<Claim> claimAll(
      Connection c, List<FileFacts> files, boolean reingest, boolean reingestOlder)
      throws SQLException {
    Map<String, FileFacts> byPath = new java.util.LinkedHashMap<>();
    for (FileFacts f : files) {
      byPath.put(f.path(), f);
    }
    Map<String, Entry> entries = entries(c, byPath.keySet());
    Map<String, Claim> decided = new HashMap<>();
    List<FileFacts> inserted = new java.util.ArrayList<>();
    List<FileFacts> restarted = new java.util.ArrayList<>();
    List<FileFacts> removed = new java.util.ArrayList<>();
    List<FileFacts> seen = new java.util.ArrayList<>();
    List<String> markChanged = new java.util.ArrayList<>();
    for (FileFacts f : byPath.values()) {
      Entry was = entries.get(f.path());
      Claim claim;
      if (was == null) {
        inserted.add(f);
        claim = Claim.INGEST;
      } else {
        Status status = was.status;
        boolean same = sameFile(was, f);
        // 'failed' with counts: the file itself was rejected, and stays so while unchanged.
        // 'failed' without counts: the job failed while reading it; read it again.
        // 'quarantined': finished, over the quality rules; read again on request or if changed.
        boolean finished =
            status == Status.DONE
                || (status == Status.FAILED && was.counted)
                || status == Status.QUARANTINED;
        boolean again = reingestQuarantined && status == Status.QUARANTINED && same;
        boolean older = reingestOlder && finished && same && !definitionHash.equals(was.hash);
        if ((status == Status.PROCESSING || status == Status.FAILED) && same && !finished) {
          // An earlier run stopped before finishing it; every sink is idempotent: read it again.
          restarted.add(f);
          claim = Claim.INGEST;
        } else if (finished && same && !older && !again) {
          seen.add(f);
          claim = Claim.ALREADY_DONE;
        } else if (!older && !again && !reingest && (finished || status == Status.CHANGED)) {
          // Changed since it was ingested (or changed while an earlier run was reading it).
          if (status != Status.CHANGED) {
            markChanged.add(f.path());
          }
          claim = Claim.CHANGED;
        } else {
          removed.add(f);
          restarted.add(f);
          claim = Claim.REINGEST;
        }
      }
      decided.put(f.path(), claim);
    }
    if (!removed.isEmpty()) {
      removeRowsOf(c, removed.stream().map(FileFacts::path).toList());
    }
    insertProcessing(c, inserted);
    restart(c, restarted);
    markSeen(c, seen);
    if (!markChanged.isEmpty()) {
      try (PreparedStatement s =
          c.prepareStatement(
              "UPDATE "
                  + table()
                  + " SET status ="
                  + " 'changed', last_seen = now() WHERE dataset = ? AND path = ANY (?)")) {
        s.setString(1, def.name);
        s.setArray(2, c.createArrayOf("text", markChanged.toArray()));
        s.executeUpdate();
      }
    }
    List<ObjectNode> events = new java.util.ArrayList<>();
    for (FileFacts f : byPath.values()) {
      Claim claim = decided.get(f.path());
      if (claim == Claim.INGEST || claim == Claim.REINGEST) {
        events.add(event(f.path(), "discovered", null));
      }
    }
    for (String path : markChanged) {
      events.add(
          event(
              path,
              Status.CHANGED.text(),
              "size or modification time differs from the"
                  + " ingested file; run with --reingestChanged to replace its rows"));
    }
    notifyEach(c, events);
    List<Claim> claims = new java.util.ArrayList<>(files.size());
    for (FileFacts f : files) {
      claims.add(decided.get(f.path()));
    }
    return claims;
  }

  /** What the ledger holds about one file, read by {@link #entries}. */
  static final class Entry {
    Status status;
    long size;
    Timestamp mtime;
    String etag;
    String hash;

    /** Whether the file's row counts are recorded (it was finished). */
    boolean counted;
  }

  /** The ledger's entries of {@code paths}, locked for this transaction; absent: none. */
  private Map<String, Entry> entries(Connection c, java.util.Collection<String> paths)
      throws SQLException {
    Map<String, Entry> entries = new HashMap<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT path, status, size_bytes, modified_at,"
                + " etag, definition_hash, rows_read IS NOT NULL FROM "
                + table()
                + " WHERE dataset = ? AND path = ANY (?) FOR UPDATE")) {
      s.setString(1, def.name);
      s.setArray(2, c.createArrayOf("text", paths.toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          Entry e = new Entry();
          e.status = Status.of(r.getString(2));
          e.size = r.getLong(3);
          e.mtime = r.getTimestamp(4);
          e.etag = r.getString(5);
          e.hash = r.getString(6);
          e.counted = r.getBoolean(7);
          entries.put(r.getString(1), e);
        }
      }
    }
    return entries;
  }

  /** The facts of {@code files} as arrays bound to {@code s} from parameter {@code at} on. */
  private static int bindFacts(Connection c, PreparedStatement s, int at, List<FileFacts> files)
      throws SQLException {
    s.setArray(at++, c.createArrayOf("text", files.stream().map(FileFacts::path).toArray()));
    s.setArray(at++, c.createArrayOf("bigint", files.stream().map(FileFacts::size).toArray()));
    s.setArray(
        at++,
        c.createArrayOf(
            "timestamptz",
            files.stream()
                .map(f -> f.modified() == null ? null : Timestamp.from(f.modified()))
                .toArray()));
    s.setArray(at++, c.createArrayOf("text", files.stream().map(FileFacts::etag).toArray()));
    return at;
  }

  /** The facts of files as a table {@code u(p, s, m, e)}, bound by {@link #bindFacts}. */
  private static final String FACTS =
      "unnest(?::text[], ?::bigint[], ?::timestamptz[], ?::text[]) AS u(p, s, m, e)";

  /** Files seen for the first time: 'processing', under this definition. */
  private void insertProcessing(Connection c, List<FileFacts> files) throws SQLException {
    if (files.isEmpty()) {
      return;
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO "
                + table()
                + " (dataset, path, size_bytes, modified_at, etag, status, started_at, definition_hash,"
                + " run_id) SELECT ?, u.p, u.s, u.m, u.e, 'processing', now(), ?, ? FROM "
                + FACTS)) {
      s.setString(1, def.name);
      s.setString(2, definitionHash);
      s.setObject(3, runId < 0 ? null : runId, java.sql.Types.BIGINT);
      bindFacts(c, s, 4, files);
      s.executeUpdate();
    }
  }

  /** Files read again from the start: 'processing' with their new facts, counts cleared. */
  private void restart(Connection c, List<FileFacts> files) throws SQLException {
    if (files.isEmpty()) {
      return;
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "UPDATE "
                + table()
                + " AS t"
                + " SET size_bytes = u.s, modified_at = u.m, etag = u.e, status = 'processing',"
                + " last_seen = now(), started_at = now(), finished_at = NULL, error = NULL,"
                + " rows_read = NULL, rows_valid = NULL, rows_duplicate = NULL, rows_rejected = NULL,"
                + " items_read = NULL, definition_hash = ?, run_id = ? FROM "
                + FACTS
                + " WHERE t.dataset = ? AND t.path = u.p")) {
      s.setString(1, definitionHash);
      s.setObject(2, runId < 0 ? null : runId, java.sql.Types.BIGINT);
      int at = bindFacts(c, s, 3, files);
      s.setString(at, def.name);
      s.executeUpdate();
    }
  }

  /**
   * Finished files seen again, unchanged: their last sighting, and the facts their entry lacks
   * (written by a build whose backfill recorded no modification time, or without an ETag).
   */
  private void markSeen(Connection c, List<FileFacts> files) throws SQLException {
    if (files.isEmpty()) {
      return;
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "UPDATE "
                + table()
                + " AS t"
                + " SET last_seen = now(), modified_at = COALESCE(t.modified_at, u.m),"
                + " etag = COALESCE(t.etag, u.e) FROM "
                + FACTS
                + " WHERE t.dataset = ? AND t.path = u.p")) {
      int at = bindFacts(c, s, 1, files);
      s.setString(at, def.name);
      s.executeUpdate();
    }
  }

  /**
   * Before files are read again: deletes their rows and rejects and recomputes the aggregate groups
   * they were in, in the claiming transaction.
   */
  private void removeRowsOf(Connection c, List<String> paths) throws SQLException {
    boolean regroup = def.aggregates != null;
    if (regroup) {
      collectGroupsOf(c, paths);
    }
    for (String t : List.of(rowsTable(), rejectsTable())) {
      try (PreparedStatement s =
          c.prepareStatement("DELETE FROM " + t + " WHERE source_file = ANY (?)")) {
        s.setArray(1, c.createArrayOf("text", paths.toArray()));
        s.executeUpdate();
      }
    }
    if (regroup) {
      try (Statement s = c.createStatement()) {
        s.execute(PostgresTables.refreshAggregatesSql(def, schema, REGROUP_QUERY));
      }
    }
  }

  /** The temporary table {@link #collectGroupsOf} fills, read by the refresh. */
  private static final String REGROUP_QUERY = "SELECT * FROM landfall_regroup";

  /**
   * Keeps, in a temporary table dropped at commit, the aggregate groups the rows of {@code paths}
   * are in; returns how many there are. The files' rows are read once for them, whatever the
   * refresh then does.
   */
  private long collectGroupsOf(Connection c, List<String> paths) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "CREATE TEMP TABLE landfall_regroup ON COMMIT"
                + " DROP AS SELECT DISTINCT "
                + groupColumns()
                + " FROM "
                + rowsTable()
                + " WHERE source_file = ANY (?)")) {
      s.setArray(1, c.createArrayOf("text", paths.toArray()));
      s.execute();
      return s.getUpdateCount();
    }
  }

  /**
   * After a failed or cancelled run: marks the files it claimed and did not finish as {@code
   * failed} (without counts, so the next run reads them again) and notifies each.
   */
  public void failUnfinished(Instant since, String error) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "UPDATE "
                    + table()
                    + " SET status = 'failed',"
                    + " error = ?, finished_at = now() WHERE dataset = ? AND status = 'processing'"
                    + " AND started_at >= ? RETURNING path")) {
      s.setString(1, error);
      s.setString(2, def.name);
      s.setTimestamp(3, Timestamp.from(since));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          notify(c, event(r.getString(1), Status.FAILED.text(), error));
        }
      }
    } catch (SQLException e) {
      // The database may be what failed; the next run finds these files 'processing' instead.
      org.slf4j.LoggerFactory.getLogger(FileLedger.class)
          .warn("could not mark unfinished files as failed: {}", e.getMessage());
    }
  }

  /**
   * Records how many items (records plus file-level dead letters) the reader produced from a file
   * being processed, for {@link #finishRecorded} once the job has ended. Setting, not adding: a
   * retried read records the same number again.
   */
  public void recordItems(String path, long items) throws SQLException, java.io.IOException {
    recordItems(Map.of(path, items));
  }

  /**
   * How far the files claimed since {@code since} have come, for progress lines while a job runs: a
   * backfill records each file's records when it has read it ({@code items_read}) and finishes its
   * files after the job; a watch finishes each file as it goes.
   */
  public record Progress(
      long files, long filesRead, long filesDone, long bytes, long bytesRead, long records) {}

  /** {@link Progress} of the files claimed (started) since {@code since}. */
  public Progress progressSince(Instant since) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*),"
                    + " count(*) FILTER (WHERE items_read IS NOT NULL OR status <> 'processing'),"
                    + " count(*) FILTER (WHERE status <> 'processing'),"
                    + " coalesce(sum(size_bytes), 0),"
                    + " coalesce(sum(size_bytes) FILTER (WHERE items_read IS NOT NULL"
                    + " OR status <> 'processing'), 0),"
                    + " coalesce(sum(coalesce(items_read, rows_read)), 0)"
                    + " FROM "
                    + table()
                    + " WHERE dataset = ? AND started_at >= ?")) {
      s.setString(1, def.name);
      s.setTimestamp(2, Timestamp.from(since));
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return new Progress(
            r.getLong(1), r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5), r.getLong(6));
      }
    }
  }

  /** {@link #recordItems(String, long)} for several files, in one statement. */
  public void recordItems(Map<String, Long> items) throws SQLException, java.io.IOException {
    String what = items.size() == 1 ? items.keySet().iterator().next() : items.size() + " files";
    db.retrying(
        "recording the items of " + what + " in the ledger",
        c -> {
          try (PreparedStatement s =
              c.prepareStatement(
                  "UPDATE "
                      + table()
                      + " AS t"
                      + " SET items_read = u.n FROM unnest(?::text[], ?::bigint[]) AS u(p, n)"
                      + " WHERE t.dataset = ? AND t.path = u.p AND t.status = 'processing'")) {
            s.setArray(1, c.createArrayOf("text", items.keySet().toArray()));
            s.setArray(2, c.createArrayOf("bigint", items.values().toArray()));
            s.setString(3, def.name);
            s.executeUpdate();
          }
          return null;
        });
  }

  /**
   * After a backfill job has ended successfully: finishes ({@link #finish}) every file it claimed
   * since {@code since} whose items were recorded, and returns their status events (JSON).
   */
  public List<String> finishRecorded(Instant since) throws SQLException, java.io.IOException {
    List<String> paths = new java.util.ArrayList<>();
    List<Long> items = new java.util.ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT path, items_read FROM "
                    + table()
                    + " WHERE dataset = ? AND status = 'processing' AND started_at >= ?"
                    + " AND items_read IS NOT NULL ORDER BY path")) {
      s.setString(1, def.name);
      s.setTimestamp(2, Timestamp.from(since));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          paths.add(r.getString(1));
          items.add(r.getLong(2));
        }
      }
    }
    // Closed in transactions of up to FINISH_BATCH files: one grouped count of the rows table per
    // batch instead of an index scan per file (a 10M-row backfill spent ~10 s counting 42 files).
    List<String> events = new java.util.ArrayList<>(paths.size());
    for (int from = 0; from < paths.size(); from += FINISH_BATCH) {
      int to = Math.min(paths.size(), from + FINISH_BATCH);
      events.addAll(finishAll(paths.subList(from, to), items.subList(from, to), false));
    }
    return events;
  }

  /**
   * Marks a file finished once all its items are stored: counts come from the tables themselves
   * (rows this file contributed, its dead letters), {@code items} from the reader (records plus
   * file-level dead letters). With {@code refreshAggregates} the aggregate groups the file touches
   * are recomputed from the rows table in the same transaction. Returns the status event (JSON).
   */
  public String finish(String path, long items, boolean refreshAggregates)
      throws SQLException, java.io.IOException {
    return finishAll(List.of(path), List.of(items), refreshAggregates).get(0);
  }

  /**
   * {@link #finish(String, long, boolean)} for several files in one transaction: the aggregate
   * groups any of them touches are recomputed once, not once per file (files of the same day
   * finishing together share their groups). Returns the status events in the order of {@code
   * paths}.
   */
  public List<String> finishAll(List<String> paths, List<Long> items, boolean refreshAggregates)
      throws SQLException, java.io.IOException {
    String what = paths.size() == 1 ? paths.get(0) : paths.size() + " files";
    return db.retrying(
        "finishing " + what + " in the ledger",
        c -> {
          c.setAutoCommit(false);
          try {
            if (refreshAggregates && def.aggregates != null) {
              refreshGroupsOf(c, paths);
            }
            Map<String, Long> valid = validRows(c, paths);
            Map<String, RejectCounts> rejects = rejects(c, paths);
            List<String> events = new java.util.ArrayList<>(paths.size());
            for (int i = 0; i < paths.size(); i++) {
              String path = paths.get(i);
              events.add(
                  finish(
                      c,
                      path,
                      items.get(i),
                      valid.getOrDefault(path, 0L),
                      rejects.getOrDefault(path, RejectCounts.NONE)));
            }
            c.commit();
            return events;
          } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
          }
        });
  }

  /**
   * A refresh reads the touched groups one by one when the aggregate table holds at least this many
   * times as many groups; otherwise they are a large part of the rows table, and one scan of it
   * serves them all.
   */
  static final int GROUPS_PER_TOUCHED_GROUP = 3;

  /**
   * Recomputes the aggregate groups the rows of {@code paths} are in, one by one through the group
   * index when they are few of the groups stored ({@link
   * PostgresTables#refreshAggregateGroupsSql}), else in one scan of the rows table.
   */
  private void refreshGroupsOf(Connection c, List<String> paths) throws SQLException {
    long touched = collectGroupsOf(c, paths);
    if (touched == 0) {
      return;
    }
    boolean few;
    try (Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*) FROM "
                    + Identifiers.quote(schema)
                    + "."
                    + Identifiers.quote(def.name + "_agg"))) {
      r.next();
      few = touched * GROUPS_PER_TOUCHED_GROUP <= r.getLong(1);
    }
    // With the percentile indexes (a watch creates them), each group is read in its index
    // entries, which costs less than one scan of the table even when every group is touched.
    few = few || percentileIndexed(c);
    try (Statement s = c.createStatement()) {
      s.execute(
          few
              ? PostgresTables.refreshAggregateGroupsSql(def, schema, REGROUP_QUERY)
              : PostgresTables.refreshAggregatesSql(def, schema, REGROUP_QUERY));
    }
  }

  /** Whether the rows table has every index of {@link PostgresTables#percentileIndexes}. */
  private boolean percentileIndexed(Connection c) throws SQLException {
    List<String> names = PostgresTables.percentileIndexNames(def);
    if (names.isEmpty()) {
      return false;
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = ? AND indexname = ANY (?)")) {
      s.setString(1, schema);
      s.setArray(2, c.createArrayOf("text", names.toArray()));
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1) == names.size();
      }
    }
  }

  /** Rows each file contributed to the rows table (files without rows are absent). */
  private Map<String, Long> validRows(Connection c, List<String> paths) throws SQLException {
    Map<String, Long> valid = new HashMap<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT source_file, count(*) FROM "
                + rowsTable()
                + " WHERE source_file = ANY (?) GROUP BY source_file")) {
      s.setArray(1, c.createArrayOf("text", paths.toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          valid.put(r.getString(1), r.getLong(2));
        }
      }
    }
    return valid;
  }

  /**
   * A file's dead letters: rejected rows, whole-file dead letters, the first whole-file error, and
   * why the file was quarantined (its line-0 dead letter of reason {@code quarantined}), if it was.
   */
  private record RejectCounts(long rows, long fileRejects, String error, String quarantined) {
    static final RejectCounts NONE = new RejectCounts(0, 0, null, null);
  }

  private Map<String, RejectCounts> rejects(Connection c, List<String> paths) throws SQLException {
    Map<String, RejectCounts> rejects = new HashMap<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT source_file,"
                + " count(*) FILTER (WHERE NOT whole), count(*) FILTER (WHERE whole),"
                + " min(reason || ': ' || message) FILTER (WHERE whole AND reason <> 'quarantined'),"
                + " min(message) FILTER (WHERE whole AND reason = 'quarantined')"
                + " FROM (SELECT source_file, reason, message, reason IN ('header', 'partition', 'file')"
                + " OR (reason = 'quarantined' AND line_number = 0) AS whole FROM "
                + rejectsTable()
                + " WHERE source_file = ANY (?)) r GROUP BY source_file")) {
      s.setArray(1, c.createArrayOf("text", paths.toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          rejects.put(
              r.getString(1),
              new RejectCounts(r.getLong(2), r.getLong(3), r.getString(4), r.getString(5)));
        }
      }
    }
    return rejects;
  }

  private String finish(Connection c, String path, long items, long valid, RejectCounts rejects)
      throws SQLException {
    long rejectedRows = rejects.rows();
    long fileRejects = rejects.fileRejects();
    String error = rejects.error();
    long read = Math.max(0, items - fileRejects);
    long duplicate = Math.max(0, read - valid - rejectedRows);
    // Quarantined: over the definition's quality rules, none of its rows stored.
    String status =
        (error != null
                ? Status.FAILED
                : rejects.quarantined() != null ? Status.QUARANTINED : Status.DONE)
            .text();
    if (error == null) {
      error = rejects.quarantined();
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "UPDATE "
                + table()
                + " SET status = ?, rows_read = ?, rows_valid = ?, rows_duplicate = ?, rows_rejected = ?,"
                + " error = ?, finished_at = now(), last_seen = now() WHERE dataset = ? AND path = ?")) {
      s.setString(1, status);
      s.setLong(2, read);
      s.setLong(3, valid);
      s.setLong(4, duplicate);
      s.setLong(5, rejectedRows);
      s.setString(6, error);
      s.setString(7, def.name);
      s.setString(8, path);
      s.executeUpdate();
    }
    ObjectNode e = event(path, status, error);
    e.put("rows_read", read);
    e.put("rows_valid", valid);
    e.put("rows_duplicate", duplicate);
    e.put("rows_rejected", rejectedRows);
    notify(c, e);
    return e.toString();
  }

  private ObjectNode event(String path, String status, String error) {
    ObjectNode e = JSON.createObjectNode();
    e.put("dataset", def.name);
    e.put("path", path);
    e.put("status", status);
    if (error != null) {
      e.put("error", error);
    }
    e.put("at", Instant.now().toString());
    return e;
  }

  /** {@link #notify} for several events, in one statement. */
  private static void notifyEach(Connection c, List<ObjectNode> events) throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    try (PreparedStatement s =
        c.prepareStatement("SELECT pg_notify(?, e) FROM unnest(?::text[]) AS e")) {
      s.setString(1, CHANNEL);
      s.setArray(2, c.createArrayOf("text", events.stream().map(ObjectNode::toString).toArray()));
      s.execute();
    }
  }

  /** NOTIFY on the status channel; delivered to listeners when the transaction commits. */
  private static void notify(Connection c, ObjectNode event) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      s.setString(1, CHANNEL);
      s.setString(2, event.toString());
      s.execute();
    }
  }

  private String groupColumns() {
    return def.aggregates.groupBy.stream()
        .map(Identifiers::quote)
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /**
   * Recomputes, from the rows table, the aggregate groups of every file finished since {@code
   * since} (after a backfill that skipped files ingested earlier, whose aggregates cover only what
   * it read itself).
   */
  public void refreshGroupsOfFilesFinishedSince(Instant since) throws SQLException {
    if (def.aggregates == null) {
      return;
    }
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                PostgresTables.refreshAggregatesSql(
                    def,
                    schema,
                    "SELECT DISTINCT "
                        + groupColumns()
                        + " FROM "
                        + rowsTable()
                        + " WHERE source_file IN"
                        + " (SELECT path FROM "
                        + table()
                        + " WHERE dataset = ? AND finished_at >= ?)"))) {
      s.setString(1, def.name);
      s.setTimestamp(2, Timestamp.from(since));
      s.execute();
    }
  }

  /**
   * Recomputes every aggregate group from the rows table in one grouped scan (after a backfill that
   * read everything stored).
   */
  public void refreshAllAggregates() throws SQLException, java.io.IOException {
    if (def.aggregates == null) {
      return;
    }
    db.retrying(
        "computing the aggregates of " + def.name,
        c -> {
          try (Statement s = c.createStatement()) {
            // Right after a backfill the table has no statistics yet (autovacuum comes later);
            // dashboards' queries want them too.
            s.execute("ANALYZE " + rowsTable());
            // The statement sorts every row by group (exact percentiles): a larger sort memory for
            // this session only spills less (10M rows: 20.5 s at the default 4 MB, 16 s at 64 MB).
            s.execute("SET work_mem = '64MB'");
            s.execute(PostgresTables.refreshAllAggregatesSql(def, schema));
          }
          return null;
        });
  }

  /**
   * How long the files claimed since {@code since} have been quiet, measured on the database's
   * clock: zero while any of them is still {@code processing}, else the time since the last of them
   * finished; null when none was claimed. Watch mode stops on this ({@code --stopAfterIdle}).
   */
  public java.time.Duration quietFor(Instant since) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*),"
                    + " count(*) FILTER (WHERE status = 'processing'),"
                    + " (EXTRACT(EPOCH FROM now() - max(finished_at)) * 1000)::bigint FROM "
                    + table()
                    + " WHERE dataset = ? AND started_at >= ?")) {
      s.setString(1, def.name);
      s.setTimestamp(2, Timestamp.from(since));
      try (ResultSet r = s.executeQuery()) {
        r.next();
        if (r.getLong(1) == 0) {
          return null;
        }
        if (r.getLong(2) > 0) {
          return java.time.Duration.ZERO;
        }
        long millis = r.getLong(3);
        return r.wasNull() ? java.time.Duration.ZERO : java.time.Duration.ofMillis(millis);
      }
    }
  }

  /**
   * The files finished (done, or rejected as a whole) since {@code since} (null: ever), as the
   * watch's keys of their path, size and modification time ({@link
   * dev.landfall.io.files.WatchForStableFiles.FinishedFiles#key}), with the time to ask on from
   * (the database's: the latest {@code finished_at} returned; rows finished at that very time are
   * returned again next time, which a set of keys absorbs).
   */
  public org.apache.beam.sdk.values.KV<Instant, List<Long>> finishedSince(Instant since)
      throws SQLException {
    List<Long> keys = new java.util.ArrayList<>();
    Instant next = since;
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT path, size_bytes,"
                    + " (EXTRACT(EPOCH FROM modified_at) * 1000)::bigint, finished_at FROM "
                    + table()
                    + " WHERE dataset = ? AND modified_at IS NOT NULL AND finished_at >= ?"
                    + " AND (status = 'done' OR (status = 'failed' AND rows_read IS NOT NULL))")) {
      s.setString(1, def.name);
      s.setTimestamp(2, Timestamp.from(since == null ? Instant.EPOCH : since));
      s.setFetchSize(10_000);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          keys.add(
              dev.landfall.io.files.WatchForStableFiles.FinishedFiles.key(
                  r.getString(1), r.getLong(2), r.getLong(3)));
          Instant at = r.getTimestamp(4).toInstant();
          if (next == null || at.isAfter(next)) {
            next = at;
          }
        }
      }
    }
    return org.apache.beam.sdk.values.KV.of(next == null ? Instant.EPOCH : next, keys);
  }

  /** Files finished: done, or rejected as a whole (failed with counts). */
  public long countFinished() throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM "
                    + table()
                    + " WHERE dataset = ? AND (status = 'done' OR (status = 'failed'"
                    + " AND rows_read IS NOT NULL))")) {
      s.setString(1, def.name);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  /**
   * Whether earlier runs may have stored rows of this dataset: any file they finished, rejected,
   * left failed, found changed or quarantined (one rule for every caller).
   */
  public boolean storedBefore() throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT EXISTS (SELECT 1 FROM "
                    + table()
                    + " WHERE dataset = ? AND status <> ?)")) {
      s.setString(1, def.name);
      s.setString(2, Status.PROCESSING.text());
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }

  /** Files of this dataset with the given status. */
  public long count(Status status) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM " + table() + " WHERE dataset = ? AND status = ?")) {
      s.setString(1, def.name);
      s.setString(2, status.text());
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }
}
