package dev.landfall.io.parquet;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
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
 * Partition columns are left out of the files (they are in the folder names, as Hive, Spark,
 * DuckDB and pyarrow expect). Decimals keep their precision and scale, dates are {@code DATE},
 * timestamps {@code TIMESTAMP(MICROS, UTC)}.
 */
public final class ParquetRows {
  /** parquet-mr's default row group size: large enough for column pruning to pay off. */
  public static final int DEFAULT_ROW_GROUP_BYTES = 128 * 1024 * 1024;

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

    Column(String name, int index, ColumnType type, boolean nullable) {
      this.name = name;
      this.index = index;
      this.type = type;
      this.nullable = nullable;
    }
  }

  private static List<Column> columns(DatasetDefinition def) {
    org.apache.beam.sdk.schemas.Schema clean = DatasetSchemas.clean(def);
    List<Column> cols = new ArrayList<>();
    for (DatasetDefinition.Field f : def.fields) {
      cols.add(new Column(f.name, clean.indexOf(f.name), ColumnType.parse(f.type),
          !def.isRequired(f.name)));
    }
    for (DatasetDefinition.Derived d : def.derived) {
      cols.add(new Column(d.name, clean.indexOf(d.name), DatasetDefinition.derivedType(d), true));
    }
    cols.add(new Column(DatasetDefinition.SOURCE_FILE, clean.indexOf(DatasetDefinition.SOURCE_FILE),
        ColumnType.of(ColumnType.Kind.STRING), false));
    cols.add(new Column(DatasetDefinition.SOURCE_LINE, clean.indexOf(DatasetDefinition.SOURCE_LINE),
        ColumnType.of(ColumnType.Kind.LONG), false));
    for (DatasetDefinition.Lookup l : def.lookups) {
      for (String c : l.columns) {
        cols.add(new Column(c, clean.indexOf(c), ColumnType.of(ColumnType.Kind.STRING), true));
      }
    }
    return cols;
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
      return fields.name(name).type(Schema.createUnion(Schema.create(Schema.Type.NULL), type))
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
    Schema t = avroType(c.type);
    return def.isList(c.name) ? Schema.createArray(t) : t;
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
          members[i] = st.fields.values().stream().map(m -> column(def, m))
              .toArray(Column[]::new);
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
}
