package dev.landfall.transforms;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import dev.landfall.transforms.values.ValueParser;
import java.io.Serializable;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;

/**
 * The check {@link ParseAndValidate} applies to each raw record, as a plain object so that a reader
 * can apply it while it reads ({@code ReadCsvFiles.validated}) instead of handing every raw record
 * to a separate step. One record gives either a clean row (schema {@link DatasetSchemas#clean}) or
 * one dead letter; it counts {@code rows-parsed} and {@code rows-rejected} under {@link
 * ParseAndValidate}'s name either way.
 */
public final class RecordValidator implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * What {@link #fieldValue} and {@link #listValue} return for a record they rejected (a null value
   * is a valid result), compared by identity.
   */
  private static final Object REJECTED = new Object();

  /** Where {@link #validate} sends its result: exactly one call per record. */
  public interface Receiver {
    void clean(Row row);

    void rejected(Row deadLetter);

    /** Clean rows to {@code clean}, dead letters to {@code rejected}. */
    static Receiver to(DoFn.OutputReceiver<Row> clean, DoFn.OutputReceiver<Row> rejected) {
      return new Receiver() {
        @Override
        public void clean(Row row) {
          clean.output(row);
        }

        @Override
        public void rejected(Row deadLetter) {
          rejected.output(deadLetter);
        }
      };
    }
  }

  private final Counter valid = Metrics.counter(ParseAndValidate.class, "rows-parsed");
  private final Counter rejected = Metrics.counter(ParseAndValidate.class, "rows-rejected");

  private final DatasetDefinition def;
  private transient Schema cleanSchema;
  private transient ValueParser[] fieldParsers;
  private transient ValueParser[] partitionParsers;
  private transient Set<String>[] allowed;
  private transient boolean[] required;
  private transient boolean[] indexed;
  private transient String[] lastPartitionText;
  private transient Object[] lastPartitionValue;
  private transient int[] derivedFrom;
  private transient char delimiter;
  private transient char quote;
  private transient boolean rescue;

  /** False for a first pass over records that are validated (and counted) again later. */
  private final boolean counting;

  public RecordValidator(DatasetDefinition def) {
    this(def, true);
  }

  private RecordValidator(DatasetDefinition def, boolean counting) {
    this.def = def;
    this.counting = counting;
  }

  /** The same checks, counting nothing: for a pass over records that are validated again. */
  public RecordValidator uncounted() {
    return new RecordValidator(def, false);
  }

  /**
   * Counts a record rejected by a rule outside this validator (a quarantined file's valid records),
   * as a rejected record of {@code reason}, when this validator counts.
   */
  public void countRejected(String reason) {
    if (counting) {
      valid.dec();
      rejected.inc();
      Metrics.counter(ParseAndValidate.class, "rows-rejected-" + reason).inc();
    }
  }

  /** Builds the parsers; call once (a DoFn's {@code @Setup}) before {@link #validate}. */
  @SuppressWarnings("unchecked")
  public void setup() {
    cleanSchema = DatasetSchemas.clean(def);
    int n = def.fields.size();
    fieldParsers = new ValueParser[n];
    allowed = new Set[n];
    required = new boolean[n];
    indexed = new boolean[n];
    for (int i = 0; i < n; i++) {
      DatasetDefinition.Field f = def.fields.get(i);
      fieldParsers[i] = new ValueParser(ColumnType.parse(f.type), f.format);
      allowed[i] = f.allowed == null ? null : new HashSet<>(f.allowed);
      required[i] = def.isRequired(f.name);
      indexed[i] =
          def.key.contains(f.name)
              || (def.aggregates != null && def.aggregates.groupBy.contains(f.name));
    }
    int np = def.partitions.size();
    partitionParsers = new ValueParser[np];
    for (int i = 0; i < np; i++) {
      DatasetDefinition.Partition p = def.partitions.get(i);
      partitionParsers[i] = new ValueParser(DatasetDefinition.partitionType(p), p.format);
    }
    lastPartitionText = new String[np];
    lastPartitionValue = new Object[np];
    derivedFrom = new int[def.derived.size()];
    for (int i = 0; i < derivedFrom.length; i++) {
      derivedFrom[i] = cleanSchema.indexOf(def.derived.get(i).from);
    }
    delimiter = def.csv.delimiter.charAt(0);
    quote = def.csv.quote.charAt(0);
    rescue = def.rescuesUnknownColumns();
  }

  /**
   * Types and checks one record: {@code cells} as read, {@code columns} the cell index of each
   * defined field (-1: not in the header), {@code partitions} the file's partition values as text,
   * {@code width} the header's number of columns.
   */
  public void validate(
      String file,
      long line,
      List<String> cells,
      List<Integer> columns,
      List<String> partitions,
      int width,
      Receiver out) {
    validate(file, line, cells, columns, partitions, width, null, out);
  }

  /**
   * As {@link #validate(String, long, List, List, List, int, Receiver)}; with {@code
   * "unknownColumns": "rescue"}, {@code columns} goes on past the defined fields with the cell
   * index of each column the definition does not name, and {@code header} names the cells.
   */
  public void validate(
      String file,
      long line,
      List<String> cells,
      List<Integer> columns,
      List<String> partitions,
      int width,
      List<String> header,
      Receiver out) {
    if (cells.size() != width) {
      reject(
          out,
          file,
          line,
          Rejects.COLUMN_COUNT,
          null,
          "record has " + cells.size() + " fields, the header has " + width,
          cells);
      return;
    }
    Object[] values = new Object[cleanSchema.getFieldCount()];
    if (!partitionValues(file, line, cells, partitions, values, out)) {
      return;
    }
    int at = partitionParsers.length;
    for (int i = 0; i < fieldParsers.length; i++) {
      int idx = columns.get(i);
      Object v = fieldValue(i, cellText(cells, idx), file, line, cells, out);
      if (v == REJECTED) {
        return;
      }
      values[at++] = v;
    }
    for (int i = 0; i < derivedFrom.length; i++) {
      values[at++] = ParseAndValidate.derive(def.derived.get(i).part, values[derivedFrom[i]]);
    }
    values[at++] = file;
    values[at++] = line;
    if (rescue) {
      values[at] = rescued(cells, columns, header);
    }
    if (counting) {
      valid.inc();
    }
    out.clean(Row.withSchema(cleanSchema).attachValues(values));
  }

  /**
   * Fills {@code values} from index 0 with the file's typed partition values, parsing a partition's
   * text only when it differs from the previous record's; false when one does not parse (the record
   * is then rejected).
   */
  private boolean partitionValues(
      String file,
      long line,
      List<String> cells,
      List<String> partitions,
      Object[] values,
      Receiver out) {
    for (int i = 0; i < partitionParsers.length; i++) {
      String text = partitions.get(i);
      if (!text.equals(lastPartitionText[i])) {
        try {
          lastPartitionValue[i] = partitionParsers[i].parse(text);
        } catch (ValueParser.BadValue e) {
          reject(
              out,
              file,
              line,
              Rejects.PARTITION,
              def.partitions.get(i).name,
              "partition value " + e.getMessage(),
              cells);
          return false;
        }
        lastPartitionText[i] = text;
      }
      values[i] = lastPartitionValue[i];
    }
    return true;
  }

  /** The stripped text of cell {@code idx}, or null when the cell is absent, null or blank. */
  private static String cellText(List<String> cells, int idx) {
    String text = idx < 0 ? null : cells.get(idx);
    if (text != null) {
      text = text.strip();
      if (text.isEmpty()) {
        text = null;
      }
    }
    return text;
  }

  /**
   * The typed value of field {@code i} from its cell {@code text} (stripped, null when empty), or
   * {@link #REJECTED} after rejecting the record.
   */
  private Object fieldValue(
      int i, String text, String file, long line, List<String> cells, Receiver out) {
    DatasetDefinition.Field f = def.fields.get(i);
    if (text == null) {
      if (required[i]) {
        reject(out, file, line, Rejects.REQUIRED, f.name, "required value is empty", cells);
        return REJECTED;
      }
      return null;
    }
    if (f.split != null) {
      return listValue(i, f, text, file, line, cells, out);
    }
    Object v;
    try {
      v = fieldParsers[i].parse(text);
    } catch (ValueParser.BadValue e) {
      reject(
          out,
          file,
          line,
          Rejects.TYPE,
          f.name,
          "value " + e.getMessage() + " (" + f.type + ")",
          cells);
      return REJECTED;
    }
    String violation = checkConstraints(i, f, v, text);
    if (violation != null) {
      reject(out, file, line, Rejects.CONSTRAINT, f.name, violation, cells);
      return REJECTED;
    }
    return v;
  }

  /**
   * The items of a {@code split} field (stripped, empty ones dropped, each checked against {@code
   * allowed}), null when there are none, or {@link #REJECTED} after rejecting the record.
   */
  private Object listValue(
      int i,
      DatasetDefinition.Field f,
      String text,
      String file,
      long line,
      List<String> cells,
      Receiver out) {
    List<String> items = new java.util.ArrayList<>();
    String bad = null;
    for (String item : ParseAndValidate.splitLiteral(text, f.split)) {
      String it = item.strip();
      if (it.isEmpty()) {
        continue;
      }
      if (allowed[i] != null && !allowed[i].contains(it)) {
        bad = "item '" + it + "' is not one of " + f.allowed;
        break;
      }
      items.add(it);
    }
    if (bad != null) {
      reject(out, file, line, Rejects.CONSTRAINT, f.name, bad, cells);
      return REJECTED;
    }
    if (items.isEmpty() && required[i]) {
      reject(out, file, line, Rejects.REQUIRED, f.name, "required list is empty", cells);
      return REJECTED;
    }
    return items.isEmpty() ? null : items;
  }

  /**
   * The non-empty cells of the columns the definition does not name, as a JSON object of header
   * name to text (in file order), or null when there are none.
   */
  private String rescued(List<String> cells, List<Integer> columns, List<String> header) {
    if (header == null) {
      return null;
    }
    StringBuilder json = null;
    for (int k = fieldParsers.length; k < columns.size(); k++) {
      int idx = columns.get(k);
      String text = cells.get(idx);
      if (text == null || text.strip().isEmpty()) {
        continue;
      }
      json = json == null ? new StringBuilder("{") : json.append(',');
      jsonString(json, header.get(idx));
      json.append(':');
      jsonString(json, text.strip());
    }
    return json == null ? null : json.append('}').toString();
  }

  private static void jsonString(StringBuilder json, String s) {
    json.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          json.append("\\\"");
          break;
        case '\\':
          json.append("\\\\");
          break;
        default:
          if (c < 0x20) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
      }
    }
    json.append('"');
  }

  private String checkConstraints(int i, DatasetDefinition.Field f, Object v, String text) {
    if (indexed[i] && text.length() > ParseAndValidate.MAX_INDEXED_CHARS) {
      return "value is longer than "
          + ParseAndValidate.MAX_INDEXED_CHARS
          + " characters (key and group-by columns are indexed)";
    }
    if (allowed[i] != null && !allowed[i].contains(text)) {
      return "value is not one of " + f.allowed;
    }
    if (f.min != null || f.max != null) {
      BigDecimal n = ParseAndValidate.toDecimal(v);
      if (f.min != null && n.compareTo(f.min) < 0) {
        return "value is below the minimum " + f.min.toPlainString();
      }
      if (f.max != null && n.compareTo(f.max) > 0) {
        return "value is above the maximum " + f.max.toPlainString();
      }
    }
    return null;
  }

  private void reject(
      Receiver out,
      String file,
      long line,
      String reason,
      String column,
      String message,
      List<String> cells) {
    if (counting) {
      rejected.inc();
      Metrics.counter(ParseAndValidate.class, "rows-rejected-" + reason).inc();
    }
    out.rejected(
        Rejects.of(file, line, reason, column, message, Rejects.toCsv(cells, delimiter, quote)));
  }
}
