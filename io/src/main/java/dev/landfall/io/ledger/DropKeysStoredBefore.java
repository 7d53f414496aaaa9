package dev.landfall.io.ledger;

import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.postgres.SqlText;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * In a backfill that follows earlier runs: drops the clean rows whose key the rows table already
 * holds from a file an earlier run read, as the ledger ({@link FileLedger#TABLE}) records them (any
 * status but {@code processing}); in the ledger's package because it is a question about the
 * ledger's state. PostgreSQL keeps the first row stored per key, so without this step the Parquet
 * files of a later run would hold a second row for such a key. The rows dropped are counted as
 * duplicates, as the ledger counts them. Rows keep their order, so the rows of one input file stay
 * together for the per-file Parquet writer.
 *
 * <p>One query per 1000 rows looks their keys up (through the primary key index); a first backfill,
 * with nothing stored before, does not use this step.
 */
public class DropKeysStoredBefore extends PTransform<PCollection<Row>, PCollection<Row>> {
  private static final int BATCH = 1000;
  private final Database db;
  private final DatasetDefinition def;
  private final String schema;

  /** Drops the rows whose key the rows table of {@code tables} holds from an earlier run. */
  public DropKeysStoredBefore(Database db, DatasetTables tables) {
    this.db = db;
    this.def = tables.definition();
    this.schema = tables.schema();
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    return rows.apply("LookUpKeysStoredBefore", ParDo.of(new DropFn(db, def, schema)))
        .setCoder(rows.getCoder());
  }

  /**
   * {@code SELECT} of the positions (1-based) of the keys in the bound arrays (one text array per
   * key column) that the rows table holds from a file that is not being read now.
   */
  static String lookupSql(DatasetDefinition def, String schema) {
    String q = Identifiers.quote(schema);
    List<String> params = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<String> match = new ArrayList<>();
    for (int i = 0; i < def.key.size(); i++) {
      String k = def.key.get(i);
      params.add("?::text[]");
      names.add("c" + i);
      match.add(
          "r."
              + Identifiers.quote(k)
              + " = k.c"
              + i
              + "::"
              + PostgresTables.sqlType(def.typeOf(k)));
    }
    return "SELECT k.i FROM unnest("
        + String.join(", ", params)
        + ") WITH ORDINALITY AS k("
        + String.join(", ", names)
        + ", i) WHERE EXISTS (SELECT 1 FROM "
        + q
        + "."
        + Identifiers.quote(def.name)
        + " r JOIN "
        + q
        + "."
        + Identifiers.quote(FileLedger.TABLE)
        + " f ON f.dataset = ? AND f.path = r.source_file AND f.status <> 'processing' WHERE "
        + String.join(" AND ", match)
        + ")";
  }

  static class DropFn extends DoFn<Row, Row> {
    private final Counter valid = Metrics.counter(DropKeysStoredBefore.class, "rows-valid");
    private final Counter duplicate = Metrics.counter(DropKeysStoredBefore.class, "rows-duplicate");
    private final Database db;
    private final DatasetDefinition def;
    private final String schema;
    private transient String sql;
    private transient int[] keyIndexes;
    private transient List<Row> rows;
    private transient List<Instant> timestamps;

    /** Kept open between batches; on a failure, the batch is retried on fresh connections. */
    private transient Connection connection;

    DropFn(Database db, DatasetDefinition def, String schema) {
      this.db = db;
      this.def = def;
      this.schema = schema;
    }

    @Setup
    public void setup() {
      sql = lookupSql(def, schema);
    }

    @StartBundle
    public void startBundle() {
      rows = new ArrayList<>(BATCH);
      timestamps = new ArrayList<>(BATCH);
    }

    @ProcessElement
    public void process(
        @Element Row row,
        @Timestamp Instant timestamp,
        BoundedWindow window,
        OutputReceiver<Row> out)
        throws Exception {
      if (keyIndexes == null) {
        keyIndexes = new int[def.key.size()];
        for (int i = 0; i < keyIndexes.length; i++) {
          keyIndexes[i] = row.getSchema().indexOf(def.key.get(i));
        }
      }
      rows.add(row);
      timestamps.add(timestamp);
      if (rows.size() >= BATCH) {
        // A backfill's rows are all in the global window: emitting them here keeps their order.
        BitSet stored = storedBefore(rows);
        for (int i = 0; i < rows.size(); i++) {
          if (!stored.get(i)) {
            out.outputWithTimestamp(rows.get(i), timestamps.get(i));
          }
        }
        rows.clear();
        timestamps.clear();
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws Exception {
      if (rows.isEmpty()) {
        return;
      }
      BitSet stored = storedBefore(rows);
      for (int i = 0; i < rows.size(); i++) {
        if (!stored.get(i)) {
          context.output(
              rows.get(i),
              timestamps.get(i),
              org.apache.beam.sdk.transforms.windowing.GlobalWindow.INSTANCE);
        }
      }
      rows.clear();
      timestamps.clear();
    }

    @Teardown
    public void teardown() throws SQLException {
      Connection c = connection;
      connection = null;
      if (c != null) {
        c.close();
      }
    }

    /** The positions in {@code batch} of the rows whose key was stored by an earlier run. */
    private BitSet storedBefore(List<Row> batch) throws SQLException, java.io.IOException {
      BitSet stored;
      try {
        if (connection == null) {
          connection = db.connect();
        }
        stored = lookUp(connection, batch);
      } catch (SQLException e) {
        // The kept connection may be broken: drop it (a failure to close it changes nothing) and
        // run the batch with Database's retries, which report what keeps failing.
        try {
          teardown();
        } catch (SQLException closing) {
          e.addSuppressed(closing);
        }
        stored = db.retrying("looking up keys stored by earlier runs", c -> lookUp(c, batch));
      }
      int n = stored.cardinality();
      if (n > 0) {
        valid.dec(n);
        duplicate.inc(n);
      }
      return stored;
    }

    private BitSet lookUp(Connection c, List<Row> batch) throws SQLException {
      BitSet stored = new BitSet(batch.size());
      try (PreparedStatement s = c.prepareStatement(sql)) {
        for (int k = 0; k < keyIndexes.length; k++) {
          String[] values = new String[batch.size()];
          for (int i = 0; i < values.length; i++) {
            values[i] = SqlText.sqlText(batch.get(i).getValue(keyIndexes[k]));
          }
          Array array = c.createArrayOf("text", values);
          s.setArray(k + 1, array);
        }
        s.setString(keyIndexes.length + 1, def.name);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            stored.set(r.getInt(1) - 1);
          }
        }
      }
      return stored;
    }
  }
}
