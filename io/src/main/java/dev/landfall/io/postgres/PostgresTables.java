package dev.landfall.io.postgres;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetColumns;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import dev.landfall.transforms.values.DatasetSchemas;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The PostgreSQL tables of a dataset, derived from its definition: {@code <dataset>} (clean rows,
 * primary key = the definition's key), {@code <dataset>_agg} (one row per group, primary key = the
 * group columns) and {@code <dataset>_rejects} (dead letters, primary key = file and line).
 */
public final class PostgresTables {
  private PostgresTables() {}

  /** The SQL type of a column type. */
  public static String sqlType(ColumnType t) {
    switch (t.kind()) {
      case STRING:
        return "text";
      case INT:
        return "integer";
      case LONG:
        return "bigint";
      case DOUBLE:
        return "double precision";
      case DECIMAL:
        return "numeric(" + t.precision() + "," + t.scale() + ")";
      case BOOLEAN:
        return "boolean";
      case DATE:
        return "date";
      case TIMESTAMP:
        return "timestamptz";
      default:
        throw new IllegalArgumentException("no SQL type for " + t);
    }
  }

  /** The SQL type of a clean column in the rows table. */
  static String sqlType(DatasetColumns.Column c) {
    if (c.list) {
      return "text[]";
    }
    return c.role == DatasetColumns.Role.RESCUED ? "jsonb" : sqlType(c.type);
  }

  static String describe(DatasetDefinition def, String column) {
    for (DatasetDefinition.Partition p : def.partitions) {
      if (p.name.equals(column)) {
        return p.description != null
            ? p.description
            : "Partition value from the folder " + p.name + "=...";
      }
    }
    for (DatasetDefinition.Field f : def.fields) {
      if (f.name.equals(column)) {
        return f.description;
      }
    }
    for (DatasetDefinition.Derived d : def.derived) {
      if (d.name.equals(column)) {
        return d.description != null ? d.description : d.part + " of " + d.from;
      }
    }
    DatasetDefinition.Lookup lookup = def.lookupOf(column);
    if (lookup != null) {
      return "From lookup table "
          + lookup.table
          + " (joined on "
          + lookup.on
          + "); null when the "
          + lookup.on
          + " is not in it.";
    }
    if (column.equals(DatasetDefinition.SOURCE_FILE)) {
      return "Input file the row was read from.";
    }
    if (column.equals(DatasetDefinition.SOURCE_LINE)) {
      return "Line of the input file where the row starts.";
    }
    if (column.equals(DatasetDefinition.RESCUED)) {
      return "Columns of the input file that the definition does not name (unknownColumns:"
          + " rescue), as a JSON object of header name to text; only non-empty cells.";
    }
    return null;
  }

  /** Clean, de-duplicated rows. */
  public static TableSpec rows(DatasetDefinition def, String schema) {
    List<TableSpec.Column> cols = new ArrayList<>();
    for (DatasetColumns.Column c : DatasetColumns.of(def)) {
      cols.add(
          new TableSpec.Column(
              c.name, sqlType(c), !c.nullable, describe(def, c.name), CopyBinary.Kind.of(c)));
    }
    // A key stored already keeps its row: within a run the de-duplication picks the winner; a
    // later file (or run) cannot replace it, so what was published (Parquet, dashboards) stays.
    return TableSpec.builder(schema, def.name)
        .columns(cols)
        .key(def.key)
        .comment(def.description != null ? def.description : "Clean rows of dataset " + def.name)
        .build();
  }

  /**
   * The expressions that identify an aggregate group in SQL: each group column, or for a column
   * that may be NULL, {@code coalesce(col, <zero>)} and {@code (col IS NULL)}, so that NULL is one
   * group of its own (as in {@code GROUP BY}) and equality, unique indexes and hash joins work
   * (PostgreSQL 14 has no {@code NULLS NOT DISTINCT}). Plain column names when no group column is
   * nullable: the SQL of such datasets is unchanged.
   */
  public static List<String> groupKey(DatasetDefinition def) {
    return groupKey(def, "");
  }

