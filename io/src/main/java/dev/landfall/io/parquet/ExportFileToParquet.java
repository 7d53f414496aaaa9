package dev.landfall.io.parquet;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.transforms.definition.ColumnType;
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
 * Writes the Parquet file of one input file from the rows it contributed to the rows table: the
 * watch-mode Parquet output. PostgreSQL is the authority on which row won a key, so the file holds
 * exactly the input file's rows that are stored, is named as in a backfill ({@link
 * WriteParquetPartitions#fileName}), is written under a temporary name and renamed (readers never
 * see it half-written), and re-writing it after a restart gives the same file. A {@code _SUCCESS}
 * marker is (re)written in its partition folder.
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
  public ExportFileToParquet(Database db, DatasetTables tables, String output,
      ParquetCompaction compaction, int rowGroupBytes) {
    this.db = db;
    this.def = tables.definition();
    this.schema = tables.schema();
    this.output = output;
    this.compaction = compaction;
    this.rowGroupBytes = rowGroupBytes;
  }

  /** Writes the file's Parquet; returns the number of rows written (0: no file). */
  public long export(String sourceFile) throws IOException, SQLException {
    org.apache.beam.sdk.schemas.Schema clean = DatasetSchemas.clean(def);
    List<String> names = clean.getFieldNames();
    String sql = selectSql(names);
    boolean[] lists = new boolean[names.size()];
    for (int i = 0; i < lists.length; i++) {
      lists[i] = def.isList(names.get(i));
    }
    ColumnType[] types = columnTypes(names);
    return db.retrying("exporting the rows of " + sourceFile + " to Parquet",
        c -> exportRows(c, sql, sourceFile, clean, types, lists));
  }

  /**
   * The query of the clean columns {@code names} of the rows one input file (its one parameter)
   * contributed to the rows table, in line order.
   */
  private String selectSql(List<String> names) {
    return "SELECT " + names.stream().map(Identifiers::quote).collect(Collectors.joining(", "))
        + " FROM " + Identifiers.quote(schema) + "." + Identifiers.quote(def.name)
        // In line order, as a backfill writes a file's rows: the same file every time, and an
        // integer sort (the key is text, sorted by collation, several times slower).
        + " WHERE source_file = ? ORDER BY " + Identifiers.quote(DatasetDefinition.SOURCE_LINE);
  }

  /**
   * The type each clean column is read as: the definition's, else a long for the source line and
   * a string for the other columns landfall adds.
   */
  private ColumnType[] columnTypes(List<String> names) {
    ColumnType[] types = new ColumnType[names.size()];
    for (int i = 0; i < types.length; i++) {
      ColumnType t = def.typeOf(names.get(i));
      types[i] = t != null ? t : names.get(i).equals(DatasetDefinition.SOURCE_LINE)
          ? ColumnType.of(ColumnType.Kind.LONG) : ColumnType.of(ColumnType.Kind.STRING);
    }
    return types;
  }

  /**
   * Streams the stored rows of {@code sourceFile} ({@code sql}, on {@code c}) into its Parquet
   * file, in the partition folder of its first row, written under a temporary name; then
   * finishes the file ({@link #finish}). Returns the number of rows written (0: no file).
   */
  private long exportRows(Connection c, String sql, String sourceFile,
      org.apache.beam.sdk.schemas.Schema clean, ColumnType[] types, boolean[] lists)
      throws IOException, SQLException {
    c.setAutoCommit(false); // lets the driver stream with a fetch size
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setFetchSize(5_000);
      // Values in PostgreSQL's binary form from the first execution: no text to parse.
      s.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(-1);
      s.setString(1, sourceFile);
      try (ResultSet r = s.executeQuery()) {
        long n = 0;
        RowParquetSink sink = null;
        ResourceId tmp = null;
        ResourceId target = null;
        while (r.next()) {
          Object[] values = values(r, types, lists);
          // The values have the types the validator gives them (as in a backfill): no checks.
          Row row = Row.withSchema(clean).attachValues(values);
          if (sink == null) {
            ResourceId folder = partitionFolder(row);
            target = folder.resolve(WriteParquetPartitions.fileName(sourceFile),
                StandardResolveOptions.RESOLVE_FILE);
            tmp = folder.resolve("." + WriteParquetPartitions.fileName(sourceFile) + ".inprogress",
                StandardResolveOptions.RESOLVE_FILE);
            sink = openSink(tmp);
          }
          sink.write(row);
          n++;
        }
        c.commit();
        if (sink == null) {
          return 0L;
        }
        finish(sink, tmp, target);
        return n;
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

  /**
   * Flushes {@code sink}, renames {@code tmp} to {@code target}, lets the compaction see the
   * folder, then (re)writes the folder's empty {@code _SUCCESS} marker.
   */
  private void finish(RowParquetSink sink, ResourceId tmp, ResourceId target)
      throws IOException {
    sink.flush();
    FileSystems.rename(List.of(tmp), List.of(target), StandardMoveOptions.IGNORE_MISSING_FILES);
    // A merged (compacted) file may still hold this input file's earlier rows; and with
    // --compactAfterFiles the folder's small files are merged once there are enough.
    compaction.afterWrite(target.getCurrentDirectory());
    ResourceId marker = target.getCurrentDirectory().resolve("_SUCCESS",
        StandardResolveOptions.RESOLVE_FILE);
    try (WritableByteChannel ignored = FileSystems.create(marker, "application/octet-stream")) {
      // An empty marker.
    }
  }

  private ResourceId partitionFolder(Row row) {
    ResourceId folder = FileSystems.matchNewResource(
        WriteParquetPartitions.datasetFolder(output, def), true);
    if (def.partitions.isEmpty()) {
      return folder.resolve("all", StandardResolveOptions.RESOLVE_DIRECTORY);
    }
    for (int i = 0; i < def.partitions.size(); i++) {
      folder = folder.resolve(def.partitions.get(i).name + "="
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
