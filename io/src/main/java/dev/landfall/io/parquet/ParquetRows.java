package dev.landfall.io.parquet;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetColumns;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.values.Row;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * The Avro schema Parquet files are written with, and the conversion of clean rows into it.
 * Partition columns are left out of the files (they are in the folder names, as Hive, Spark, DuckDB
 * and pyarrow expect). Decimals keep their precision and scale, dates are {@code DATE}, timestamps
 * {@code TIMESTAMP(MICROS, UTC)}.
 */
public final class ParquetRows {
  private ParquetRows() {}

  /** The sink every landfall Parquet file is written with: zstd, the given row group size. */
  public static ParquetIO.Sink sink(Schema schema, int rowGroupBytes) {
    return ParquetIO.sink(schema)
        .withCompressionCodec(CompressionCodecName.ZSTD)
        .withRowGroupSize(rowGroupBytes);
  }

  /** One file column: its clean-row index and type. */
  private static final class Column {
    final String name;
    final int index;
    final ColumnType type;
    final boolean nullable;

    /** The rescued unknown columns: JSON text in the row, a map of strings in the file. */
    final boolean rescued;

    /** A list of texts (a field with {@code split}). */
    final boolean list;

    final DatasetColumns.Role role;

    Column(DatasetColumns.Column c) {
      this.role = c.role;
      this.name = c.name;
      this.index = c.index;
      this.type = c.type;
      this.nullable = c.nullable;
      this.rescued = c.role == DatasetColumns.Role.RESCUED;
      this.list = c.list;
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /**
   * The rescued columns of a row (a JSON object of texts) as a map in name order: the same map
   * whether the row comes from the reader or back from PostgreSQL (jsonb keeps its own order).
   */
  static java.util.Map<String, String> rescuedMap(String json) {
    try {
      return JSON.readValue(
          json,
          new com.fasterxml.jackson.core.type.TypeReference<
              java.util.TreeMap<String, String>>() {});
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          "the "
              + DatasetDefinition.RESCUED
              + " value is not a JSON object of texts: "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The file's columns: every resolved clean column ({@link DatasetColumns#of}) but the partition
   * columns, which the folder names hold.
   */
  private static List<Column> columns(DatasetDefinition def) {
    List<Column> cols = new ArrayList<>();
    for (DatasetColumns.Column c : DatasetColumns.of(def)) {
      if (c.role != DatasetColumns.Role.PARTITION) {
        cols.add(new Column(c));
      }
    }
    return cols;
  }

  /**
   * The top-level columns written without a dictionary: the key, {@code source_line}, and
   * timestamps, doubles and decimals, whose values are mostly distinct. A dictionary only pays for
   * columns with few distinct values; for these the writer would fill one per column chunk, hash
   * every value into it and then fall back to plain encoding. Lists and struct members keep the
   * writer's default.
   */
  public static java.util.Set<String> plainColumns(DatasetDefinition def) {
    java.util.Set<String> plain = new java.util.LinkedHashSet<>();
    for (Column c : columns(def)) {
      if (c.list || def.structOf(c.name) != null || c.rescued) {
        continue;
      }
      boolean mostlyDistinct;
      switch (c.type.kind()) {
        case TIMESTAMP:
        case DOUBLE:
        case DECIMAL:
          mostlyDistinct = true;
          break;
        default:
          mostlyDistinct = def.key.contains(c.name) || c.role == DatasetColumns.Role.SOURCE_LINE;
      }
      if (mostlyDistinct) {
        plain.add(c.name);
      }
    }
    return plain;
  }

  /** The Avro schema of the Parquet files of a dataset. */
  public static Schema avroSchema(DatasetDefinition def) {
    SchemaBuilder.FieldAssembler<Schema> fields =
        SchemaBuilder.record(def.name).namespace("dev.landfall.parquet").fields();
    List<DatasetDefinition.Struct> done = new ArrayList<>();
    for (Column c : columns(def)) {
      DatasetDefinition.Struct st = def.structOf(c.name);
      if (st == null) {
        fields = field(fields, c.name, avroType(def, c), c.nullable);
      } else if (!done.contains(st)) {
        // The struct takes the place of its first member; its members keep their own types.
        done.add(st);
        SchemaBuilder.FieldAssembler<Schema> members =
            SchemaBuilder.record(st.name).namespace("dev.landfall.parquet." + def.name).fields();
        for (java.util.Map.Entry<String, String> m : st.fields.entrySet()) {
          Column member = column(def, m.getValue());
          members = field(members, m.getKey(), avroType(def, member), member.nullable);
        }
        fields = fields.name(st.name).type(members.endRecord()).noDefault();
      }
    }
    return fields.endRecord();
  }

  private static SchemaBuilder.FieldAssembler<Schema> field(
      SchemaBuilder.FieldAssembler<Schema> fields, String name, Schema type, boolean nullable) {
    if (nullable) {
      return fields
          .name(name)
          .type(Schema.createUnion(Schema.create(Schema.Type.NULL), type))
          .withDefault(null);
    }
    return fields.name(name).type(type).noDefault();
  }

  private static Column column(DatasetDefinition def, String name) {
    for (Column c : columns(def)) {
      if (c.name.equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no column " + name);
  }

  private static Schema avroType(DatasetDefinition def, Column c) {
    if (c.rescued) {
      return Schema.createMap(Schema.create(Schema.Type.STRING));
    }
    Schema t = avroType(c.type);
    return c.list ? Schema.createArray(t) : t;
  }

  private static Schema avroType(ColumnType type) {
    switch (type.kind()) {
      case STRING:
        return Schema.create(Schema.Type.STRING);
      case INT:
        return Schema.create(Schema.Type.INT);
      case LONG:
        return Schema.create(Schema.Type.LONG);
      case DOUBLE:
        return Schema.create(Schema.Type.DOUBLE);
      case BOOLEAN:
        return Schema.create(Schema.Type.BOOLEAN);
      case DECIMAL:
        return LogicalTypes.decimal(type.precision(), type.scale())
            .addToSchema(Schema.create(Schema.Type.BYTES));
      case DATE:
        return LogicalTypes.date().addToSchema(Schema.create(Schema.Type.INT));
      case TIMESTAMP:
        return LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG));
      default:
        throw new IllegalArgumentException("no Avro type for " + type);
    }
  }

  /**
   * The column type an Avro type of landfall's Parquet files holds ({@link #avroType(ColumnType)}
   * backwards); null for lists, maps and records, which have no column type of their own.
   */
  static ColumnType columnType(Schema avro) {
    LogicalType logical = avro.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal) {
      LogicalTypes.Decimal d = (LogicalTypes.Decimal) logical;
      return ColumnType.decimal(d.getPrecision(), d.getScale());
    }
    switch (avro.getType()) {
      case STRING:
        return logical == null ? ColumnType.of(ColumnType.Kind.STRING) : null;
      case INT:
        return logical instanceof LogicalTypes.Date
            ? ColumnType.of(ColumnType.Kind.DATE)
            : logical == null ? ColumnType.of(ColumnType.Kind.INT) : null;
      case LONG:
        return logical instanceof LogicalTypes.TimestampMicros
            ? ColumnType.of(ColumnType.Kind.TIMESTAMP)
            : logical == null ? ColumnType.of(ColumnType.Kind.LONG) : null;
      case DOUBLE:
        return ColumnType.of(ColumnType.Kind.DOUBLE);
      case BOOLEAN:
        return ColumnType.of(ColumnType.Kind.BOOLEAN);
      default:
        return null;
    }
  }

  /** Converts clean rows of one dataset to Avro records; build once, use per row. */
  public static final class Converter {
    private final Schema schema;

    /** Per top-level file field: the flat column, or null for a struct. */
    private final Column[] cols;

    /** Per top-level file field that is a struct: its member columns, in order. */
    private final Column[][] members;

    private final Schema[] structSchemas;

    public Converter(DatasetDefinition def, Schema schema) {
      this.schema = schema;
      List<Schema.Field> top = schema.getFields();
      this.cols = new Column[top.size()];
      this.members = new Column[top.size()][];
      this.structSchemas = new Schema[top.size()];
      for (int i = 0; i < top.size(); i++) {
        String name = top.get(i).name();
        DatasetDefinition.Struct st = null;
        for (DatasetDefinition.Struct candidate : def.structs) {
          if (candidate.name.equals(name)) {
            st = candidate;
          }
        }
        if (st == null) {
          cols[i] = column(def, name);
        } else {
          members[i] = st.fields.values().stream().map(m -> column(def, m)).toArray(Column[]::new);
          structSchemas[i] = top.get(i).schema();
        }
      }
    }

    public GenericRecord apply(Row row) {
      GenericData.Record r = new GenericData.Record(schema);
      for (int i = 0; i < cols.length; i++) {
        if (cols[i] != null) {
          r.put(i, value(row, cols[i]));
        } else {
          GenericData.Record nested = new GenericData.Record(structSchemas[i]);
          for (int m = 0; m < members[i].length; m++) {
            nested.put(m, value(row, members[i][m]));
          }
          r.put(i, nested);
        }
      }
      return r;
    }

    private static Object value(Row row, Column c) {
      Object v = row.getValue(c.index);
      if (v == null) {
        return null;
      }
      if (v instanceof List) {
        return v; // a list of text: Avro writes any java.util.Collection as an array
      }
      if (c.rescued) {
        return rescuedMap((String) v);
      }
      return toAvro(c.type, v);
    }

    private static Object toAvro(ColumnType type, Object v) {
      switch (type.kind()) {
        case DECIMAL:
          return ByteBuffer.wrap(((BigDecimal) v).unscaledValue().toByteArray());
        case DATE:
          return (int) ((LocalDate) v).toEpochDay();
        case TIMESTAMP:
          Instant t = (Instant) v;
          return ChronoUnit.MICROS.between(Instant.EPOCH, t);
        default:
          return v;
      }
    }
  }

  /**
   * Writes clean rows straight into Parquet's columns, with the file schema parquet-avro derives
   * from {@link #avroSchema} and its Avro schema in the footer: the same files as {@link Converter}
   * with {@code AvroParquetWriter} give, without an Avro record per row.
   */
  static final class RowWriteSupport extends org.apache.parquet.hadoop.api.WriteSupport<Row> {
    private final Schema avro;
    private final org.apache.parquet.schema.MessageType type;

    /** Per top-level file field: the flat column, or null for a struct. */
    private final Column[] cols;

    private final Column[][] members;
    private final boolean[] lists;
    private final boolean[][] memberLists;
    private org.apache.parquet.io.api.RecordConsumer out;

    RowWriteSupport(DatasetDefinition def, Schema avro) {
      this.avro = avro;
      this.type = new org.apache.parquet.avro.AvroSchemaConverter().convert(avro);
      Converter c = new Converter(def, avro);
      this.cols = c.cols;
      this.members = c.members;
      this.lists = new boolean[cols.length];
      this.memberLists = new boolean[cols.length][];
      for (int i = 0; i < cols.length; i++) {
        if (cols[i] != null) {
          lists[i] = cols[i].list;
        } else {
          memberLists[i] = new boolean[members[i].length];
          for (int m = 0; m < members[i].length; m++) {
            memberLists[i][m] = members[i][m].list;
          }
        }
      }
    }

    @Override
    public WriteContext init(org.apache.hadoop.conf.Configuration configuration) {
      java.util.Map<String, String> meta = new java.util.HashMap<>();
      meta.put("parquet.avro.schema", avro.toString());
      meta.put("writer.model.name", "avro");
      return new WriteContext(type, meta);
    }

    @Override
    public void prepareForWrite(org.apache.parquet.io.api.RecordConsumer recordConsumer) {
      this.out = recordConsumer;
    }

    @Override
    public void write(Row row) {
      out.startMessage();
      for (int i = 0; i < cols.length; i++) {
        if (cols[i] != null) {
          field(row, cols[i], lists[i], i);
        } else {
          String name = type.getFieldName(i);
          out.startField(name, i);
          out.startGroup();
          for (int m = 0; m < members[i].length; m++) {
            field(row, members[i][m], memberLists[i][m], m);
          }
          out.endGroup();
          out.endField(name, i);
        }
      }
      out.endMessage();
    }

    private void field(Row row, Column c, boolean list, int at) {
      Object v = row.getValue(c.index);
      if (v == null) {
        if (!c.nullable) {
          throw new IllegalArgumentException("column " + c.name + " is required but null");
        }
        return;
      }
      out.startField(c.name, at);
      if (c.rescued) {
        // parquet-avro's map layout: a group holding a repeated "key_value" group.
        out.startGroup();
        java.util.Map<String, String> map = rescuedMap((String) v);
        if (!map.isEmpty()) {
          out.startField("key_value", 0);
          for (java.util.Map.Entry<String, String> e : map.entrySet()) {
            out.startGroup();
            out.startField("key", 0);
            out.addBinary(utf8(e.getKey()));
            out.endField("key", 0);
            out.startField("value", 1);
            out.addBinary(utf8(e.getValue()));
            out.endField("value", 1);
            out.endGroup();
          }
          out.endField("key_value", 0);
        }
        out.endGroup();
      } else if (list) {
        // parquet-avro's list layout: a group holding a repeated "array" field.
        List<?> items = (List<?>) v;
        out.startGroup();
        if (!items.isEmpty()) {
          out.startField("array", 0);
          for (Object item : items) {
            out.addBinary(utf8((String) item));
          }
          out.endField("array", 0);
        }
        out.endGroup();
      } else {
        value(c.type, v);
      }
      out.endField(c.name, at);
    }

    /**
     * The unscaled value's two's-complement bytes, big-endian and as few as hold its sign: {@code
     * unscaledValue().toByteArray()}, taken from a long when the value has at most 18 digits.
     */
    static byte[] unscaledBytes(BigDecimal v) {
      if (v.precision() > 18) {
        return v.unscaledValue().toByteArray();
      }
      long u = v.scale() == 0 ? v.longValue() : v.scaleByPowerOfTen(v.scale()).longValue();
      int n = (64 - Long.numberOfLeadingZeros(u < 0 ? ~u : u)) / 8 + 1;
      byte[] b = new byte[n];
      for (int i = n - 1; i >= 0; i--) {
        b[i] = (byte) u;
        u >>= 8;
      }
      return b;
    }

    /**
     * A string's UTF-8 bytes as an array-backed value: the same bytes as {@code Binary.fromString},
     * whose buffer-backed values are slower to compare and hash for the column statistics and
     * dictionaries.
     */
    private static org.apache.parquet.io.api.Binary utf8(String s) {
      return org.apache.parquet.io.api.Binary.fromConstantByteArray(
          s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private void value(ColumnType t, Object v) {
      switch (t.kind()) {
        case STRING:
          out.addBinary(utf8((String) v));
          break;
        case INT:
          out.addInteger((Integer) v);
          break;
        case LONG:
          out.addLong((Long) v);
          break;
        case DOUBLE:
          out.addDouble((Double) v);
          break;
        case BOOLEAN:
          out.addBoolean((Boolean) v);
          break;
        case DECIMAL:
          out.addBinary(
              org.apache.parquet.io.api.Binary.fromConstantByteArray(
                  unscaledBytes((BigDecimal) v)));
          break;
        case DATE:
          out.addInteger((int) ((LocalDate) v).toEpochDay());
          break;
        case TIMESTAMP:
          Instant i = (Instant) v;
          out.addLong(
              Math.addExact(
                  Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1_000));
          break;
        default:
          throw new IllegalArgumentException("no Parquet value for " + t);
      }
    }
  }
}
