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
 * dataset's schema, one row per (dataset, path) with the file's size and modification time as
 * seen when it was taken, its status and its row counts.
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

  /** The ledger of the files read into {@code tables}. */
  public FileLedger(Database db, DatasetTables tables) {
    this.db = db;
    this.def = tables.definition();
    this.definitionHash = dev.landfall.io.postgres.SchemaEvolution.hash(def);
    this.schema = tables.schema();
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
    String t = Identifiers.quote(Identifiers.check("--dbSchema", schema)) + "."
        + Identifiers.quote(TABLE);
    return List.of(
        "CREATE TABLE IF NOT EXISTS " + t + " ("
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
        "COMMENT ON COLUMN " + t + ".definition_hash IS 'Hash of the dataset definition the file"
            + " was last read with (see landfall_schema_changes); --reingest=olderDefinitions"
            + " reads the files of other definitions again.'",
        "COMMENT ON COLUMN " + t + ".items_read IS 'While a backfill runs: the records and"
            + " file-level dead letters the reader produced from this file; the file is finished"
            + " from them when the job has ended.'",
        "COMMENT ON TABLE " + t + " IS 'Input files landfall has seen: what was ingested, when,"
            + " with which counts (rows_read = rows_valid + rows_duplicate + rows_rejected).'",
        "COMMENT ON COLUMN " + t + ".status IS 'processing, done, failed (whole file rejected,"
            + " see error) or changed (differs from what was ingested)'",
        "COMMENT ON COLUMN " + t + ".rows_valid IS 'Rows of this file stored in the rows table"
            + " (a key already stored from another file counts as a duplicate).'");
  }

  /**
   * Creates the ledger table if it is missing (idempotent), on {@code c}: inside the transaction
   * of {@link PostgresTables#createAll(Database, DatasetTables,
   * PostgresTables.MoreTables)}, to which callers pass {@code FileLedger::createTables}. The ledger
   * owns its table; {@code postgres} knows nothing of it.
   */
  public static void createTables(Connection c, String schema) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String sql : createStatements(schema)) {
        s.execute(sql);
      }
    }
  }

  /**
   * Decides whether a file is read, in one transaction, recording the decision. {@code reingest}:
   * a changed file's rows and rejects are deleted and it is read again.
   */
  public Claim claim(String path, long size, Instant modified, String etag, boolean reingest)
      throws SQLException, java.io.IOException {
    return claim(path, size, modified, etag, reingest, false);
  }

  /**
   * As {@link #claim(String, long, Instant, String, boolean)}; with {@code reingestOlder}, a file
   * finished under another definition (or before definitions were recorded) is read again too,
   * its rows and rejects replaced.
   */
  public Claim claim(String path, long size, Instant modified, String etag, boolean reingest,
      boolean reingestOlder) throws SQLException, java.io.IOException {
    return db.retrying("claiming " + path + " in the ledger", c -> {
      c.setAutoCommit(false);
      try {
        Claim claim = claim(c, path, size, modified, etag, reingest, reingestOlder);
        c.commit();
        return claim;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    });
  }

  private Claim claim(Connection c, String path, long size, Instant modified, String etag,
      boolean reingest, boolean reingestOlder) throws SQLException {
    Timestamp mtime = modified == null ? null : Timestamp.from(modified);
    Entry was = entry(c, path);
    if (was == null) {
      insertProcessing(c, path, size, mtime, etag);
      notify(c, event(path, "discovered", null));
      return Claim.INGEST;
    }
    String status = was.status;
    // Unchanged: same size and, where the store gives one (S3), the same ETag; else the same
    // modification time.
    boolean same = was.size == size && (etag != null && was.etag != null ? etag.equals(was.etag)
        : (was.mtime == null ? mtime == null : was.mtime.equals(mtime)));
    // 'failed' with counts: the file itself was rejected, and stays so while unchanged.
    // 'failed' without counts: the job failed while reading it; read it again.
    boolean finished = status.equals("done") || (status.equals("failed") && counted(c, path));
    if ((status.equals("processing") || status.equals("failed")) && same && !finished) {
      // An earlier run stopped before finishing it; every sink is idempotent, so read it again.
      update(c, path, size, mtime, etag, "processing", true);
      notify(c, event(path, "discovered", null));
      return Claim.INGEST;
    }
    boolean older = reingestOlder && finished && same && !definitionHash.equals(was.hash);
    if (finished && same && !older) {
      markSeen(c, path);
      return Claim.ALREADY_DONE;
    }
    // Changed since it was ingested (or changed while an earlier run was reading it).
    if (!older && !reingest && (finished || status.equals("changed"))) {
      if (!status.equals("changed")) {
        update(c, path, was.size, was.mtime, was.etag, "changed", false);
        notify(c, event(path, "changed", "size or modification time differs from the"
            + " ingested file; run with --reingestChanged to replace its rows"));
      }
      return Claim.CHANGED;
    }
    removeRowsOf(c, path);
    update(c, path, size, mtime, etag, "processing", true);
    notify(c, event(path, "discovered", null));
    return Claim.REINGEST;
  }

  /** What the ledger holds about one file, read by {@link #entry}. */
  private static final class Entry {
    String status;
    long size;
    Timestamp mtime;
    String etag;
    String hash;
  }

  /** The ledger's entry of {@code path}, locked for this transaction; null when there is none. */
  private Entry entry(Connection c, String path) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT status, size_bytes, modified_at, etag,"
        + " definition_hash FROM "
        + table() + " WHERE dataset = ? AND path = ? FOR UPDATE")) {
      s.setString(1, def.name);
      s.setString(2, path);
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          return null;
        }
        Entry e = new Entry();
        e.status = r.getString(1);
        e.size = r.getLong(2);
        e.mtime = r.getTimestamp(3);
        e.etag = r.getString(4);
        e.hash = r.getString(5);
        return e;
      }
    }
  }

  /** A file seen for the first time: 'processing', under this definition. */
  private void insertProcessing(Connection c, String path, long size, Timestamp mtime,
      String etag) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO " + table()
        + " (dataset, path, size_bytes, modified_at, etag, status, started_at, definition_hash)"
        + " VALUES (?, ?, ?, ?, ?, 'processing', now(), ?)")) {
      s.setString(1, def.name);
      s.setString(2, path);
      s.setLong(3, size);
      s.setTimestamp(4, mtime);
      s.setString(5, etag);
      s.setString(6, definitionHash);
      s.executeUpdate();
    }
  }

  /** A finished file seen again, unchanged. */
  private void markSeen(Connection c, String path) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("UPDATE " + table()
        + " SET last_seen = now() WHERE dataset = ? AND path = ?")) {
      s.setString(1, def.name);
      s.setString(2, path);
      s.executeUpdate();
    }
  }

  /**
   * Before a file is read again: deletes its rows and rejects and recomputes the aggregate groups
   * they were in, in the claiming transaction.
   */
  private void removeRowsOf(Connection c, String path) throws SQLException {
    boolean regroup = def.aggregates != null;
    if (regroup) {
      collectGroupsOf(c, List.of(path));
    }
    for (String t : List.of(rowsTable(), rejectsTable())) {
      try (PreparedStatement s = c.prepareStatement("DELETE FROM " + t + " WHERE source_file = ?")) {
        s.setString(1, path);
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
   * Keeps, in a temporary table dropped at commit, the aggregate groups the rows of {@code
   * paths} are in; returns how many there are. The files' rows are read once for them, whatever
   * the refresh then does.
   */
  private long collectGroupsOf(Connection c, List<String> paths) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("CREATE TEMP TABLE landfall_regroup ON COMMIT"
        + " DROP AS SELECT DISTINCT " + groupColumns() + " FROM " + rowsTable()
        + " WHERE source_file = ANY (?)")) {
      s.setArray(1, c.createArrayOf("text", paths.toArray()));
      s.execute();
      return s.getUpdateCount();
    }
  }

  private boolean counted(Connection c, String path) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT rows_read IS NOT NULL FROM " + table()
        + " WHERE dataset = ? AND path = ?")) {
      s.setString(1, def.name);
      s.setString(2, path);
      try (ResultSet r = s.executeQuery()) {
        return r.next() && r.getBoolean(1);
      }
    }
  }

  /**
   * After a failed or cancelled run: marks the files it claimed and did not finish as {@code
   * failed} (without counts, so the next run reads them again) and notifies each.
   */
  public void failUnfinished(Instant since, String error) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("UPDATE " + table() + " SET status = 'failed',"
            + " error = ?, finished_at = now() WHERE dataset = ? AND status = 'processing'"
            + " AND started_at >= ? RETURNING path")) {
      s.setString(1, error);
      s.setString(2, def.name);
      s.setTimestamp(3, Timestamp.from(since));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          notify(c, event(r.getString(1), "failed", error));
        }
      }
    } catch (SQLException e) {
      // The database may be what failed; the next run finds these files 'processing' instead.
      org.slf4j.LoggerFactory.getLogger(FileLedger.class)
          .warn("could not mark unfinished files as failed: {}", e.getMessage());
    }
  }

  private void update(Connection c, String path, long size, Timestamp mtime, String etag,
      String status, boolean restart) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("UPDATE " + table()
        + " SET size_bytes = ?, modified_at = ?, etag = ?, status = ?, last_seen = now()"
        + (restart ? ", started_at = now(), finished_at = NULL, error = NULL, rows_read = NULL,"
            + " rows_valid = NULL, rows_duplicate = NULL, rows_rejected = NULL,"
            + " items_read = NULL, definition_hash = ?" : "")
        + " WHERE dataset = ? AND path = ?")) {
      int i = 0;
      s.setLong(++i, size);
      s.setTimestamp(++i, mtime);
      s.setString(++i, etag);
      s.setString(++i, status);
      if (restart) {
        s.setString(++i, definitionHash);
      }
      s.setString(++i, def.name);
      s.setString(++i, path);
      s.executeUpdate();
    }
  }

  /**
   * Records how many items (records plus file-level dead letters) the reader produced from a file
   * being processed, for {@link #finishRecorded} once the job has ended. Setting, not adding: a
   * retried read records the same number again.
   */
  public void recordItems(String path, long items) throws SQLException, java.io.IOException {
    db.retrying("recording the items of " + path + " in the ledger", c -> {
      try (PreparedStatement s = c.prepareStatement("UPDATE " + table() + " SET items_read = ?"
          + " WHERE dataset = ? AND path = ? AND status = 'processing'")) {
        s.setLong(1, items);
        s.setString(2, def.name);
        s.setString(3, path);
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
        PreparedStatement s = c.prepareStatement("SELECT path, items_read FROM " + table()
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
    return db.retrying("finishing " + what + " in the ledger", c -> {
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
          events.add(finish(c, path, items.get(i), valid.getOrDefault(path, 0L),
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
   * A refresh reads the touched groups one by one when the aggregate table holds at least this
   * many times as many groups; otherwise they are a large part of the rows table, and one scan
   * of it serves them all.
   */
  static final int GROUPS_PER_TOUCHED_GROUP = 3;

  /**
   * Recomputes the aggregate groups the rows of {@code paths} are in, one by one through the
   * group index when they are few of the groups stored ({@link
   * PostgresTables#refreshAggregateGroupsSql}), else in one scan of the rows table.
   */
  private void refreshGroupsOf(Connection c, List<String> paths) throws SQLException {
    long touched = collectGroupsOf(c, paths);
    if (touched == 0) {
      return;
    }
    boolean few;
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM " + Identifiers.quote(schema) + "."
            + Identifiers.quote(def.name + "_agg"))) {
      r.next();
      few = touched * GROUPS_PER_TOUCHED_GROUP <= r.getLong(1);
    }
    try (Statement s = c.createStatement()) {
      s.execute(few ? PostgresTables.refreshAggregateGroupsSql(def, schema, REGROUP_QUERY)
          : PostgresTables.refreshAggregatesSql(def, schema, REGROUP_QUERY));
    }
  }

  /** Rows each file contributed to the rows table (files without rows are absent). */
  private Map<String, Long> validRows(Connection c, List<String> paths) throws SQLException {
    Map<String, Long> valid = new HashMap<>();
    try (PreparedStatement s = c.prepareStatement("SELECT source_file, count(*) FROM "
        + rowsTable() + " WHERE source_file = ANY (?) GROUP BY source_file")) {
      s.setArray(1, c.createArrayOf("text", paths.toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          valid.put(r.getString(1), r.getLong(2));
        }
      }
    }
    return valid;
  }

  /** A file's dead letters: rejected rows, whole-file rejects, and the first whole-file error. */
  private record RejectCounts(long rows, long fileRejects, String error) {
    static final RejectCounts NONE = new RejectCounts(0, 0, null);
  }

  private Map<String, RejectCounts> rejects(Connection c, List<String> paths)
      throws SQLException {
    Map<String, RejectCounts> rejects = new HashMap<>();
    try (PreparedStatement s = c.prepareStatement("SELECT source_file,"
        + " count(*) FILTER (WHERE NOT whole), count(*) FILTER (WHERE whole),"
        + " min(reason || ': ' || message) FILTER (WHERE whole)"
        + " FROM (SELECT source_file, reason, message, reason IN ('header', 'partition', 'file')"
        + " AS whole FROM " + rejectsTable() + " WHERE source_file = ANY (?)) r"
        + " GROUP BY source_file")) {
      s.setArray(1, c.createArrayOf("text", paths.toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          rejects.put(r.getString(1),
              new RejectCounts(r.getLong(2), r.getLong(3), r.getString(4)));
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
    String status = error == null ? "done" : "failed";
    try (PreparedStatement s = c.prepareStatement("UPDATE " + table()
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

  /** NOTIFY on the status channel; delivered to listeners when the transaction commits. */
  private static void notify(Connection c, ObjectNode event) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      s.setString(1, CHANNEL);
      s.setString(2, event.toString());
      s.execute();
    }
  }

  private String groupColumns() {
    return def.aggregates.groupBy.stream().map(Identifiers::quote)
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
        PreparedStatement s = c.prepareStatement(PostgresTables.refreshAggregatesSql(def, schema,
            "SELECT DISTINCT " + groupColumns() + " FROM " + rowsTable() + " WHERE source_file IN"
                + " (SELECT path FROM " + table() + " WHERE dataset = ? AND finished_at >= ?)"))) {
      s.setString(1, def.name);
      s.setTimestamp(2, Timestamp.from(since));
      s.execute();
    }
  }

  /**
   * How long the files claimed since {@code since} have been quiet, measured on the database's
   * clock: zero while any of them is still {@code processing}, else the time since the last of
   * them finished; null when none was claimed. Watch mode stops on this ({@code
   * --stopAfterIdle}).
   */
  public java.time.Duration quietFor(Instant since) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement("SELECT count(*),"
            + " count(*) FILTER (WHERE status = 'processing'),"
            + " (EXTRACT(EPOCH FROM now() - max(finished_at)) * 1000)::bigint FROM " + table()
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

  /** Files of this dataset with the given status. */
  public long count(String status) throws SQLException {
    try (Connection c = db.connect();
        PreparedStatement s = c.prepareStatement(
            "SELECT count(*) FROM " + table() + " WHERE dataset = ? AND status = ?")) {
      s.setString(1, def.name);
      s.setString(2, status);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }
}
