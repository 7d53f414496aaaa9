package dev.landfall.io.parquet;

import dev.landfall.transforms.definition.ColumnType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.LogicalType;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * The schema that Parquet files written under different versions of a dataset definition are merged
 * into: the newest file's columns, each nullable where an older file lacks it; columns only older
 * files have are left out (the definition removed them). Values of older files are converted as the
 * definition widened them: int→long, decimal(p,s)→decimal(p',s), date→timestamp (midnight UTC), as
 * PostgreSQL's columns were ({@code SchemaEvolution}).
 */
final class MergedSchema {
  private static final long MICROS_PER_DAY = 86_400_000_000L;

  private MergedSchema() {}

  /** The merged schema of files whose schemas are {@code oldestFirst} (the last is the newest). */
  static Schema of(List<Schema> oldestFirst) {
    return merge(oldestFirst.get(oldestFirst.size() - 1), oldestFirst);
  }

  private static Schema merge(Schema newest, List<Schema> all) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field f : newest.getFields()) {
      boolean everywhere = true;
      List<Schema> members = new ArrayList<>();
      for (Schema s : all) {
        Schema.Field other = s.getField(f.name());
        if (other == null) {
          everywhere = false;
        } else {
          members.add(nonNull(other.schema()));
        }
      }
      Schema type = nonNull(f.schema());
      if (type.getType() == Schema.Type.RECORD) {
        type = merge(type, members);
      }
      boolean nullable = !everywhere || isNullable(f.schema());
      Schema.Field merged =
          nullable
              ? new Schema.Field(
                  f.name(),
                  Schema.createUnion(Schema.create(Schema.Type.NULL), type),
                  f.doc(),
                  Schema.Field.NULL_DEFAULT_VALUE)
              : new Schema.Field(f.name(), type, f.doc(), (Object) null);
      fields.add(merged);
    }
    return Schema.createRecord(
        newest.getName(), newest.getDoc(), newest.getNamespace(), false, fields);
  }

  /** {@code r} (of an older schema) as a record of {@code target}. */
  static GenericRecord convert(GenericRecord r, Schema target) throws IOException {
    GenericData.Record out = new GenericData.Record(target);
    for (Schema.Field f : target.getFields()) {
      Schema.Field from = r.getSchema().getField(f.name());
      Object v = from == null ? null : r.get(from.pos());
      if (v == null) {
        if (!isNullable(f.schema())) {
          throw new IOException(
              "column '"
                  + f.name()
                  + "' is required in the newer files and"
                  + " empty in an older one");
        }
        continue;
      }
      out.put(f.pos(), value(v, nonNull(from.schema()), nonNull(f.schema()), f.name()));
    }
    return out;
  }

  private static Object value(Object v, Schema from, Schema to, String name) throws IOException {
    if (to.getType() == Schema.Type.RECORD) {
      return convert((GenericRecord) v, to);
    }
    ColumnType a = ParquetRows.columnType(from);
    ColumnType b = ParquetRows.columnType(to);
    if (a != null && b != null) {
      // The definition's widening rule ({@link ColumnType#widensTo}), as the rows table follows it.
      if (a.widensTo(b)) {
        if (a.kind() == ColumnType.Kind.DATE && b.kind() == ColumnType.Kind.TIMESTAMP) {
          return ((Integer) v) * MICROS_PER_DAY;
        }
        if (a.kind() == ColumnType.Kind.INT && b.kind() == ColumnType.Kind.LONG) {
          return ((Integer) v).longValue();
        }
        // The same type, or a decimal of the same scale: a wider precision keeps the unscaled
        // value.
        return v;
      }
    } else if (from.getType() == to.getType() && sameLogical(from, to)) {
      return v; // lists and maps of texts
    }
    throw new IOException(
        "column '"
            + name
            + "' is "
            + describe(from)
            + " in an older file and "
            + describe(to)
            + " in a newer one, which is not a widening");
  }

  private static boolean sameLogical(Schema from, Schema to) {
    LogicalType a = from.getLogicalType();
    LogicalType b = to.getLogicalType();
    return a == null ? b == null : b != null && a.getName().equals(b.getName());
  }

  private static String describe(Schema s) {
    return s.getLogicalType() != null ? s.getLogicalType().getName() : s.getType().getName();
  }

  private static boolean isNullable(Schema s) {
    return s.getType() == Schema.Type.UNION
        && s.getTypes().stream().anyMatch(t -> t.getType() == Schema.Type.NULL);
  }

  private static Schema nonNull(Schema s) {
    if (s.getType() != Schema.Type.UNION) {
      return s;
    }
    for (Schema t : s.getTypes()) {
      if (t.getType() != Schema.Type.NULL) {
        return t;
      }
    }
    return s;
  }
}
