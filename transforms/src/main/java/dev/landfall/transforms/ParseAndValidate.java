package dev.landfall.transforms;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
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
    out.get(CLEAN).setCoder(DatasetSchemas.cleanCoder(definition));
    out.get(REJECTED).setRowSchema(DatasetSchemas.REJECT);
    return out;
  }

  /** Applies a {@link RecordValidator} to each raw record. */
  static class ValidateRecordFn extends DoFn<Row, Row> {
    private final RecordValidator validator;

    ValidateRecordFn(DatasetDefinition def) {
      this.validator = new RecordValidator(def);
    }

    @Setup
    public void setup() {
      validator.setup();
    }

    @ProcessElement
    @SuppressWarnings("unchecked")
    public void process(@Element Row raw, MultiOutputReceiver out) {
      validator.validate(
          raw.getString(DatasetSchemas.RAW_FILE),
          raw.getInt64(DatasetSchemas.RAW_LINE),
          (List<String>) raw.<String>getArray(DatasetSchemas.RAW_CELLS),
          (List<Integer>) raw.<Integer>getArray(DatasetSchemas.RAW_COLUMNS),
          (List<String>) raw.<String>getArray(DatasetSchemas.RAW_PARTITIONS),
          raw.getInt32(DatasetSchemas.RAW_WIDTH),
          RecordValidator.Receiver.to(out.get(CLEAN), out.get(REJECTED)));
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
    // In UTC, without a ZonedDateTime: Instant.atZone builds the zone's rules for every row.
    LocalDateTime t =
        from instanceof Instant
            ? LocalDateTime.ofEpochSecond(((Instant) from).getEpochSecond(), 0, ZoneOffset.UTC)
            : ((LocalDate) from).atStartOfDay();
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
