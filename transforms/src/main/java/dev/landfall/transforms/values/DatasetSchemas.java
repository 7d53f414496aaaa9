package dev.landfall.transforms.values;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetColumns;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;

/**
 * The Beam {@link Schema}s the pipeline passes between steps, all derived from a {@link
 * DatasetDefinition}: raw CSV records, clean rows, dead letters and aggregates.
 */
public final class DatasetSchemas {
  private DatasetSchemas() {}

  /** Raw record fields. */
  public static final String RAW_FILE =
      dev.landfall.transforms.definition.DatasetDefinition.SOURCE_FILE;

  /** The line where a record starts; {@code source_line} in the rows table. */
  public static final String RAW_LINE = "line_number";

  public static final String RAW_CELLS = "cells";
  public static final String RAW_COLUMNS = "columns";
  public static final String RAW_PARTITIONS = "partitions";
  public static final String RAW_WIDTH = "header_width";

  /**
   * A CSV record as read: its file, starting line, every cell in file order, for each definition
   * field the index of its cell (-1 when the header lacks it), the file's partition values and the
   * number of cells the header has.
   */
  public static final Schema RAW =
      Schema.builder()
          .addStringField(RAW_FILE)
          .addInt64Field(RAW_LINE)
          .addArrayField(RAW_CELLS, FieldType.STRING.withNullable(true))
          .addArrayField(RAW_COLUMNS, FieldType.INT32)
          .addArrayField(RAW_PARTITIONS, FieldType.STRING)
          .addInt32Field(RAW_WIDTH)
          .build();

  /**
   * A dead letter: one rejected row, or one rejected file (line 0 or its header line). The one list
   * of the rejects' columns: the rejects table ({@code PostgresTables.rejects}) is made from it,
   * with these descriptions as its column comments. Its {@link #RAW_LINE} and the rows' {@code
   * source_line} are the same fact, the line where the record starts, under the two public names
   * the tables have always had.
   */
  public static final Schema REJECT =
      Schema.builder()
          .addField(Schema.Field.of(RAW_FILE, FieldType.STRING).withDescription("Input file."))
          .addField(
              Schema.Field.of(RAW_LINE, FieldType.INT64)
                  .withDescription("Line where the rejected record starts (0: the whole file)."))
          .addField(
              Schema.Field.of("reason", FieldType.STRING)
                  .withDescription(
                      "column_count, type, required, constraint, header, partition or file."))
          .addField(
              Schema.Field.nullable("column_name", FieldType.STRING)
                  .withDescription("Offending column, if any."))
          .addField(Schema.Field.of("message", FieldType.STRING).withDescription("What is wrong."))
          .addField(
              Schema.Field.nullable("raw", FieldType.STRING)
                  .withDescription("The record as read (re-encoded as CSV)."))
          .build();

  /** The Beam type holding values of a column type. */
  public static FieldType beamType(ColumnType type) {
    switch (type.kind()) {
      case STRING:
        return FieldType.STRING;
      case INT:
        return FieldType.INT32;
      case LONG:
        return FieldType.INT64;
      case DOUBLE:
        return FieldType.DOUBLE;
      case DECIMAL:
        return type.precision() <= CompactTypes.MAX_LONG_PRECISION
            ? FieldType.logicalType(new CompactTypes.ScaledDecimal(type.scale()))
            : FieldType.DECIMAL;
      case BOOLEAN:
        return FieldType.BOOLEAN;
      case DATE:
        return FieldType.logicalType(SqlTypes.DATE);
      case TIMESTAMP:
        return FieldType.logicalType(new CompactTypes.EpochMicros());
      default:
        throw new IllegalArgumentException("no Beam type for " + type);
    }
  }

  /**
   * Clean rows: the resolved columns ({@link DatasetColumns#of}), each as a Beam field: a list of
   * texts for a list column, else the Beam type of its {@link ColumnType}.
   */
  public static Schema clean(DatasetDefinition def) {
    Schema.Builder b = Schema.builder();
    for (DatasetColumns.Column c : DatasetColumns.of(def)) {
      FieldType t = c.list ? FieldType.array(FieldType.STRING) : beamType(c.type);
      b.addField(c.name, t.withNullable(c.nullable));
    }
    return b.build();
  }

  /**
   * The coder of clean rows between steps: {@link CleanRowCoder}, never Beam's {@code RowCoder}
   * (see its comment for why).
   */
  public static CleanRowCoder cleanCoder(DatasetDefinition def) {
    return CleanRowCoder.of(clean(def));
  }

  /** The column of an aggregate table that holds {@code fn} of {@code measure}. */
  public static String measureColumn(String measure, String fn) {
    return Identifiers.check("aggregate column", measure + "_" + fn);
  }

  /** Name of the aggregate column that counts rows per group. */
  public static final String ROW_COUNT = "row_count";
}
