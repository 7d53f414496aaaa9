package dev.landfall.io.postgres;

import dev.landfall.transforms.definition.Identifiers;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One target table: its columns and SQL types, its primary key, and what an upsert does on a key
 * that exists already ({@code updateColumns} are set when any of {@code changeColumns} differ; an
 * empty {@code updateColumns} means the existing row is kept). All identifiers are validated and
 * quoted.
 */
public final class TableSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * A column name and its SQL type; for a table written with {@code COPY} ({@link
   * WriteToPostgres}), also how its values are encoded, chosen where the column was mapped from its
   * resolved type (never parsed back from the SQL text).
   */
  public static final class Column implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String name;
    public final String sqlType;
    public final boolean notNull;
    public final String comment;

    /** The binary COPY encoder of the column's values; null: not written with COPY. */
    final CopyBinary.Kind copyKind;

    public Column(String name, String sqlType, boolean notNull, String comment) {
      this(name, sqlType, notNull, comment, null);
    }

    Column(String name, String sqlType, boolean notNull, String comment, CopyBinary.Kind copyKind) {
      this.name = Identifiers.check("column", name);
      this.sqlType = sqlType;
      this.notNull = notNull;
      this.comment = comment;
      this.copyKind = copyKind;
    }
  }

  public final String schema;
  public final String table;

  /** Columns that rows carry, in Beam row order. */
  public final List<Column> columns;

  public final List<String> key;
  public final List<String> updateColumns;
  public final List<String> changeColumns;

  /** A timestamptz column set to now() on insert and on every real update, or null. */
  public final String touchColumn;

  /** Extra DDL columns not carried by rows (e.g. {@code ingested_at timestamptz default now()}). */
  public final List<String> extraColumnsDdl;

  public final String comment;

  /**
   * When set, rows are unique on these expressions (a unique index, for key columns that may be
   * NULL) instead of a primary key on {@link #key}.
   */
  public final List<String> uniqueExpressions;

  private TableSpec(Builder b, List<String> uniqueExpressions) {
    this.schema = b.schema;
    this.table = b.table;
    this.columns = List.copyOf(b.columns);
    this.key = List.copyOf(b.key);
    this.updateColumns = List.copyOf(b.updateColumns);
    this.changeColumns = List.copyOf(b.changeColumns);
    this.touchColumn = b.touchColumn;
    this.extraColumnsDdl = List.copyOf(b.extraColumnsDdl);
    this.comment = b.comment;
    this.uniqueExpressions = uniqueExpressions;
  }

  /** A table {@code schema.table}; both names are checked as safe identifiers here. */
  public static Builder builder(String schema, String table) {
    return new Builder(Identifiers.check("schema", schema), Identifiers.check("table", table));
  }

  /**
   * Builds a {@link TableSpec}; {@link #build} checks that the key and the columns an upsert
   * updates or compares are columns of the table.
   */
  public static final class Builder {
    private final String schema;
    private final String table;
    private List<Column> columns = List.of();
    private List<String> key = List.of();
    private List<String> updateColumns = List.of();
    private List<String> changeColumns = List.of();
    private String touchColumn;
    private List<String> extraColumnsDdl = List.of();
    private String comment;

    private Builder(String schema, String table) {
      this.schema = schema;
      this.table = table;
    }

    /** The columns that rows carry, in Beam row order. */
    public Builder columns(List<Column> columns) {
      this.columns = columns;
      return this;
    }

    /** The primary key. */
    public Builder key(List<String> key) {
      this.key = key;
      return this;
    }

    /**
     * On a key that exists already, sets {@code update} when any of {@code change} differ (the
     * default, no columns, keeps the existing row).
     */
    public Builder upsert(List<String> update, List<String> change) {
      this.updateColumns = update;
      this.changeColumns = change;
      return this;
    }

    /** A timestamptz column set to now() on insert and on every real update. */
    public Builder touching(String column) {
      this.touchColumn = column;
      return this;
    }

    /** DDL of columns the table has but rows do not carry (trusted SQL). */
    public Builder extraColumnsDdl(List<String> ddl) {
      this.extraColumnsDdl = ddl;
      return this;
    }

    /** The table's COMMENT. */
    public Builder comment(String comment) {
      this.comment = comment;
      return this;
    }

    public TableSpec build() {
      List<String> names = new ArrayList<>();
      for (Column c : columns) {
        names.add(c.name);
      }
      for (List<String> used : List.of(key, updateColumns, changeColumns)) {
        for (String name : used) {
          if (!names.contains(name)) {
            throw new IllegalArgumentException(
                "table " + table + ": '" + name + "' is not one of its columns " + names);
          }
        }
      }
      return new TableSpec(this, null);
    }
  }

  private TableSpec(TableSpec spec, List<String> uniqueExpressions) {
    this.schema = spec.schema;
    this.table = spec.table;
    this.columns = spec.columns;
    this.key = spec.key;
    this.updateColumns = spec.updateColumns;
    this.changeColumns = spec.changeColumns;
    this.touchColumn = spec.touchColumn;
    this.extraColumnsDdl = spec.extraColumnsDdl;
    this.comment = spec.comment;
    this.uniqueExpressions = uniqueExpressions;
  }

  /** This table with rows unique on {@code expressions} (trusted SQL) instead of a primary key. */
  public TableSpec uniqueOn(List<String> expressions) {
    return new TableSpec(this, List.copyOf(expressions));
  }

  /** What {@code ON CONFLICT} names: the key columns, or the unique expressions. */
  private String conflictTarget() {
    if (uniqueExpressions == null) {
      return list(key);
    }
    return uniqueExpressions.stream()
        .map(e -> e.startsWith("\"") ? e : "(" + e + ")")
        .collect(Collectors.joining(", "));
  }

  public String qualifiedName() {
    return Identifiers.quote(schema) + "." + Identifiers.quote(table);
  }

  private static String list(List<String> names) {
    return names.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
  }

  public List<String> columnNames() {
    List<String> names = new ArrayList<>();
    for (Column c : columns) {
      names.add(c.name);
    }
    return names;
  }

  /** CREATE TABLE IF NOT EXISTS plus comments. */
  public List<String> createStatements() {
    List<String> sql = new ArrayList<>();
    StringBuilder ddl =
        new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(qualifiedName()).append(" (");
    for (Column c : columns) {
      ddl.append(Identifiers.quote(c.name)).append(' ').append(c.sqlType);
      if (c.notNull) {
        ddl.append(" NOT NULL");
      }
      ddl.append(", ");
    }
    for (String extra : extraColumnsDdl) {
      ddl.append(extra).append(", ");
    }
    if (uniqueExpressions == null) {
      ddl.append("PRIMARY KEY (").append(list(key)).append("))");
      sql.add(ddl.toString());
    } else {
      sql.add(ddl.substring(0, ddl.length() - 2) + ")");
      String index = table.length() > 55 ? table.substring(0, 55) + "_unique" : table + "_groups";
      sql.add(
          "CREATE UNIQUE INDEX IF NOT EXISTS "
              + Identifiers.quote(index)
              + " ON "
              + qualifiedName()
              + " ("
              + String.join(", ", uniqueExpressions)
              + ")");
    }
    if (comment != null) {
      sql.add("COMMENT ON TABLE " + qualifiedName() + " IS " + literal(comment));
    }
    for (Column c : columns) {
      if (c.comment != null) {
        sql.add(
            "COMMENT ON COLUMN "
                + qualifiedName()
                + "."
                + Identifiers.quote(c.name)
                + " IS "
                + literal(c.comment));
      }
    }
    return sql;
  }

  /** A SQL string literal for DDL comments (COMMENT ON takes no bind parameters). */
  static String literal(String text) {
    return "'" + text.replace("'", "''") + "'";
  }

  /** The session-local staging table this spec copies into. */
  public String stageName() {
    return Identifiers.quote("landfall_stage_" + table);
  }

  public String createStageSql() {
    return "CREATE TEMP TABLE IF NOT EXISTS "
        + stageName()
        + " (LIKE "
        + qualifiedName()
        + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";
  }

  public String copySql() {
    return "COPY "
        + stageName()
        + " ("
        + list(columnNames())
        + ")"
        + " FROM STDIN WITH (FORMAT binary)";
  }

  /** COPY straight into the table: what a batch of new keys costs (see {@code WriteToPostgres}). */
  public String directCopySql() {
    return "COPY "
        + qualifiedName()
        + " ("
        + list(columnNames())
        + ")"
        + " FROM STDIN WITH (FORMAT binary)";
  }

  /** Moves the staged batch into the table; a key that exists is updated only if it changed. */
  public String mergeSql() {
    String cols = list(columnNames());
    StringBuilder sql =
        new StringBuilder("INSERT INTO ")
            .append(qualifiedName())
            .append(" AS t (")
            .append(cols)
            .append(") SELECT ")
            .append(cols)
            .append(" FROM ")
            .append(stageName())
            .append(" ON CONFLICT (")
            .append(conflictTarget())
            .append(") DO ");
    if (updateColumns.isEmpty()) {
      return sql.append("NOTHING").toString();
    }
    sql.append("UPDATE SET ");
    List<String> sets = new ArrayList<>();
    for (String c : updateColumns) {
      sets.add(Identifiers.quote(c) + " = EXCLUDED." + Identifiers.quote(c));
    }
    if (touchColumn != null) {
      sets.add(Identifiers.quote(touchColumn) + " = now()");
    }
    sql.append(String.join(", ", sets));
    sql.append(" WHERE (")
        .append(
            changeColumns.stream()
                .map(c -> "t." + Identifiers.quote(c))
                .collect(Collectors.joining(", ")))
        .append(") IS DISTINCT FROM (")
        .append(
            changeColumns.stream()
                .map(c -> "EXCLUDED." + Identifiers.quote(c))
                .collect(Collectors.joining(", ")))
        .append(")");
    return sql.toString();
  }
}
