package dev.landfall.io.parquet;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetColumns;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import dev.landfall.transforms.values.DatasetSchemas;
import java.io.IOException;
import java.io.Serializable;
import java.nio.channels.WritableByteChannel;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MoveOptions.StandardMoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.values.Row;

/**
 * Writes the Parquet file of input files from the rows they contributed to the rows table: the
 * watch-mode Parquet output (files closed together share one file per partition folder). PostgreSQL
 * is the authority on which row won a key, so the file holds exactly the input file's rows that are
 * stored, is named as in a backfill ({@link WriteParquetPartitions#fileName}), is written under a
 * temporary name and renamed (readers never see it half-written), and re-writing it after a restart
 * gives the same file. A {@code _SUCCESS} marker is (re)written in its partition folder.
 */
public final class ExportFileToParquet implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Database db;
  private final DatasetDefinition def;
  private final String schema;
  private final String output;
  private final ParquetCompaction compaction;
  private final int rowGroupBytes;

  /**
   * Exports from the rows table of {@code tables} to the dataset folder under {@code output},
   * keeping each partition folder compacted with {@code compaction}.
   */
  public ExportFileToParquet(
      Database db,
      DatasetTables tables,
      String output,
      ParquetCompaction compaction,
      int rowGroupBytes) {
    this.db = db;
    this.def = tables.definition();
    this.schema = tables.schema();
    this.output = output;
    this.compaction = compaction;
    this.rowGroupBytes = rowGroupBytes;
  }

  /** Writes the file's Parquet; returns the number of rows written (0: no file). */
  public long export(String sourceFile) throws IOException, SQLException {
    return exportAll(List.of(sourceFile));
  }

  /**
   * Writes the Parquet of files closed together: per partition folder, one file holding the rows of
   * all of them that went there (a {@code part-*} file, named as a backfill names it, when it holds
   * one input file; else a merged file {@code compact-<hash>.parquet} with its member list, {@link
   * ParquetCompaction}), then the folder's compaction and {@code _SUCCESS} once. Files are read one
   * by one, in path order, each in line order. Returns the number of rows written.
   */
  public long exportAll(List<String> sourceFiles) throws IOException, SQLException {
    org.apache.beam.sdk.schemas.Schema clean = DatasetSchemas.clean(def);
    List<String> names = clean.getFieldNames();
    String sql = selectSql(names);
    List<DatasetColumns.Column> columns = DatasetColumns.of(def);
    boolean[] lists = new boolean[columns.size()];
    ColumnType[] types = new ColumnType[columns.size()];
    for (DatasetColumns.Column c : columns) {
      lists[c.index] = c.list;
      types[c.index] = c.type;
    }
    List<String> sorted = new java.util.ArrayList<>(sourceFiles);
    java.util.Collections.sort(sorted); // a partition's files together: one open file at a time
    String what = sorted.size() == 1 ? sorted.get(0) : sorted.size() + " files";
    return db.retrying(
        "exporting the rows of " + what + " to Parquet",
        c -> {
          long[] rows = {0};
          Batch batch = null;
          try {
            for (String sourceFile : sorted) {
              batch = exportRows(c, sql, sourceFile, clean, types, lists, batch, rows);
            }
            if (batch != null) {
              rows[0] += batch.finish();
            }
            return rows[0];
          } catch (IOException | SQLException | RuntimeException e) {
            if (batch != null) {
              batch.abandon();
            }
            throw e;
          }
        });
  }

  /**
   * The file being written into one partition folder for the files of a batch: its sink, its
   * temporary name and the input files it holds.
   */
  private final class Batch {
    final ResourceId folder;
    final ResourceId tmp;
    final RowParquetSink sink;
    final List<String> sourceFiles = new java.util.ArrayList<>();
    long rows;

    Batch(ResourceId folder) throws IOException {
      this.folder = folder;
      this.tmp = ParquetCompaction.temporaryFile(folder);
      this.sink = openSink(tmp);
    }

    /**
     * Flushes the file and renames it into place (with a member list when it holds several input
     * files), lets the compaction see the folder, then (re)writes the folder's empty {@code
     * _SUCCESS} marker. Returns its row count.
     */
    long finish() throws IOException {
      sink.flush();
      if (sourceFiles.size() == 1) {
        ResourceId target =
            folder.resolve(
                WriteParquetPartitions.fileName(sourceFiles.get(0)),
                StandardResolveOptions.RESOLVE_FILE);
        FileSystems.rename(List.of(tmp), List.of(target), StandardMoveOptions.IGNORE_MISSING_FILES);
      } else {
        java.util.Set<String> members = new java.util.TreeSet<>();
        for (String f : sourceFiles) {
          members.add(WriteParquetPartitions.fileName(f));
        }
        ParquetCompaction.publishMerged(folder, tmp, members);
      }
      // A merged (compacted) file may still hold these input files' earlier rows; and with
      // --compactAfterFiles the folder's small files are merged once there are enough.
      compaction.afterWrite(folder);
      ResourceId marker = folder.resolve("_SUCCESS", StandardResolveOptions.RESOLVE_FILE);
      try (WritableByteChannel ignored = FileSystems.create(marker, "application/octet-stream")) {
        // An empty marker.
      }
      return rows;
    }

    /** After a failure: the temporary file is deleted, never renamed. */
    void abandon() {
      try {
        sink.flush();
      } catch (IOException | RuntimeException ignored) {
        // The write failed already; the file is deleted below either way.
      }
      try {
        FileSystems.delete(List.of(tmp), StandardMoveOptions.IGNORE_MISSING_FILES);
      } catch (IOException ignored) {
        // A hidden temporary name: readers never see it.
      }
    }
  }

  /**
   * The query of the clean columns {@code names} of the rows one input file (its one parameter)
   * contributed to the rows table, in line order.
   */
  private String selectSql(List<String> names) {
    return "SELECT "
        + names.stream().map(Identifiers::quote).collect(Collectors.joining(", "))
        + " FROM "
        + Identifiers.quote(schema)
        + "."
        + Identifiers.quote(def.name)
        // In line order, as a backfill writes a file's rows: the same file every time, and an
        // integer sort (the key is text, sorted by collation, several times slower).
        + " WHERE source_file = ? ORDER BY "
        + Identifiers.quote(DatasetDefinition.SOURCE_LINE);
  }

  /**
   * Streams the stored rows of {@code sourceFile} ({@code sql}, on {@code c}) into the file of its
   * partition folder (its first row's): {@code batch} when that is the folder's, else a new one,
   * after {@code batch} is finished (its rows added to {@code rows[0]}). Returns the batch being
   * written (null: none yet).
   */
  private Batch exportRows(
      Connection c,
      String sql,
      String sourceFile,
      org.apache.beam.sdk.schemas.Schema clean,
      ColumnType[] types,
      boolean[] lists,
      Batch batch,
      long[] rows)
      throws IOException, SQLException {
    c.setAutoCommit(false); // lets the driver stream with a fetch size
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setFetchSize(5_000);
      // Values in PostgreSQL's binary form from the first execution: no text to parse.
      s.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(-1);
      s.setString(1, sourceFile);
      try (ResultSet r = s.executeQuery()) {
        boolean first = true;
        while (r.next()) {
          Object[] values = values(r, types, lists);
          // The values have the types the validator gives them (as in a backfill): no checks.
          Row row = Row.withSchema(clean).attachValues(values);
          if (first) {
            first = false;
            ResourceId folder = partitionFolder(row);
            if (batch == null || !batch.folder.equals(folder)) {
              if (batch != null) {
                rows[0] += batch.finish();
              }
              batch = new Batch(folder);
            }
            batch.sourceFiles.add(sourceFile);
          }
          batch.sink.write(row);
          batch.rows++;
        }
        c.commit();
        return batch;
      }
    }
  }

  /** The values of the current row of {@code r}, a list column as a list of strings. */
  private static Object[] values(ResultSet r, ColumnType[] types, boolean[] lists)
      throws SQLException {
    Object[] values = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      if (lists[i]) {
        java.sql.Array a = r.getArray(i + 1);
        values[i] = a == null ? null : java.util.Arrays.asList((String[]) a.getArray());
      } else {
        values[i] = read(r, i + 1, types[i]);
      }
    }
    return values;
  }

  /** A Parquet sink of the definition's clean rows, open on a new file {@code tmp}. */
  private RowParquetSink openSink(ResourceId tmp) throws IOException {
    RowParquetSink sink = new RowParquetSink(def, rowGroupBytes);
    WritableByteChannel channel = FileSystems.create(tmp, "application/octet-stream");
    sink.open(channel);
    return sink;
  }

  private ResourceId partitionFolder(Row row) {
    ResourceId folder =
        FileSystems.matchNewResource(WriteParquetPartitions.datasetFolder(output, def), true);
    if (def.partitions.isEmpty()) {
      return folder.resolve("all", StandardResolveOptions.RESOLVE_DIRECTORY);
    }
    for (int i = 0; i < def.partitions.size(); i++) {
      folder =
          folder.resolve(
              def.partitions.get(i).name
                  + "="
                  + HivePartitions.encode(String.valueOf((Object) row.getValue(i))),
              StandardResolveOptions.RESOLVE_DIRECTORY);
    }
    return folder;
  }

  private static Object read(ResultSet r, int i, ColumnType t) throws SQLException {
    Object v;
    switch (t.kind()) {
      case STRING:
        return r.getString(i);
      case INT:
        v = r.getInt(i);
        break;
      case LONG:
        v = r.getLong(i);
        break;
      case DOUBLE:
        v = r.getDouble(i);
        break;
      case DECIMAL:
        java.math.BigDecimal d = r.getBigDecimal(i);
        return d == null ? null : d.setScale(t.scale());
      case BOOLEAN:
        v = r.getBoolean(i);
        break;
      case DATE:
        return r.getObject(i, LocalDate.class);
      case TIMESTAMP:
        OffsetDateTime ts = r.getObject(i, OffsetDateTime.class);
        return ts == null ? null : ts.toInstant();
      default:
        throw new IllegalArgumentException("no reader for " + t);
    }
    return r.wasNull() ? null : v;
  }
}