  /** {@link #groupKey(DatasetDefinition)} over the columns of {@code qualifier} (e.g. "r."). */
  private static List<String> groupKey(DatasetDefinition def, String qualifier) {
    List<String> exprs = new ArrayList<>();
    for (String g : def.aggregates.groupBy) {
      String col = qualifier + Identifiers.quote(g);
      if (def.isRequired(g)) {
        exprs.add(col);
      } else {
        exprs.add("coalesce(" + col + ", " + zero(def.typeOf(g)) + ")");
        exprs.add("(" + col + " IS NULL)");
      }
    }
    return exprs;
  }

  /** True for the index on the aggregate groups (its key is {@link #groupKey} when NULLs group). */
  private static boolean isGroupIndex(DatasetDefinition def, List<String> cols) {
    return def.aggregates != null && cols.equals(def.aggregates.groupBy);
  }

  /** True when index {@code i}'s key expressions are the leading ones of another index's key. */
  private static boolean leadsAnother(List<List<String>> keys, int i) {
    List<String> mine = keys.get(i);
    for (int j = 0; j < keys.size(); j++) {
      List<String> other = keys.get(j);
      if (j != i && other.size() > mine.size() && other.subList(0, mine.size()).equals(mine)) {
        return true;
      }
    }
    return false;
  }

  /** True when a group column may be NULL (see {@link #groupKey}). */
  public static boolean hasNullableGroups(DatasetDefinition def) {
    return def.aggregates != null
        && def.aggregates.groupBy.stream().anyMatch(g -> !def.isRequired(g));
  }

  /** A constant of the column's type that stands for NULL in {@link #groupKey}. */
  private static String zero(ColumnType t) {
    switch (t.kind()) {
      case STRING:
        return "''";
      case BOOLEAN:
        return "false";
      case DATE:
        return "'-infinity'::date";
      case TIMESTAMP:
        return "'-infinity'::timestamptz";
      default:
        return "0";
    }
  }

  /** Scale of averages of decimal and integer columns, at least. */
  public static final int AVG_SCALE = 6;

  /**
   * The start of a percentile column's comment written by builds that took percentiles from a
   * sketch: a table that has it is recomputed once, exactly ({@link #createAll}).
   */
  static final String APPROXIMATE_COMMENT = "Approximate (KLL sketch";

  /**
   * Aggregates per group. The table is written only by the database itself, from the stored rows
   * ({@link #refreshAggregatesSql}, {@link #refreshAllAggregatesSql}): every path (backfill, watch,
   * re-ingest) computes each group the same way, percentiles exactly.
   */
  public static TableSpec aggregates(DatasetDefinition def, String schema) {
    List<TableSpec.Column> cols = new ArrayList<>();
    for (String g : def.aggregates.groupBy) {
      cols.add(
          new TableSpec.Column(g, sqlType(def.typeOf(g)), def.isRequired(g), describe(def, g)));
    }
    cols.add(
        new TableSpec.Column(
            DatasetSchemas.ROW_COUNT,
            "bigint",
            true,
            "Number of clean, de-duplicated rows in the group."));
    List<String> update = new ArrayList<>(List.of(DatasetSchemas.ROW_COUNT));
    List<String> change = new ArrayList<>(List.of(DatasetSchemas.ROW_COUNT));
    for (Map.Entry<String, List<String>> m : def.aggregates.measures.entrySet()) {
      ColumnType t = def.typeOf(m.getKey());
      for (String fn : m.getValue()) {
        String name = DatasetSchemas.measureColumn(m.getKey(), fn);
        boolean percentile = DatasetDefinition.percentileRank(fn) > 0;
        String sql;
        if (fn.equals("count")) {
          sql = "bigint";
        } else if (percentile || t.kind() == ColumnType.Kind.DOUBLE) {
          sql = "double precision";
        } else if ((fn.equals("min") || fn.equals("max")) && t.kind() == ColumnType.Kind.DECIMAL) {
          sql = sqlType(t);
        } else {
          sql = "numeric";
        }
        cols.add(
            new TableSpec.Column(
                name,
                sql,
                false,
                percentile
                    ? "Exact "
                        + fn
                        + " of "
                        + m.getKey()
                        + " over the group's rows: the nearest-rank"
                        + " value (percentile_disc("
                        + DatasetDefinition.percentileRank(fn)
                        + "))."
                    : fn + " of " + m.getKey() + " over the group's rows."));
        update.add(name);
        change.add(name);
      }
    }
    TableSpec spec =
        TableSpec.builder(schema, def.name + "_agg")
            .columns(cols)
            .key(def.aggregates.groupBy)
            .upsert(update, change)
            .touching("updated_at")
            .extraColumnsDdl(List.of("\"updated_at\" timestamptz NOT NULL DEFAULT now()"))
            .comment(
                "Aggregates of "
                    + def.name
                    + " per "
                    + String.join(", ", def.aggregates.groupBy)
                    + (hasNullableGroups(def) ? " (NULL is a group of its own)." : "."))
            .build();
    return hasNullableGroups(def) ? spec.uniqueOn(groupKey(def)) : spec;
  }

