package dev.landfall.io.postgres;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import dev.landfall.transforms.values.DatasetSchemas;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills the lookup columns of clean rows from the definition's dimension tables in PostgreSQL (e.g.
 * billing's {@code accounts}: account name, team and cost centre by {@code account_id}). A value
 * not in the table keeps null attributes and is counted ({@code rows-lookup-missing}), never
 * rejected.
 *
 * <p>A lookup with {@code validFrom} (and {@code validTo}) is a slowly changing dimension of type
 * 2: the table holds versions of each value, and a row takes the version valid at its {@code
 * eventTime} (from inclusive, to exclusive; a NULL end: still valid), or none (counted as missing).
 *
 * <p>Each lookup table is read whole into memory (dimension tables are small) once per JVM and read
 * again when older than {@code refresh}, at the start of the next bundle, so a watch run follows a
 * slowly changing dimension without a restart. A backfill reads it once.
 */
public class EnrichFromLookups extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final Database db;
  private final DatasetDefinition def;
  private final String schema;
  private final long refreshMillis;

  /** Joins the lookups of {@code tables}' definition, read again every {@code refreshMillis}. */
  public EnrichFromLookups(Database db, DatasetTables tables, long refreshMillis) {
    this.db = db;
    this.def = tables.definition();
    this.schema = tables.schema();
    this.refreshMillis = refreshMillis;
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    return rows.apply("JoinLookups", ParDo.of(new EnrichFn(db, def, schema, refreshMillis)))
        .setCoder(DatasetSchemas.cleanCoder(def));
  }

  /**
   * One loaded lookup table: values of its columns by key (for a dimension with versions, the
   * versions of each key, by start), and when it was read.
   */
  static final class Loaded {
    final Map<String, String[]> byKey;
    final Map<String, Version[]> versions;
    final long loadedAt;

    Loaded(Map<String, String[]> byKey, Map<String, Version[]> versions, long loadedAt) {
      this.byKey = byKey;
      this.versions = versions;
      this.loadedAt = loadedAt;
    }

    /** The values of {@code key}: its only ones, or those of its version valid at {@code at}. */
    String[] get(String key, Long at) {
      if (versions == null) {
        return byKey.get(key);
      }
      Version[] vs = versions.get(key);
      if (vs == null || at == null) {
        return null;
      }
      // The last version starting at or before the event; it must not have ended by then.
      int lo = 0;
      int hi = vs.length - 1;
      int found = -1;
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        if (vs[mid].from <= at) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return found >= 0 && at < vs[found].to ? vs[found].values : null;
    }
  }

  /** One version of a dimension value: valid from {@code from} to {@code to} (epoch micros). */
  static final class Version {
    final long from;
    final long to;
    final String[] values;

    Version(long from, long to, String[] values) {
      this.from = from;
      this.to = to;
      this.values = values;
    }
  }

  /** A row's event time in epoch microseconds (a date: its start, UTC), or null. */
  static Long eventMicros(Object v) {
    if (v instanceof java.time.Instant) {
      java.time.Instant t = (java.time.Instant) v;
      return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
    }
    if (v instanceof java.time.LocalDate) {
      return ((java.time.LocalDate) v).toEpochDay() * 86_400_000_000L;
    }
    return null;
  }

  /** Shared by all instances in a JVM, per (database, schema, table). */
  private static final Map<String, Loaded> CACHE = new ConcurrentHashMap<>();

  static class EnrichFn extends DoFn<Row, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(EnrichFromLookups.class);
    private final Counter missing = Metrics.counter(EnrichFromLookups.class, "rows-lookup-missing");
    private final Counter reloads = Metrics.counter(EnrichFromLookups.class, "lookup-reloads");
    private final Database db;
    private final DatasetDefinition def;
    private final String schema;
    private final long refreshMillis;
    private transient Loaded[] current;
    private transient Schema clean;
    private transient int[] onIndex;
    private transient int eventIndex;

    EnrichFn(Database db, DatasetDefinition def, String schema, long refreshMillis) {
      this.db = db;
      this.def = def;
      this.schema = schema;
      this.refreshMillis = refreshMillis;
    }

    @Setup
    public void setup() {
      clean = DatasetSchemas.clean(def);
      onIndex = new int[def.lookups.size()];
      for (int i = 0; i < onIndex.length; i++) {
        onIndex[i] = clean.indexOf(def.lookups.get(i).on);
      }
      current = new Loaded[def.lookups.size()];
      eventIndex = def.eventTime == null ? -1 : clean.indexOf(def.eventTime);
    }

    @StartBundle
    public void startBundle() throws Exception {
      for (int i = 0; i < current.length; i++) {
        current[i] = load(def.lookups.get(i));
      }
    }

    private Loaded load(DatasetDefinition.Lookup l) throws Exception {
      String cacheKey = db.jdbcUrl() + "|" + schema + "|" + l.table;
      Loaded known = CACHE.get(cacheKey);
      long now = System.currentTimeMillis();
      if (known != null && now - known.loadedAt < refreshMillis) {
        return known;
      }
      synchronized (CACHE) {
        known = CACHE.get(cacheKey);
        if (known != null && now - known.loadedAt < refreshMillis) {
          return known;
        }
        String sql = lookupSql(l);
        Map<String, List<Version>> byVersion = new HashMap<>();
        Map<String, String[]> byKey =
            db.retrying("reading lookup table " + l.table, c -> readLookup(c, l, sql, byVersion));
        Map<String, Version[]> versions = null;
        if (l.asOf()) {
          versions = sortedVersions(byVersion);
        }
        Loaded fresh = new Loaded(byKey, versions, System.currentTimeMillis());
        CACHE.put(cacheKey, fresh);
        reloads.inc();
        LOG.info(
            "lookup table {}.{}: {} entries loaded",
            schema,
            l.table,
            versions != null
                ? byVersion.values().stream().mapToInt(List::size).sum()
                : byKey.size());
        return fresh;
      }
    }

    /**
     * The query of a lookup table: its key and its columns as text, then (for a dimension with
     * versions) the start and end of each version's validity in epoch microseconds.
     */
    private String lookupSql(DatasetDefinition.Lookup l) {
      StringBuilder sql =
          new StringBuilder("SELECT ").append(Identifiers.quote(l.on)).append("::text");
      for (String c : l.columns) {
        sql.append(", ").append(Identifiers.quote(c)).append("::text");
      }
      if (l.asOf()) {
        // Validity as epoch microseconds (timestamptz; a date or a timestamp without time
        // zone counts as UTC).
        sql.append(", (extract(epoch FROM ")
            .append(Identifiers.quote(l.validFrom))
            .append(") * 1000000)::bigint, ")
            .append(
                l.validTo == null
                    ? "NULL::bigint"
                    : "(extract(epoch FROM "
                        + Identifiers.quote(l.validTo)
                        + ") * 1000000)::bigint");
      }
      sql.append(" FROM ")
          .append(Identifiers.quote(schema))
          .append('.')
          .append(Identifiers.quote(l.table));
      return sql.toString();
    }

    /**
     * Reads a lookup table ({@code sql}) on {@code c}, one attempt of {@link Database#retrying}:
     * returns the values by key; for a dimension with versions, returns an empty map and puts the
     * versions of each key into {@code byVersion} (emptied first; a missing start or end is
     * unbounded).
     */
    private static Map<String, String[]> readLookup(
        Connection c, DatasetDefinition.Lookup l, String sql, Map<String, List<Version>> byVersion)
        throws SQLException {
      int n = l.columns.size();
      Map<String, String[]> m = new HashMap<>();
      byVersion.clear();
      try (PreparedStatement s = c.prepareStatement(sql);
          ResultSet r = s.executeQuery()) {
        while (r.next()) {
          String[] values = new String[n];
          for (int i = 0; i < values.length; i++) {
            values[i] = r.getString(i + 2);
          }
          if (!l.asOf()) {
            m.put(r.getString(1), values);
            continue;
          }
          long from = r.getLong(n + 2);
          from = r.wasNull() ? Long.MIN_VALUE : from;
          long to = r.getLong(n + 3);
          to = r.wasNull() ? Long.MAX_VALUE : to;
          byVersion
              .computeIfAbsent(r.getString(1), k -> new java.util.ArrayList<>())
              .add(new Version(from, to, values));
        }
      }
      return m;
    }

    /** The versions of each key as an array sorted by start. */
    private static Map<String, Version[]> sortedVersions(Map<String, List<Version>> byVersion) {
      Map<String, Version[]> versions = new HashMap<>();
      for (Map.Entry<String, List<Version>> e : byVersion.entrySet()) {
        Version[] vs = e.getValue().toArray(new Version[0]);
        java.util.Arrays.sort(vs, java.util.Comparator.comparingLong(v -> v.from));
        versions.put(e.getKey(), vs);
      }
      return versions;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      Row.FieldValueBuilder b = null;
      for (int i = 0; i < current.length; i++) {
        DatasetDefinition.Lookup l = def.lookups.get(i);
        Object on = row.getValue(onIndex[i]);
        String[] values =
            on == null
                ? null
                : current[i].get(
                    on.toString(), l.asOf() ? eventMicros(row.getValue(eventIndex)) : null);
        if (values == null) {
          missing.inc();
          continue;
        }
        if (b == null) {
          b = Row.fromRow(row);
        }
        List<String> cols = l.columns;
        for (int c = 0; c < cols.size(); c++) {
          b = b.withFieldValue(cols.get(c), values[c]);
        }
      }
      out.output(b == null ? row : b.build());
    }
  }
}
