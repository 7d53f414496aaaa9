package dev.landfall.io.postgres;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import dev.landfall.transforms.values.DatasetSchemas;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
 * Fills the lookup columns of clean rows from the definition's dimension tables in PostgreSQL
 * (e.g. billing's {@code accounts}: account name, team and cost centre by {@code account_id}). A
 * value not in the table keeps null attributes and is counted ({@code rows-lookup-missing}), never
 * rejected.
 *
 * <p>Each lookup table is read whole into memory (dimension tables are small) once per JVM and
 * read again when older than {@code refresh}, at the start of the next bundle, so a watch run
 * follows a slowly changing dimension without a restart. A backfill reads it once.
 */
public class EnrichFromLookups extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final Database db;
  private final DatasetDefinition def;
  private final String schema;
  private final long refreshMillis;

  public EnrichFromLookups(Database db, DatasetDefinition def, String schema, long refreshMillis) {
    this.db = db;
    this.def = def;
    this.schema = Identifiers.check("--dbSchema", schema);
    this.refreshMillis = refreshMillis;
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    return rows.apply("JoinLookups", ParDo.of(new EnrichFn(db, def, schema, refreshMillis)))
        .setCoder(DatasetSchemas.cleanCoder(def));
  }

  /** One loaded lookup table: values of its columns by key, and when it was read. */
  static final class Loaded {
    final Map<String, String[]> byKey;
    final long loadedAt;

    Loaded(Map<String, String[]> byKey, long loadedAt) {
      this.byKey = byKey;
      this.loadedAt = loadedAt;
    }
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
        StringBuilder sql = new StringBuilder("SELECT ").append(Identifiers.quote(l.on))
            .append("::text");
        for (String c : l.columns) {
          sql.append(", ").append(Identifiers.quote(c)).append("::text");
        }
        sql.append(" FROM ").append(Identifiers.quote(schema)).append('.')
            .append(Identifiers.quote(l.table));
        Map<String, String[]> byKey = db.retrying("reading lookup table " + l.table, c -> {
          Map<String, String[]> m = new HashMap<>();
          try (PreparedStatement s = c.prepareStatement(sql.toString());
              ResultSet r = s.executeQuery()) {
            while (r.next()) {
              String[] values = new String[l.columns.size()];
              for (int i = 0; i < values.length; i++) {
                values[i] = r.getString(i + 2);
              }
              m.put(r.getString(1), values);
            }
          }
          return m;
        });
        Loaded fresh = new Loaded(byKey, System.currentTimeMillis());
        CACHE.put(cacheKey, fresh);
        reloads.inc();
        LOG.info("lookup table {}.{}: {} entries loaded", schema, l.table, byKey.size());
        return fresh;
      }
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      Row.FieldValueBuilder b = null;
      for (int i = 0; i < current.length; i++) {
        DatasetDefinition.Lookup l = def.lookups.get(i);
        Object on = row.getValue(onIndex[i]);
        String[] values = on == null ? null : current[i].byKey.get(on.toString());
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