  /** Dead letters: rejected rows and files, with the columns of {@link DatasetSchemas#REJECT}. */
  public static TableSpec rejects(DatasetDefinition def, String schema) {
    List<TableSpec.Column> cols = new ArrayList<>();
    for (org.apache.beam.sdk.schemas.Schema.Field f : DatasetSchemas.REJECT.getFields()) {
      String type;
      CopyBinary.Kind kind;
      switch (f.getType().getTypeName()) {
        case STRING:
          type = "text";
          kind = CopyBinary.Kind.TEXT;
          break;
        case INT64:
          type = "bigint";
          kind = CopyBinary.Kind.INT8;
          break;
        default:
          throw new IllegalStateException("no SQL type for the rejects' column " + f.getName());
      }
      cols.add(
          new TableSpec.Column(
              f.getName(), type, !f.getType().getNullable(), f.getDescription(), kind));
    }
    return TableSpec.builder(schema, def.name + "_rejects")
        .columns(cols)
        .key(List.of(DatasetDefinition.SOURCE_FILE, DatasetSchemas.RAW_LINE))
        .extraColumnsDdl(List.of("\"ingested_at\" timestamptz NOT NULL DEFAULT now()"))
        .comment("Rows and files of " + def.name + " that were rejected, with the reason.")
        .build();
  }

  /**
   * More tables created with a dataset's in {@link #createAll}'s transaction, under its lock: the
   * file ledger's, which the ledger owns ({@code FileLedger::createTables}).
   */
  @FunctionalInterface
  public interface MoreTables {
    /** Creates the tables (idempotent) in {@code schema} on {@code c}, inside the transaction. */
    void create(Connection c, String schema) throws SQLException;
  }

