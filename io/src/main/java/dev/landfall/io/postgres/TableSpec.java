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

  /** A column name and its SQL type. */
  public static final class Column implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String name;
    public final String sqlType;
    public final boolean notNull;
    public final String comment;

    public Column(String name, String sqlType, boolean notNull, String comment) {
      this.name = Identifiers.check("column", name);
      this.sqlType = sqlType;
      this.notNull = notNull;
      this.comment = comment;
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

  public TableSpec(String schema, String table, List<Column> columns, List<String> key,
      List<String> updateColumns, List<String> changeColumns, String touchColumn,
      List<String> extraColumnsDdl, String comment) {
    this.schema = Identifiers.check("schema", schema);
    this.table = Identifiers.check("table", table);
    this.columns = columns;
    this.key = key;
    this.updateColumns = updateColumns;
    this.changeColumns = changeColumns;
    this.touchColumn = touchColumn;
    this.extraColumnsDdl = extraColumnsDdl;
    this.comment = comment;
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
    StringBuilder ddl = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(qualifiedName())
        .append(" (");
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
    ddl.append("PRIMARY KEY (").append(list(key)).append("))");
    sql.add(ddl.toString());
    if (comment != null) {
      sql.add("COMMENT ON TABLE " + qualifiedName() + " IS " + literal(comment));
    }
    for (Column c : columns) {
      if (c.comment != null) {
        sql.add("COMMENT ON COLUMN " + qualifiedName() + "." + Identifiers.quote(c.name) + " IS "
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
    return "CREATE TEMP TABLE IF NOT EXISTS " + stageName() + " (LIKE " + qualifiedName()
        + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";
  }

  public String copySql() {
    return "COPY " + stageName() + " (" + list(columnNames()) + ") FROM STDIN WITH (FORMAT csv)";
  }

  /** COPY straight into the table: what a batch of new keys costs (see {@code WriteToPostgres}). */
  public String directCopySql() {
    return "COPY " + qualifiedName() + " (" + list(columnNames()) + ") FROM STDIN WITH (FORMAT csv)";
  }

  /** Moves the staged batch into the table; a key that exists is updated only if it changed. */
  public String mergeSql() {
    String cols = list(columnNames());
    StringBuilder sql = new StringBuilder("INSERT INTO ").append(qualifiedName())
        .append(" AS t (").append(cols).append(") SELECT ").append(cols).append(" FROM ")
        .append(stageName()).append(" ON CONFLICT (").append(list(key)).append(") DO ");
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
        .append(changeColumns.stream().map(c -> "t." + Identifiers.quote(c))
            .collect(Collectors.joining(", ")))
        .append(") IS DISTINCT FROM (")
        .append(changeColumns.stream().map(c -> "EXCLUDED." + Identifiers.quote(c))
            .collect(Collectors.joining(", ")))
        .append(")");
    return sql.toString();
  }
}
