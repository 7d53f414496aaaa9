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
import org.apache.beam.sdk.values.Row;

/**
 * The Avro schema Parquet files are written with, and the conversion of clean rows into it.
 * Partition columns are left out of the files (they are in the folder names, as Hive, Spark,
 * DuckDB and pyarrow expect). Decimals keep their precision and scale, dates are {@code DATE},
 * timestamps {@code TIMESTAMP(MICROS, UTC)}.
 */
public final class ParquetRows {
  private ParquetRows() {}

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
    for (Column c : columns(def)) {
      Schema t = avroType(c.type);
      if (c.nullable) {
        t = Schema.createUnion(Schema.create(Schema.Type.NULL), t);
        fields = fields.name(c.name).type(t).withDefault(null);
      } else {
        fields = fields.name(c.name).type(t).noDefault();
      }
    }
    return fields.endRecord();
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
    private final Column[] cols;

    public Converter(DatasetDefinition def, Schema schema) {
      this.schema = schema;
      this.cols = columns(def).toArray(new Column[0]);
    }

    public GenericRecord apply(Row row) {
      GenericData.Record r = new GenericData.Record(schema);
      for (int i = 0; i < cols.length; i++) {
        Object v = row.getValue(cols[i].index);
        r.put(i, v == null ? null : toAvro(cols[i].type, v));
      }
      return r;
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