  /**
   * Creates the schema and all tables of a dataset if they are missing, and brings existing ones in
   * line with a definition that changed ({@link SchemaEvolution}): one transaction, under a lock
   * per schema, so a refused change or a failure leaves everything as it was. {@code more} creates
   * the tables of the dataset's other owners (the file ledger) in the same transaction, after the
   * dataset's own tables and before its lookup tables and views.
   *
   * @return the changes made to existing tables (empty when the definition did not change them)
   */
  public static List<SchemaEvolution.Change> createAll(
      Database db, DatasetTables tables, MoreTables more) throws SQLException {
    DatasetDefinition def = tables.definition();
    String schema = tables.schema();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      // A least-privilege writer may not create schemas (deploy/sql/roles.sql): only try when
      // the schema is missing.
      boolean exists;
      try (java.sql.PreparedStatement q =
          c.prepareStatement("SELECT 1 FROM pg_namespace WHERE nspname = ?")) {
        q.setString(1, schema);
        try (java.sql.ResultSet r = q.executeQuery()) {
          exists = r.next();
        }
      }
      if (!exists) {
        s.execute("CREATE SCHEMA IF NOT EXISTS " + Identifiers.quote(schema));
      }
      c.setAutoCommit(false);
      try {
        try (java.sql.PreparedStatement lock =
            c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
          lock.setString(1, "landfall-schema:" + schema);
          lock.execute();
        }
        List<SchemaEvolution.Change> changes = SchemaEvolution.apply(c, def, schema);
        boolean approximate = approximatePercentiles(c, def, schema);
        createMissing(c, s, def, schema, more);
        if (approximate) {
          // Written by a build that took percentiles from a sketch: once, every group exactly
          // (the new comments, written above, mark the table as done).
          org.slf4j.LoggerFactory.getLogger(PostgresTables.class)
              .info(
                  "{}.{}_agg: recomputing"
                      + " every group from the stored rows, once, for exact percentiles",
                  schema,
                  def.name);
          s.execute(refreshAllAggregatesSql(def, schema));
        }
        c.commit();
        return changes;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /**
   * True when the aggregate table exists and a percentile column's comment says it came from a
   * sketch ({@link #APPROXIMATE_COMMENT}).
   */
  private static boolean approximatePercentiles(Connection c, DatasetDefinition def, String schema)
      throws SQLException {
    if (def.aggregates == null) {
      return false;
    }
    try (java.sql.PreparedStatement q =
        c.prepareStatement(
            "SELECT 1 FROM pg_attribute a"
                + " JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
                + " WHERE n.nspname = ? AND t.relname = ? AND a.attnum > 0 AND NOT a.attisdropped"
                + " AND starts_with(coalesce(col_description(t.oid, a.attnum), ''), ?)")) {
      q.setString(1, schema);
      q.setString(2, def.name + "_agg");
      q.setString(3, APPROXIMATE_COMMENT);
      try (java.sql.ResultSet r = q.executeQuery()) {
        return r.next();
      }
    }
  }

  private static void createMissing(
      Connection c, Statement s, DatasetDefinition def, String schema, MoreTables more)
      throws SQLException {
    List<TableSpec> specs = new ArrayList<>(List.of(rows(def, schema), rejects(def, schema)));
    if (def.aggregates != null) {
      specs.add(aggregates(def, schema));
    }
    for (TableSpec spec : specs) {
      for (String sql : spec.createStatements()) {
        s.execute(sql);
      }
    }
    for (String sql : rowIndexes(def, schema)) {
      s.execute(sql);
    }
    more.create(c, schema);
    for (DatasetDefinition.Lookup l : def.lookups) {
      boolean tableExists;
      try (java.sql.PreparedStatement q =
          c.prepareStatement(
              "SELECT 1 FROM"
                  + " information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
        q.setString(1, schema);
        q.setString(2, l.table);
        try (java.sql.ResultSet r = q.executeQuery()) {
          tableExists = r.next();
        }
      }
      if (!tableExists) {
        for (String sql : lookupTable(def, l, schema)) {
          s.execute(sql);
        }
      }
    }
    for (DatasetDefinition.View v : def.views) {
      // CREATE OR REPLACE keeps views that depend on this one, but cannot change the view's
      // columns: then the view is dropped and created again.
      java.sql.Savepoint before = c.setSavepoint();
      try {
        for (String sql : view(def, v, schema, "CREATE OR REPLACE VIEW ")) {
          s.execute(sql);
        }
      } catch (SQLException e) {
        c.rollback(before);
        s.execute(
            "DROP VIEW IF EXISTS " + Identifiers.quote(schema) + "." + Identifiers.quote(v.name));
        for (String sql : view(def, v, schema, "CREATE VIEW ")) {
          s.execute(sql);
        }
      }
    }
  }

  /** The (quoted) name of a measure's non-null count in a per-group refresh. */
  private static String nonNullCount(String measure) {
    return Identifiers.quote("__n_" + measure);
  }

  /**
   * The SQL of one aggregate function {@code fn} of measure {@code measure} (quoted {@code col}).
   */
  private static String measureSql(DatasetDefinition def, String measure, String col, String fn) {
    double rank = DatasetDefinition.percentileRank(fn);
    if (rank > 0) {
      return "(percentile_disc("
          + rank
          + ") WITHIN GROUP (ORDER BY "
          + col
          + "))::double precision";
    }
    ColumnType t = def.typeOf(measure);
    if (fn.equals("avg") && t.kind() != ColumnType.Kind.DOUBLE) {
      // At least 6 decimals (the column's scale if larger), half up.
      int scale = Math.max(AVG_SCALE, t.kind() == ColumnType.Kind.DECIMAL ? t.scale() : 0);
      return "round(avg(" + col + "), " + scale + ")";
    }
    return fn + "(" + col + ")";
  }

  /**
   * Recomputes the aggregate groups listed by {@code groupsQuery} (a query returning group column
   * values) from the rows table, exactly (percentiles with {@code percentile_disc}); groups left
   * without rows are deleted. Used where aggregates must follow rows already stored: re-ingested
   * files, a backfill that skipped files, a rebuilt aggregate table. The listed groups are matched
   * with a join, which PostgreSQL plans as one scan of the rows table: the right plan when they are
   * a large part of it.
   */
  public static String refreshAggregatesSql(
      DatasetDefinition def, String schema, String groupsQuery) {
    return refreshAggregatesSql(def, schema, groupsQuery, false);
  }

  /**
   * Recomputes every aggregate group from the rows table in one grouped scan, and deletes the
   * groups that have no rows left: after a backfill that read everything stored, and once over a
   * table written by a build that took percentiles from a sketch.
   */
  public static String refreshAllAggregatesSql(DatasetDefinition def, String schema) {
    return refreshAggregatesSql(def, schema, null, false);
  }

  /**
   * {@link #refreshAggregatesSql} for groups that are a small part of the rows table (a watch
   * closing a day's file): each group's rows are read on their own ({@code LATERAL}), through the
   * rows table's group index. Matching a few groups with a join made PostgreSQL scan the whole
   * table at every closed file, so a watch got slower as its table grew; read one by one, a large
   * group would be a scan of its own, hence the choice ({@code FileLedger}).
   */
  public static String refreshAggregateGroupsSql(
      DatasetDefinition def, String schema, String groupsQuery) {
    return refreshAggregatesSql(def, schema, groupsQuery, true);
  }

  /**
   * The refresh, with each group's rows read on their own ({@code perGroup}) or all in one grouped
   * scan; {@code groupsQuery} null: every group.
   */
  private static String refreshAggregatesSql(
      DatasetDefinition def, String schema, String groupsQuery, boolean perGroup) {
    String q = Identifiers.quote(schema);
    String rows = q + "." + Identifiers.quote(def.name);
    // Per group: the rows (r) of the group (g) being refreshed.
    String sameGroup =
        " WHERE ("
            + String.join(", ", groupKey(def, "r."))
            + ") = ("
            + String.join(", ", groupKey(def, "g."))
            + ")";
    String agg = q + "." + Identifiers.quote(def.name + "_agg");
    String groups =
        def.aggregates.groupBy.stream()
            .map(Identifiers::quote)
            .collect(java.util.stream.Collectors.joining(", "));
    // How groups are matched: the columns, or NULL-safe expressions of them (groupKey).
    String match = String.join(", ", groupKey(def));
    String conflict =
        groupKey(def).stream()
            .map(e -> e.startsWith("\"") ? e : "(" + e + ")")
            .collect(java.util.stream.Collectors.joining(", "));
    List<String> names = new ArrayList<>();
    List<String> exprs = new ArrayList<>();
    names.add(Identifiers.quote(DatasetSchemas.ROW_COUNT));
    exprs.add("count(*)");
    // Per group, each percentile is picked from the index on (group key, measure): the value at
    // its nearest rank counted from the top, the row percentile_disc returns, read backwards
    // through the group's top entries instead of sorting all of them.
    List<String> percentiles = new ArrayList<>();
    percentiles.add(null);
    List<String> percentileMeasures = new ArrayList<>();
    for (Map.Entry<String, List<String>> m : def.aggregates.measures.entrySet()) {
      String col = Identifiers.quote(m.getKey());
      for (String fn : m.getValue()) {
        names.add(Identifiers.quote(DatasetSchemas.measureColumn(m.getKey(), fn)));
        exprs.add(measureSql(def, m.getKey(), col, fn));
        double rank = DatasetDefinition.percentileRank(fn);
        if (perGroup && rank > 0) {
          String n = "x." + nonNullCount(m.getKey());
          percentiles.add(
              "(SELECT r."
                  + col
                  + " FROM "
                  + rows
                  + " r"
                  + sameGroup
                  + " AND r."
                  + col
                  + " IS NOT NULL ORDER BY r."
                  + col
                  + " DESC OFFSET greatest("
                  + n
                  + " - greatest(ceil("
                  + rank
                  + "::float8 * "
                  + n
                  + "), 1)::bigint, 0) LIMIT 1)::double precision");
          if (!percentileMeasures.contains(m.getKey())) {
            percentileMeasures.add(m.getKey());
          }
        } else {
          percentiles.add(null);
        }
      }
    }
    boolean all = groupsQuery == null;
    StringBuilder sql = new StringBuilder("WITH ");
    if (!all) {
      sql.append("g AS (").append(groupsQuery).append("), ");
    }
    sql.append("fresh AS (");
    if (perGroup) {
      // Per group: an aggregate without GROUP BY over the group's rows (one row even when the
      // group has none left; those are dropped here and deleted below).
      sql.append("SELECT ")
          .append(
              def.aggregates.groupBy.stream()
                  .map(g -> "g." + Identifiers.quote(g))
                  .collect(java.util.stream.Collectors.joining(", ")))
          .append(", ")
          .append(
              java.util.stream.IntStream.range(0, names.size())
                  .mapToObj(i -> (percentiles.get(i) != null ? "y." : "x.") + names.get(i))
                  .collect(java.util.stream.Collectors.joining(", ")))
          .append(" FROM g CROSS JOIN LATERAL (SELECT ");
      // The percentiles are picked in a second step (y), from the non-null count of the first.
      List<String> picked = new ArrayList<>();
      boolean first = true;
      for (int i = 0; i < names.size(); i++) {
        if (percentiles.get(i) != null) {
          picked.add(percentiles.get(i) + " AS " + names.get(i));
          continue;
        }
        sql.append(first ? "" : ", ").append(exprs.get(i)).append(" AS ").append(names.get(i));
        first = false;
      }
      for (String measure : percentileMeasures) {
        sql.append(", count(")
            .append(Identifiers.quote(measure))
            .append(") AS ")
            .append(nonNullCount(measure));
      }
      sql.append(" FROM ").append(rows).append(" r").append(sameGroup).append(") x");
      if (!picked.isEmpty()) {
        sql.append(" CROSS JOIN LATERAL (SELECT ").append(String.join(", ", picked)).append(") y");
      }
      sql.append(" WHERE x.").append(Identifiers.quote(DatasetSchemas.ROW_COUNT)).append(" > 0");
    } else {
      sql.append("SELECT ").append(groups);
      for (int i = 0; i < names.size(); i++) {
        sql.append(", ").append(exprs.get(i)).append(" AS ").append(names.get(i));
      }
      sql.append(" FROM ").append(rows);
      if (!all) {
        sql.append(" WHERE (")
            .append(match)
            .append(") IN (SELECT ")
            .append(match)
            .append(" FROM g)");
      }
      sql.append(" GROUP BY ").append(groups);
    }
    sql.append("), gone AS (DELETE FROM ").append(agg).append(" WHERE ");
    if (!all) {
      sql.append("(").append(match).append(") IN (SELECT ").append(match).append(" FROM g) AND ");
    }
    sql.append("(")
        .append(match)
        .append(") NOT IN (SELECT ")
        .append(match)
        .append(" FROM fresh)) INSERT INTO ")
        .append(agg)
        .append(" AS t (")
        .append(groups)
        .append(", ")
        .append(String.join(", ", names))
        .append(") SELECT ")
        .append(groups)
        .append(", ")
        .append(String.join(", ", names))
        .append(" FROM fresh ON CONFLICT (")
        .append(conflict)
        .append(") DO UPDATE SET ");
    List<String> sets = new ArrayList<>();
    for (String n : names) {
      sets.add(n + " = EXCLUDED." + n);
    }
    sets.add("\"updated_at\" = now()");
    sql.append(String.join(", ", sets))
        .append(" WHERE (")
        .append(
            names.stream().map(n -> "t." + n).collect(java.util.stream.Collectors.joining(", ")))
        .append(") IS DISTINCT FROM (")
        .append(
            names.stream()
                .map(n -> "EXCLUDED." + n)
                .collect(java.util.stream.Collectors.joining(", ")))
        .append(")");
    return sql.toString();
  }

  /**
   * A missing lookup table: key column plus the looked-up columns, as text, so that a new
   * deployment has a table to fill. An existing table is used as it is.
   */
  static List<String> lookupTable(
      DatasetDefinition def, DatasetDefinition.Lookup l, String schema) {
    List<String> sql = new ArrayList<>();
    {
      String t = Identifiers.quote(schema) + "." + Identifiers.quote(l.table);
      StringBuilder ddl =
          new StringBuilder("CREATE TABLE IF NOT EXISTS ")
              .append(t)
              .append(" (")
              .append(Identifiers.quote(l.on))
              .append(" text")
              .append(l.asOf() ? "" : " PRIMARY KEY");
      for (String c : l.columns) {
        ddl.append(", ").append(Identifiers.quote(c)).append(" text");
      }
      if (l.asOf()) {
        // Versions of each value: valid from (inclusive) to (exclusive; NULL: still valid).
        ddl.append(", ").append(Identifiers.quote(l.validFrom)).append(" timestamptz NOT NULL");
        if (l.validTo != null) {
          ddl.append(", ").append(Identifiers.quote(l.validTo)).append(" timestamptz");
        }
        ddl.append(", PRIMARY KEY (")
            .append(Identifiers.quote(l.on))
            .append(", ")
            .append(Identifiers.quote(l.validFrom))
            .append(")");
      }
      sql.add(ddl.append(")").toString());
      sql.add(
          "COMMENT ON TABLE "
              + t
              + " IS "
              + TableSpec.literal(
                  l.description != null
                      ? l.description
                      : "Lookup for " + def.name + ", joined on " + l.on + "."));
    }
    return sql;
  }

  /** CREATE ... VIEW (and its comment) for one view of the definition. */
  private static List<String> view(
      DatasetDefinition def, DatasetDefinition.View v, String schema, String create) {
    List<String> sql = new ArrayList<>();
    String q = Identifiers.quote(schema);
    String name = q + "." + Identifiers.quote(v.name);
    String body =
        v.sql
            .replace("${rows}", q + "." + Identifiers.quote(def.name))
            .replace("${agg}", q + "." + Identifiers.quote(def.name + "_agg"))
            .replace("${rejects}", q + "." + Identifiers.quote(def.name + "_rejects"))
            .replace("${schema}", q);
    sql.add(create + name + " AS " + body);
    if (v.description != null) {
      sql.add("COMMENT ON VIEW " + name + " IS " + TableSpec.literal(v.description));
    }
    return sql;
  }

  /**
   * Indexes on the rows table for what dashboards filter and group by: each partition column, and
   * the aggregate group columns together.
   */
  static List<String> rowIndexes(DatasetDefinition def, String schema) {
    List<List<String>> indexes = new ArrayList<>();
    for (DatasetDefinition.Partition p : def.partitions) {
      indexes.add(List.of(p.name));
    }
    if (def.aggregates != null && !indexes.contains(def.aggregates.groupBy)) {
      indexes.add(def.aggregates.groupBy);
    }
    // Per-file bookkeeping (ledger counts, re-ingest, watch-mode refresh and Parquet export).
    indexes.add(List.of(DatasetDefinition.SOURCE_FILE));
    List<List<String>> keys = new ArrayList<>();
    for (List<String> cols : indexes) {
      keys.add(
          isGroupIndex(def, cols)
              ? groupKey(def)
              : cols.stream()
                  .map(Identifiers::quote)
                  .collect(java.util.stream.Collectors.toList()));
    }
    List<String> sql = new ArrayList<>();
    for (int i = 0; i < indexes.size(); i++) {
      List<String> cols = indexes.get(i);
      if (def.key.equals(cols) || leadsAnother(keys, i)) {
        // The key has the primary key's index; an index whose columns lead another index (a
        // partition column that the aggregate groups start with) is served by that one, and
        // every row would pay for a second one.
        continue;
      }
      // The group index holds the NULL-safe group expressions that the aggregate refresh matches.
      boolean groups = isGroupIndex(def, cols) && hasNullableGroups(def);
      String name = def.name + "_by_" + String.join("_", cols) + (groups ? "_groups" : "");
      if (name.length() > 63) {
        name = def.name.substring(0, Math.min(def.name.length(), 55)) + "_idx" + i;
      }
      sql.add(
          "CREATE INDEX IF NOT EXISTS "
              + Identifiers.quote(name)
              + " ON "
              + Identifiers.quote(schema)
              + "."
              + Identifiers.quote(def.name)
              + " ("
              + String.join(", ", keys.get(i))
              + ")");
    }
    return sql;
  }

  /**
   * The names of the indexes that hold each percentile measure in group order ({@link
   * #percentileIndexes}), one per measure with a percentile.
   */
  public static List<String> percentileIndexNames(DatasetDefinition def) {
    List<String> names = new ArrayList<>();
    if (def.aggregates == null) {
      return names;
    }
    for (Map.Entry<String, List<String>> m : def.aggregates.measures.entrySet()) {
      if (m.getValue().stream().anyMatch(fn -> DatasetDefinition.percentileRank(fn) > 0)) {
        String name = def.name + "_" + m.getKey() + "_in_groups";
        if (name.length() > 63) {
          name = def.name.substring(0, Math.min(def.name.length(), 50)) + "_pctl" + names.size();
        }
        names.add(name);
      }
    }
    return names;
  }

  /**
   * Indexes on (the group key, a percentile measure) of the rows table: with them, a watch's
   * refresh of the groups a closed file touched reads each group's entries in the index instead of
   * its rows, and finds its exact percentile by skipping to its rank from the top ({@link
   * #refreshAggregateGroupsSql}). Created when a watch starts: maintaining them during a backfill's
   * load costs more than the one refresh after it saves (docs/performance.md).
   */
  public static List<String> percentileIndexes(DatasetDefinition def, String schema) {
    List<String> sql = new ArrayList<>();
    List<String> names = percentileIndexNames(def);
    int n = 0;
    for (Map.Entry<String, List<String>> m : def.aggregates.measures.entrySet()) {
      if (m.getValue().stream().noneMatch(fn -> DatasetDefinition.percentileRank(fn) > 0)) {
        continue;
      }
      List<String> key = new ArrayList<>(groupKey(def));
      key.add(Identifiers.quote(m.getKey()));
      sql.add(
          "CREATE INDEX IF NOT EXISTS "
              + Identifiers.quote(names.get(n++))
              + " ON "
              + Identifiers.quote(schema)
              + "."
              + Identifiers.quote(def.name)
              + " ("
              + String.join(", ", key)
              + ")");
    }
    return sql;
  }
}
