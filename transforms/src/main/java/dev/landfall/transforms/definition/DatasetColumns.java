package dev.landfall.transforms.definition;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The columns of a dataset's clean rows, resolved once from its (validated) definition: in row
 * order, each with its name, its {@link ColumnType} (of the elements, for a list), whether it may
 * be null, whether it is a list, and its {@link Role}. Every output maps this list with one switch
 * (the clean rows' Beam schema, the rows table, the COPY encoders, the Parquet columns, the
 * per-file export) instead of looking back into the definition by column name.
 */
public final class DatasetColumns {
  private DatasetColumns() {}

  /** What a column is in the dataset. */
  public enum Role {
    /** A value taken from the file's partition folder ({@code date=...}). */
    PARTITION,
    /** A field of the input that is (part of) the key. */
    KEY,
    /** A field of the input. */
    FIELD,
    /** A part of a timestamp field (date, year, month, day, hour). */
    DERIVED,
    /** {@code source_file}: the input file the row was read from. */
    SOURCE_FILE,
    /** {@code source_line}: the line of the input file where the row starts. */
    SOURCE_LINE,
    /** {@code _rescued}: the input's unknown columns as a JSON object of texts. */
    RESCUED,
    /** An attribute joined from a lookup table. */
    LOOKUP
  }

  /** One column of the clean rows. */
  public static final class Column implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String name;

    /** The column's place in the clean rows. */
    public final int index;

    /** The type of its values (of each element, for a list). */
    public final ColumnType type;

    public final boolean nullable;

    /** A list of texts (a field with {@code split}). */
    public final boolean list;

    public final Role role;

    Column(String name, int index, ColumnType type, boolean nullable, boolean list, Role role) {
      this.name = name;
      this.index = index;
      this.type = type;
      this.nullable = nullable;
      this.list = list;
      this.role = role;
    }

    @Override
    public String toString() {
      return name + " " + (list ? type + "[]" : type) + (nullable ? "" : " not null") + " " + role;
    }
  }

  private static final ColumnType STRING = ColumnType.of(ColumnType.Kind.STRING);

  /**
   * The clean rows' columns: partition columns, then fields, then derived columns, then {@code
   * source_file} and {@code source_line}, then {@code _rescued} (with {@code "unknownColumns":
   * "rescue"}), then the lookup columns. Columns are nullable unless required (key and partition
   * columns always are).
   */
  public static List<Column> of(DatasetDefinition def) {
    List<Column> cols = new ArrayList<>();
    for (DatasetDefinition.Partition p : def.partitions) {
      cols.add(
          new Column(
              p.name,
              cols.size(),
              DatasetDefinition.partitionType(p),
              false,
              false,
              Role.PARTITION));
    }
    for (DatasetDefinition.Field f : def.fields) {
      boolean list = f.split != null;
      cols.add(
          new Column(
              f.name,
              cols.size(),
              list ? STRING : ColumnType.parse(f.type),
              !def.isRequired(f.name),
              list,
              def.key.contains(f.name) ? Role.KEY : Role.FIELD));
    }
    for (DatasetDefinition.Derived d : def.derived) {
      cols.add(
          new Column(
              d.name, cols.size(), DatasetDefinition.derivedType(d), true, false, Role.DERIVED));
    }
    cols.add(
        new Column(
            DatasetDefinition.SOURCE_FILE, cols.size(), STRING, false, false, Role.SOURCE_FILE));
    cols.add(
        new Column(
            DatasetDefinition.SOURCE_LINE,
            cols.size(),
            ColumnType.of(ColumnType.Kind.LONG),
            false,
            false,
            Role.SOURCE_LINE));
    if (def.rescuesUnknownColumns()) {
      cols.add(
          new Column(DatasetDefinition.RESCUED, cols.size(), STRING, true, false, Role.RESCUED));
    }
    for (DatasetDefinition.Lookup l : def.lookups) {
      for (String c : l.columns) {
        cols.add(new Column(c, cols.size(), STRING, true, false, Role.LOOKUP));
      }
    }
    return Collections.unmodifiableList(cols);
  }
}
