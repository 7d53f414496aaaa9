package dev.landfall.transforms;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import dev.landfall.transforms.values.ValueParser;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Types and validates raw CSV records ({@link DatasetSchemas#RAW}) against a dataset definition.
 * Each record becomes either a clean row ({@link #CLEAN}, schema {@link DatasetSchemas#clean}) with
 * partition, derived and lineage columns filled in, or one dead letter ({@link #REJECTED}) whose
 * reason is {@code column_count}, {@code required}, {@code type} or {@code constraint}; the first
 * problem found, in column order, is the one reported.
 */
public class ParseAndValidate extends PTransform<PCollection<Row>, PCollectionTuple> {
  public static final TupleTag<Row> CLEAN = new TupleTag<Row>() {};
  public static final TupleTag<Row> REJECTED = new TupleTag<Row>() {};
  /**
   * The longest text a key or group-by column may hold: those columns are indexed in PostgreSQL,
   * whose B-tree entries must stay under about 2,700 bytes. A longer value is a {@code constraint}
   * reject instead of a failed write.
   */
  public static final int MAX_INDEXED_CHARS = 500;

  private final DatasetDefinition definition;

  public ParseAndValidate(DatasetDefinition definition) {
    this.definition = definition;
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> raw) {
    PCollectionTuple out =
        raw.apply(
            "TypeAndCheckRows",
            ParDo.of(new ValidateRecordFn(definition))
                .withOutputTags(CLEAN, TupleTagList.of(REJECTED)));
    out.get(CLEAN).setRowSchema(DatasetSchemas.clean(definition));
    out.get(REJECTED).setRowSchema(DatasetSchemas.REJECT);
    return out;
  }

  /** The per-record check; holds parsers built once per DoFn instance. */
  static class ValidateRecordFn extends DoFn<Row, Row> {
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

    ValidateRecordFn(DatasetDefinition def) {
      this.def = def;
    }

    @Setup
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
        indexed[i] = def.key.contains(f.name)
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
    }

    @ProcessElement
    public void process(@Element Row raw, MultiOutputReceiver out) {
      String file = raw.getString(DatasetSchemas.RAW_FILE);
      long line = raw.getInt64(DatasetSchemas.RAW_LINE);
      List<String> cells = (List<String>) raw.<String>getArray(DatasetSchemas.RAW_CELLS);
      List<Integer> columns = (List<Integer>) raw.<Integer>getArray(DatasetSchemas.RAW_COLUMNS);
      List<String> partitions = (List<String>) raw.<String>getArray(DatasetSchemas.RAW_PARTITIONS);
      int width = raw.getInt32(DatasetSchemas.RAW_WIDTH);

      if (cells.size() != width) {
        reject(out, file, line, Rejects.COLUMN_COUNT, null,
            "record has " + cells.size() + " fields, the header has " + width, cells);
        return;
      }
      Object[] values = new Object[cleanSchema.getFieldCount()];
      int at = 0;
      for (int i = 0; i < partitionParsers.length; i++) {
        String text = partitions.get(i);
        if (!text.equals(lastPartitionText[i])) {
          try {
            lastPartitionValue[i] = partitionParsers[i].parse(text);
          } catch (ValueParser.BadValue e) {
            reject(out, file, line, Rejects.PARTITION, def.partitions.get(i).name,
                "partition value " + e.getMessage(), cells);
            return;
          }
          lastPartitionText[i] = text;
        }
        values[at++] = lastPartitionValue[i];
      }
      for (int i = 0; i < fieldParsers.length; i++) {
        DatasetDefinition.Field f = def.fields.get(i);
        int idx = columns.get(i);
        String text = idx < 0 ? null : cells.get(idx);
        if (text != null) {
          text = text.strip();
          if (text.isEmpty()) {
            text = null;
          }
        }
        if (text == null) {
          if (required[i]) {
            reject(out, file, line, Rejects.REQUIRED, f.name, "required value is empty", cells);
            return;
          }
          values[at++] = null;
          continue;
        }
        if (f.split != null) {
          List<String> items = new java.util.ArrayList<>();
          String bad = null;
          for (String item : splitLiteral(text, f.split)) {
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
            return;
          }
          if (items.isEmpty() && required[i]) {
            reject(out, file, line, Rejects.REQUIRED, f.name, "required list is empty", cells);
            return;
          }
          values[at++] = items.isEmpty() ? null : items;
          continue;
        }
        Object v;
        try {
          v = fieldParsers[i].parse(text);
        } catch (ValueParser.BadValue e) {
          reject(out, file, line, Rejects.TYPE, f.name,
              "value " + e.getMessage() + " (" + f.type + ")", cells);
          return;
        }
        String violation = checkConstraints(i, f, v, text);
        if (violation != null) {
          reject(out, file, line, Rejects.CONSTRAINT, f.name, violation, cells);
          return;
        }
        values[at++] = v;
      }
      for (int i = 0; i < derivedFrom.length; i++) {
        values[at++] = derive(def.derived.get(i).part, values[derivedFrom[i]]);
      }
      values[at++] = file;
      values[at] = line;
      valid.inc();
      out.get(CLEAN).output(Row.withSchema(cleanSchema).attachValues(values));
    }

    private String checkConstraints(int i, DatasetDefinition.Field f, Object v, String text) {
      if (indexed[i] && text.length() > MAX_INDEXED_CHARS) {
        return "value is longer than " + MAX_INDEXED_CHARS
            + " characters (key and group-by columns are indexed)";
      }
      if (allowed[i] != null && !allowed[i].contains(text)) {
        return "value is not one of " + f.allowed;
      }
      if (f.min != null || f.max != null) {
        BigDecimal n = toDecimal(v);
        if (f.min != null && n.compareTo(f.min) < 0) {
          return "value is below the minimum " + f.min.toPlainString();
        }
        if (f.max != null && n.compareTo(f.max) > 0) {
          return "value is above the maximum " + f.max.toPlainString();
        }
      }
      return null;
    }

    private void reject(MultiOutputReceiver out, String file, long line, String reason,
        String column, String message, List<String> cells) {
      rejected.inc();
      Metrics.counter(ParseAndValidate.class, "rows-rejected-" + reason).inc();
      out.get(REJECTED).output(
          Rejects.of(file, line, reason, column, message, Rejects.toCsv(cells, delimiter, quote)));
    }
  }

  /** The pieces of {@code text} between occurrences of {@code separator}, taken literally. */
  static List<String> splitLiteral(String text, String separator) {
    List<String> pieces = new java.util.ArrayList<>();
    int from = 0;
    int at;
    while ((at = text.indexOf(separator, from)) >= 0) {
      pieces.add(text.substring(from, at));
      from = at + separator.length();
    }
    pieces.add(text.substring(from));
    return pieces;
  }

  /** A numeric cell value as a BigDecimal, for comparisons and exact sums. */
  public static BigDecimal toDecimal(Object v) {
    if (v instanceof BigDecimal) {
      return (BigDecimal) v;
    }
    if (v instanceof Double) {
      return BigDecimal.valueOf((Double) v);
    }
    return BigDecimal.valueOf(((Number) v).longValue());
  }

  static Object derive(String part, Object from) {
    if (from == null) {
      return null;
    }
    ZonedDateTime t =
        from instanceof Instant
            ? ((Instant) from).atZone(ZoneOffset.UTC)
            : ((LocalDate) from).atStartOfDay(ZoneOffset.UTC);
    switch (part) {
      case "date":
        return t.toLocalDate();
      case "year":
        return t.getYear();
      case "month":
        return t.getMonthValue();
      case "day":
        return t.getDayOfMonth();
      case "hour":
        return t.getHour();
      default:
        throw new IllegalStateException("unknown derived part " + part);
    }
  }
}
