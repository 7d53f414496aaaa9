package dev.landfall.io.postgres;

import dev.landfall.transforms.RowTask;
import dev.landfall.transforms.RunRowTasks;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotent, COPY-speed writer of rows into one PostgreSQL table. Rows are buffered per bundle, at
 * most {@code batchSize} at a time (no extra shuffle); each batch is one transaction. A thread of
 * the writer's own sends one batch while the rows of the next are collected, so that PostgreSQL's
 * work on a batch overlaps the pipeline's work on the next; a bundle ends only once its last batch
 * is committed.
 *
 * <p>A batch is first streamed with {@code COPY ... FROM STDIN} straight into the table, in the
 * binary format ({@link CopyBinary}: PostgreSQL parses no timestamps or decimals). When none of its
 * keys is there yet (a backfill, new files) that is the whole cost, the same as a plain {@code
 * COPY}. When a key is already there (a re-run, a retried batch, a late duplicate) the primary key
 * stops that COPY, the transaction is rolled back, and the batch goes the safe way: {@code COPY}
 * into a session-local staging table and {@code INSERT ... ON CONFLICT} into the target ({@link
 * TableSpec#mergeSql()}), which on its own costs about 2.4 times a plain COPY on the benchmark
 * machine. After such a conflict the writer merges the next {@value #MERGE_AFTER_CONFLICT} batches
 * directly, so a re-run does not start and abort a COPY per batch. Either way the table ends as one
 * run would leave it. Connection losses and serialization failures are retried with backoff. Emits,
 * after each committed batch, the number of rows it wrote per {@code source_file} (key "" for
 * tables without that column), so the caller can tell when a file's rows are all stored.
 */
public class WriteToPostgres extends PTransform<PCollection<Row>, PCollection<KV<String, Long>>> {
  /** Batches merged through the staging table after a direct COPY met an existing key. */
  static final int MERGE_AFTER_CONFLICT = 64;

  private static final String UNIQUE_VIOLATION = "23505";

  private final Database db;
  private final TableSpec spec;
  private final int batchSize;

  /**
   * @param batchSize the most rows one transaction carries
   */
  public WriteToPostgres(Database db, TableSpec spec, int batchSize) {
    this.db = db;
    this.spec = spec;
    this.batchSize = batchSize;
  }

  @Override
  public PCollection<KV<String, Long>> expand(PCollection<Row> rows) {
    return rows.apply("CopyAndMerge", RunRowTasks.single(storedCoder(), asTask()));
  }

  /**
   * The same work as a task, to run with others over the same rows ({@link RunRowTasks}); its
   * output is this transform's, with {@link #storedCoder()}.
   */
  public RowTask<KV<String, Long>> asTask() {
    return new CopyMergeTask(db, spec, batchSize);
  }

  /** The coder of the {@code (source_file, rows stored)} counts this step emits. */
  public static KvCoder<String, Long> storedCoder() {
    return KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
  }

  static class CopyMergeTask extends RowTask<KV<String, Long>> {
    private static final Logger LOG = LoggerFactory.getLogger(WriteToPostgres.class);
    private static final String SOURCE_FILE =
        dev.landfall.transforms.definition.DatasetDefinition.SOURCE_FILE;

    private final Database db;
    private final TableSpec spec;
    private final int batchSize;
    private final Counter written;
    private final Counter copiedBatches;
    private final Counter mergedBatches;
    private transient int mergeOnly;
    private transient CopyBinary.Kind[] kinds;

    /** The batch being encoded, and the one being written (reused in turn). */
    private transient CopyBinary.Buffer filling;

    private transient CopyBinary.Buffer sent;
    private transient Connection connection;
    private transient List<Row> batch;
    private transient long writtenHere;
    private transient long lastLogNanos;

    /** Writes one batch at a time while this task fills the next (owns the connection). */
    private transient ExecutorService writer;

    /** The batch being written, if any: whether it was copied (true) or merged. */
    private transient Future<Boolean> inFlight;

    private transient List<KV<String, Long>> inFlightCounts;
    private transient long inFlightRows;

    CopyMergeTask(Database db, TableSpec spec, int batchSize) {
      this.db = db;
      this.spec = spec;
      this.batchSize = batchSize;
      this.written = Metrics.counter(WriteToPostgres.class, "rows-written-" + spec.table);
      this.copiedBatches = Metrics.counter(WriteToPostgres.class, "batches-copied-" + spec.table);
      this.mergedBatches = Metrics.counter(WriteToPostgres.class, "batches-merged-" + spec.table);
    }

    @Override
    public void setup() {
      writer =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "landfall-copy-" + spec.table);
                t.setDaemon(true);
                return t;
              });
    }

    @Override
    public void startBundle() {
      batch = new ArrayList<>();
    }

    @Override
    public void process(Row row, Output<KV<String, Long>> out) throws Exception {
      batch.add(row);
      if (batch.size() >= batchSize) {
        for (KV<String, Long> kv : flush()) {
          out.output(kv);
        }
      }
    }

    @Override
    public void finishBundle(Output<KV<String, Long>> out) throws Exception {
      List<KV<String, Long>> stored = new ArrayList<>();
      if (!batch.isEmpty()) {
        stored.addAll(flush());
      }
      stored.addAll(awaitInFlight());
      for (KV<String, Long> kv : stored) {
        out.output(kv);
      }
    }

    @Override
    public void teardown() throws InterruptedException {
      if (writer != null) {
        writer.shutdownNow(); // a failed bundle: a batch still being written is abandoned
        writer.awaitTermination(60, TimeUnit.SECONDS);
        writer = null;
      }
      closeQuietly();
    }

    /**
     * Hands the batch to the writer thread, after the previous batch is committed; returns the row
     * counts per source file of that previous batch (nothing if there was none).
     */
    private List<KV<String, Long>> flush() throws Exception {
      if (kinds == null) {
        kinds = CopyBinary.kinds(spec);
        filling = new CopyBinary.Buffer(batchSize * 160 + 32);
        sent = new CopyBinary.Buffer(batchSize * 160 + 32);
      }
      CopyBinary.encode(batch, kinds, filling);
      long n = batch.size();
      Map<String, Long> perFile = new HashMap<>();
      int fileField =
          batch.get(0).getSchema().hasField(SOURCE_FILE)
              ? batch.get(0).getSchema().indexOf(SOURCE_FILE)
              : -1;
      for (Row r : batch) {
        perFile.merge(fileField < 0 ? "" : r.getString(fileField), 1L, Long::sum);
      }
      batch.clear();
      List<KV<String, Long>> done = awaitInFlight();
      // The previous batch is written: its buffer is the one to fill next.
      CopyBinary.Buffer data = filling;
      filling = sent;
      sent = data;
      inFlightCounts = new ArrayList<>(perFile.size());
      perFile.forEach((file, count) -> inFlightCounts.add(KV.of(file, count)));
      inFlightRows = n;
      inFlight = writer.submit(() -> writeWithRetries(data.array(), data.length(), n));
      return done;
    }

    /** Waits for the batch being written; counts it and returns its row counts per file. */
    private List<KV<String, Long>> awaitInFlight() throws Exception {
      if (inFlight == null) {
        return List.of();
      }
      boolean copied;
      try {
        copied = inFlight.get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
      } finally {
        inFlight = null;
      }
      (copied ? copiedBatches : mergedBatches).inc();
      written.inc(inFlightRows);
      writtenHere += inFlightRows;
      if (System.nanoTime() - lastLogNanos > 10_000_000_000L) {
        lastLogNanos = System.nanoTime();
        LOG.info("{}: {} rows written by this writer so far", spec.qualifiedName(), writtenHere);
      }
      return inFlightCounts;
    }

    /** Writes one batch in one transaction, retrying transient failures; true if copied. */
    private boolean writeWithRetries(byte[] data, int length, long n) throws SQLException {
      try {
        return db.retry()
            .run(
                "writing to " + spec.qualifiedName(),
                () -> {
                  try {
                    return writeBatch(data, length);
                  } catch (SQLException e) {
                    closeQuietly();
                    throw e;
                  }
                },
                Database::isTransientFailure,
                Database::reason);
      } catch (SQLException e) {
        throw new SQLException(
            "writing " + n + " rows to " + spec.qualifiedName() + " failed: " + e.getMessage(),
            e.getSQLState(),
            e);
      }
    }

    private boolean writeBatch(byte[] data, int length) throws SQLException {
      if (connection == null || connection.isClosed()) {
        connection = db.connect();
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
          s.execute(spec.createStageSql());
        }
        connection.commit();
      }
      try {
        if (mergeOnly > 0) {
          mergeOnly--;
        } else {
          try {
            copy(spec.directCopySql(), data, length);
            connection.commit();
            return true;
          } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
              throw e;
            }
            // Some key is stored already: this batch (and the next few) go through the merge.
            connection.rollback();
            mergeOnly = MERGE_AFTER_CONFLICT;
          }
        }
        copy(spec.copySql(), data, length);
        try (Statement s = connection.createStatement()) {
          s.executeUpdate(spec.mergeSql());
        }
        connection.commit();
        return false;
      } catch (SQLException e) {
        try {
          connection.rollback();
        } catch (SQLException ignored) {
          // The connection is dropped by the caller; the original error is what matters.
        }
        throw e;
      }
    }

    private void copy(String sql, byte[] data, int length) throws SQLException {
      CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
      try {
        copy.writeToCopy(data, 0, length);
        copy.endCopy();
      } finally {
        if (copy.isActive()) {
          copy.cancelCopy();
        }
      }
    }

    private void closeQuietly() {
      if (connection != null) {
        try {
          connection.close();
        } catch (SQLException e) {
          LOG.debug("closing connection failed", e);
        }
        connection = null;
      }
    }
  }
}
