package dev.landfall.io.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the PostgreSQL tables of a dataset in line with a definition that changed since they were
 * created, before any row is written, inside the transaction of {@link PostgresTables#createAll}:
 *
 * <ul>
 *   <li>a field added: {@code ALTER TABLE ... ADD COLUMN}, nullable (rows stored before have none);
 *   <li>a type widened (int→long, decimal(p,s)→decimal(p',s) with p'≥p, date→timestamp at midnight
 *       UTC): the column altered to the wider type;
 *   <li>a field removed, or no longer required: the column kept, nullable; nothing is dropped;
 *   <li>aggregates whose groups or measures changed (or added to a dataset that has rows): the
 *       aggregate table rebuilt from the rows table;
 *   <li>anything else (a narrowing, another key, an incompatible type): refused with one message
 *       naming the column and both definitions, and nothing altered.
 * </ul>
 *
 * <p>What the live tables hold is read from the catalog, so a deployment created before this class
 * existed evolves too. Each change is logged and recorded in {@code landfall_schema_changes}, with
 * the hash of the definition that caused it; each definition seen is recorded there once, with its
 * JSON, so that the next change can name it.
 */
public final class SchemaEvolution {
  private static final Logger LOG = LoggerFactory.getLogger(SchemaEvolution.class);
  static final String TABLE = "landfall_schema_changes";
  private static final Pattern NUMERIC = Pattern.compile("numeric\\((\\d+),(\\d+)\\)");

  /** One change, as recorded in {@code landfall_schema_changes}. */
  public static final class Change {
    public final String change;
    public final String table;
    public final String column;
    public final String detail;

    Change(String change, String table, String column, String detail) {
      this.change = change;
      this.table = table;
      this.column = column;
      this.detail = detail;
    }

    @Override
    public String toString() {
      return change + " " + table + (column != null ? "." + column : "") + ": " + detail;
    }
  }

  /** The definition this schema was last brought in line with, as recorded. */
  private static final class Recorded {
    final String hash;
    final String changedAt;
    final DatasetDefinition def;

    Recorded(String hash, String changedAt, DatasetDefinition def) {
      this.hash = hash;
      this.changedAt = changedAt;
      this.def = def;
    }
  }

  /** A live column: its type as {@code format_type} prints it and whether it is NOT NULL. */
  private static final class Live {
    final String type;
    final boolean notNull;

    Live(String type, boolean notNull) {
      this.type = type;
      this.notNull = notNull;
    }
  }

  private SchemaEvolution() {}

  /**
   * A short, stable hash of a definition (its JSON as landfall reads it, so whitespace and key
   * order of the file do not matter): the ledger and the change log name definitions by it.
   */
  public static String hash(DatasetDefinition def) {
    try {
      byte[] json = canonicalJson(def).getBytes(StandardCharsets.UTF_8);
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(json))
          .substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String canonicalJson(DatasetDefinition def) {
    try {
      return new ObjectMapper().writeValueAsString(def);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot write the dataset definition as JSON", e);
    }
  }

  static List<String> createStatements(String schema) {
    String t = Identifiers.quote(schema) + "." + Identifiers.quote(TABLE);
    return List.of(
        "CREATE TABLE IF NOT EXISTS "
            + t
            + " (id bigserial PRIMARY KEY,"
            + " changed_at timestamptz NOT NULL DEFAULT now(), dataset text NOT NULL,"
            + " definition_hash text NOT NULL, change text NOT NULL, table_name text,"
            + " column_name text, detail text, definition jsonb)",
        "COMMENT ON TABLE "
            + t
            + " IS 'Changes landfall made to the tables of a dataset when its"
            + " definition changed (change = definition records each definition seen, with its"
            + " JSON).'");
  }

  /**
   * Compares the tables of {@code schema} with {@code def} and applies what changed, on {@code c}
   * (in the caller's transaction, which holds the schema's lock). Tables that do not exist yet are
   * left to the caller, which creates them. Throws {@link IllegalArgumentException} when a change
   * cannot be made in place; the caller rolls back, so nothing is altered.
   */
  static List<Change> apply(Connection c, DatasetDefinition def, String schema)
      throws SQLException {
    for (String sql : createStatements(schema)) {
      execute(c, sql);
    }
    String hash = hash(def);
    Recorded recorded = lastRecorded(c, def.name, schema);
    boolean newDefinition = recorded == null || !recorded.hash.equals(hash);
    List<Change> changes = new ArrayList<>();
    List<String> ddl = new ArrayList<>();
    TableSpec rows = PostgresTables.rows(def, schema);
    Map<String, Live> live = columns(c, rows.qualifiedName());
    boolean widened = false;
    if (!live.isEmpty()) {
      List<String> key = primaryKey(c, rows.qualifiedName());
      if (!key.equals(def.key)) {
        throw refusal(
            def,
            hash,
            recorded,
            rows,
            "key",
            "the table has the key "
                + key
                + " and the new definition says "
                + def.key
                + "; a key cannot change in place");
      }
      widened = compareColumns(def, hash, recorded, rows, live, ddl, changes);
      keepRemovedColumns(rows, live, newDefinition, ddl, changes);
    }
    boolean rebuild = compareAggregates(c, def, schema, recorded, newDefinition, live, changes);
    if (newDefinition && recorded != null && recorded.def != null) {
      noteCommentChanges(recorded, rows, live, changes);
    }

    if (widened || rebuild) {
      dropViews(c, def, schema, recorded);
    }
    executeDdl(c, def, hash, ddl, changes);
    if (rebuild) {
      rebuildAggregates(c, def, schema, rows);
    }
    recordChanges(c, schema, def, hash, recorded, newDefinition, changes);
    return changes;
  }

  /**
   * Compares each column of the definition's rows table with the live one: a column that is not
   * there yet is added, a widened type altered, a column no longer required made nullable (the
   * statements go to {@code ddl}, what they do to {@code changes}). Throws the refusal for a type
   * that does not widen in place. Returns whether a type was widened.
   */
  private static boolean compareColumns(
      DatasetDefinition def,
      String hash,
      Recorded recorded,
      TableSpec rows,
      Map<String, Live> live,
      List<String> ddl,
      List<Change> changes) {
    boolean widened = false;
    for (TableSpec.Column col : rows.columns) {
      Live was = live.get(col.name);
      String wanted = canonical(col.sqlType);
      String column = Identifiers.quote(col.name);
      if (was == null) {
        ddl.add(
            "ALTER TABLE " + rows.qualifiedName() + " ADD COLUMN " + column + " " + col.sqlType);
        changes.add(
            new Change(
                "column_added",
                rows.table,
                col.name,
                "added as " + words(wanted) + ", NULL in the rows stored before"));
        continue;
      }
      if (!was.type.equals(wanted)) {
        String using = widening(was.type, wanted, column);
        if (using == null) {
          throw refusal(
              def,
              hash,
              recorded,
              rows,
              col.name,
              "the table holds "
                  + words(was.type)
                  + " and the new definition says "
                  + words(wanted)
                  + "; only int→long, decimal(p,s)→decimal(p',s) with p'≥p and date→timestamp"
                  + " widen in place");
        }
        ddl.add(
            "ALTER TABLE "
                + rows.qualifiedName()
                + " ALTER COLUMN "
                + column
                + " TYPE "
                + col.sqlType
                + using);
        changes.add(
            new Change(
                "type_widened", rows.table, col.name, words(was.type) + " → " + words(wanted)));
        widened = true;
      }
      if (was.notNull && !col.notNull) {
        ddl.add(
            "ALTER TABLE " + rows.qualifiedName() + " ALTER COLUMN " + column + " DROP NOT NULL");
        changes.add(
            new Change(
                "not_null_dropped", rows.table, col.name, "no longer required by the definition"));
      }
    }
    return widened;
  }

  /**
   * Keeps the live columns the definition no longer names: a NOT NULL one is made nullable (to
   * {@code ddl}); each is noted in {@code changes} when the definition is new or it was NOT NULL.
   */
  private static void keepRemovedColumns(
      TableSpec rows,
      Map<String, Live> live,
      boolean newDefinition,
      List<String> ddl,
      List<Change> changes) {
    List<String> names = rows.columnNames();
    for (Map.Entry<String, Live> was : live.entrySet()) {
      if (names.contains(was.getKey())) {
        continue;
      }
      if (was.getValue().notNull) {
        ddl.add(
            "ALTER TABLE "
                + rows.qualifiedName()
                + " ALTER COLUMN "
                + Identifiers.quote(was.getKey())
                + " DROP NOT NULL");
      }
      if (newDefinition || was.getValue().notNull) {
        changes.add(
            new Change(
                "column_kept",
                rows.table,
                was.getKey(),
                "no longer in the definition: kept (nullable) with the rows stored before, no"
                    + " longer written to Parquet"));
      }
    }
  }

  /**
   * Compares the live aggregate table (when the definition has aggregates and the rows table
   * exists) with the definition's, columns, types and NOT NULL; notes in {@code changes} an
   * aggregate table to rebuild, or one the new definition no longer has (kept). Returns whether the
   * aggregate table is to be rebuilt.
   */
  private static boolean compareAggregates(
      Connection c,
      DatasetDefinition def,
      String schema,
      Recorded recorded,
      boolean newDefinition,
      Map<String, Live> live,
      List<Change> changes)
      throws SQLException {
    boolean rebuild = false;
    if (def.aggregates != null && !live.isEmpty()) {
      TableSpec agg = PostgresTables.aggregates(def, schema);
      Map<String, Live> liveAgg = columns(c, agg.qualifiedName());
      liveAgg.remove("updated_at");
      Map<String, String> wantedAgg = new LinkedHashMap<>();
      for (TableSpec.Column col : agg.columns) {
        wantedAgg.put(col.name, canonical(col.sqlType) + (col.notNull ? " NOT NULL" : ""));
      }
      // NOT NULL too: a group column that may now be NULL needs the table rebuilt without the
      // primary key that forbids it.
      Map<String, String> liveTypes = new LinkedHashMap<>();
      liveAgg.forEach((k, v) -> liveTypes.put(k, v.type + (v.notNull ? " NOT NULL" : "")));
      if (!liveTypes.equals(wantedAgg)) {
        rebuild = true;
        changes.add(
            new Change(
                "aggregates_rebuilt",
                agg.table,
                null,
                liveAgg.isEmpty()
                    ? "created and computed from the rows stored before"
                    : "groups or measures changed: recomputed from the rows table"));
      }
    } else if (def.aggregates == null
        && newDefinition
        && recorded != null
        && recorded.def != null
        && recorded.def.aggregates != null) {
      changes.add(
          new Change(
              "aggregates_kept",
              def.name + "_agg",
              null,
              "no longer in the definition: kept as it is, no longer updated"));
    }
    return rebuild;
  }

  /**
   * Notes in {@code changes} each live column whose description differs from the one the recorded
   * definition gave it (the caller checks that a recorded definition can be read).
   */
  private static void noteCommentChanges(
      Recorded recorded, TableSpec rows, Map<String, Live> live, List<Change> changes) {
    for (TableSpec.Column col : rows.columns) {
      String before = PostgresTables.describe(recorded.def, col.name);
      if (live.containsKey(col.name) && !Objects.equals(before, col.comment)) {
        changes.add(
            new Change("comment_changed", rows.table, col.name, "description now: " + col.comment));
      }
    }
  }

  /**
   * Drops the views of the definition and of the recorded one (if any), before a column type
   * changes or the aggregate table is rebuilt.
   */
  private static void dropViews(
      Connection c, DatasetDefinition def, String schema, Recorded recorded) throws SQLException {
    // A view that reads a column keeps its type: drop the definition's views (old and new) so
    // the column can change; PostgresTables creates the new definition's views again.
    for (String view : viewNames(def, recorded)) {
      execute(
          c, "DROP VIEW IF EXISTS " + Identifiers.quote(schema) + "." + Identifiers.quote(view));
    }
  }

  /**
   * Executes the {@code ddl} statements in order; one that PostgreSQL refuses becomes an {@link
   * IllegalArgumentException} naming the definition and the change it was to make.
   */
  private static void executeDdl(
      Connection c, DatasetDefinition def, String hash, List<String> ddl, List<Change> changes)
      throws SQLException {
    for (int i = 0; i < ddl.size(); i++) {
      try {
        execute(c, ddl.get(i));
      } catch (SQLException e) {
        // Typically a view or rule of someone else's that reads the column: PostgreSQL names it.
        Change change = changeOf(changes, ddl.get(i));
        throw new IllegalArgumentException(
            "dataset '"
                + def.name
                + "': cannot apply definition "
                + hash
                + (change == null ? "" : " (" + change + ")")
                + ": "
                + e.getMessage()
                + ". Nothing was altered; remove what PostgreSQL names, or load the new shape into"
                + " another --dbSchema.",
            e);
      }
    }
  }

  /**
   * Drops and creates again the aggregate table of the definition, then computes it from the rows
   * table, for every group stored there.
   */
  private static void rebuildAggregates(
      Connection c, DatasetDefinition def, String schema, TableSpec rows) throws SQLException {
    TableSpec agg = PostgresTables.aggregates(def, schema);
    execute(c, "DROP TABLE IF EXISTS " + agg.qualifiedName());
    for (String sql : agg.createStatements()) {
      execute(c, sql);
    }
    String groups =
        def.aggregates.groupBy.stream()
            .map(Identifiers::quote)
            .collect(java.util.stream.Collectors.joining(", "));
    execute(
        c,
        PostgresTables.refreshAggregatesSql(
            def, schema, "SELECT DISTINCT " + groups + " FROM " + rows.qualifiedName()));
  }

  /**
   * Records a new definition (with its JSON) in {@code landfall_schema_changes}, then logs and
   * records each change, in order.
   */
  private static void recordChanges(
      Connection c,
      String schema,
      DatasetDefinition def,
      String hash,
      Recorded recorded,
      boolean newDefinition,
      List<Change> changes)
      throws SQLException {
    if (newDefinition) {
      record(
          c,
          schema,
          def,
          hash,
          new Change(
              "definition",
              null,
              null,
              recorded == null
                  ? "first definition recorded"
                  : "replaces definition " + recorded.hash),
          true);
    }
    for (Change change : changes) {
      LOG.info("dataset {}: schema change for definition {}: {}", def.name, hash, change);
      record(c, schema, def, hash, change, false);
    }
  }

  /** The change a DDL statement makes (matched by its column), for messages. */
  private static Change changeOf(List<Change> changes, String sql) {
    for (Change change : changes) {
      if (change.column != null && sql.contains(Identifiers.quote(change.column) + " ")) {
        return change;
      }
    }
    return null;
  }

  private static List<String> viewNames(DatasetDefinition def, Recorded recorded) {
    List<String> names = new ArrayList<>();
    for (DatasetDefinition.View v : def.views) {
      names.add(v.name);
    }
    if (recorded != null && recorded.def != null) {
      for (DatasetDefinition.View v : recorded.def.views) {
        if (!names.contains(v.name)) {
          names.add(v.name);
        }
      }
    }
    return names;
  }

  /**
   * The {@code USING} clause (possibly empty) that widens {@code from} to {@code to}, or null if
   * that is not a widening.
   */
  static String widening(String from, String to, String column) {
    ColumnType a = columnType(from);
    ColumnType b = columnType(to);
    if (a == null || b == null || a.equals(b) || !a.widensTo(b)) {
      return null;
    }
    return a.kind() == ColumnType.Kind.DATE
        ? " USING (" + column + "::timestamp AT TIME ZONE 'UTC')"
        : "";
  }

  /**
   * The definition's type of a column of the rows table, from the type {@code format_type} prints
   * for it (or as landfall writes it); null for the types no definition type maps to (lists, JSON).
   */
  static ColumnType columnType(String sqlType) {
    String type = canonical(sqlType);
    // PostgresTables.sqlType, read backwards: one mapping between the two.
    for (ColumnType.Kind kind : ColumnType.Kind.values()) {
      if (kind != ColumnType.Kind.DECIMAL
          && canonical(PostgresTables.sqlType(ColumnType.of(kind))).equals(type)) {
        return ColumnType.of(kind);
      }
    }
    Matcher m = NUMERIC.matcher(sqlType);
    return m.matches()
        ? ColumnType.decimal(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)))
        : null;
  }

  /** A type as {@code format_type} prints it. */
  static String canonical(String sqlType) {
    return sqlType.equals("timestamptz") ? "timestamp with time zone" : sqlType;
  }

  /** A SQL type in the words of a definition. */
  static String words(String sqlType) {
    if (sqlType.equals("text[]")) {
      return "string (split into a list)";
    }
    ColumnType t = columnType(sqlType);
    return t != null ? t.toString() : sqlType;
  }

  private static IllegalArgumentException refusal(
      DatasetDefinition def,
      String hash,
      Recorded recorded,
      TableSpec rows,
      String column,
      String what) {
    String old =
        recorded == null
            ? "the definition the table was created with (not recorded)"
            : "definition " + recorded.hash + " (recorded " + recorded.changedAt + ")";
    return new IllegalArgumentException(
        "dataset '"
            + def.name
            + "': cannot apply definition "
            + hash
            + " to "
            + rows.schema
            + "."
            + rows.table
            + ": '"
            + column
            + "': "
            + what
            + ". The tables follow "
            + old
            + "; nothing was altered. Restore '"
            + column
            + "' in the definition, or load the new shape into another --dbSchema.");
  }

  private static Map<String, Live> columns(Connection c, String qualified) throws SQLException {
    Map<String, Live> cols = new LinkedHashMap<>();
    try (PreparedStatement q =
        c.prepareStatement(
            "SELECT a.attname,"
                + " format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a"
                + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped"
                + " ORDER BY a.attnum")) {
      q.setString(1, qualified);
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          cols.put(r.getString(1), new Live(r.getString(2), r.getBoolean(3)));
        }
      }
    }
    return cols;
  }

  private static List<String> primaryKey(Connection c, String qualified) throws SQLException {
    List<String> key = new ArrayList<>();
    try (PreparedStatement q =
        c.prepareStatement(
            "SELECT a.attname FROM pg_index i"
                + " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
                + " WHERE i.indrelid = to_regclass(?) AND i.indisprimary"
                + " ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
      q.setString(1, qualified);
      try (ResultSet r = q.executeQuery()) {
        while (r.next()) {
          key.add(r.getString(1));
        }
      }
    }
    return key;
  }

  private static Recorded lastRecorded(Connection c, String dataset, String schema)
      throws SQLException {
    try (PreparedStatement q =
        c.prepareStatement(
            "SELECT definition_hash, changed_at::text,"
                + " definition::text FROM "
                + Identifiers.quote(schema)
                + "."
                + Identifiers.quote(TABLE)
                + " WHERE dataset = ? AND change = 'definition' ORDER BY id DESC LIMIT 1")) {
      q.setString(1, dataset);
      try (ResultSet r = q.executeQuery()) {
        if (!r.next()) {
          return null;
        }
        DatasetDefinition def = null;
        try {
          def = DatasetDefinition.fromJson(r.getString(3));
        } catch (IllegalArgumentException e) {
          LOG.warn(
              "the recorded definition {} cannot be read any more ({}); comparing with the"
                  + " tables only",
              r.getString(1),
              e.getMessage());
        }
        return new Recorded(r.getString(1), r.getString(2), def);
      }
    }
  }

  private static void record(
      Connection c,
      String schema,
      DatasetDefinition def,
      String hash,
      Change change,
      boolean withDefinition)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "INSERT INTO "
                + Identifiers.quote(schema)
                + "."
                + Identifiers.quote(TABLE)
                + " (dataset, definition_hash, change, table_name, column_name,"
                + " detail, definition) VALUES (?, ?, ?, ?, ?, ?, ?::jsonb)")) {
      s.setString(1, def.name);
      s.setString(2, hash);
      s.setString(3, change.change);
      s.setString(4, change.table);
      s.setString(5, change.column);
      s.setString(6, change.detail);
      s.setString(7, withDefinition ? canonicalJson(def) : null);
      s.executeUpdate();
    }
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
