package dev.landfall.io.postgres;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.apache.beam.sdk.values.Row;

/**
 * Rows in {@code COPY}'s binary format, so that PostgreSQL stores values without parsing their
 * text (timestamps and decimals above all): each value in the column's own binary form, as its
 * {@code _recv} function reads it. The columns are those of a {@link TableSpec}, in row order.
 */
final class CopyBinary {
  private static final byte[] SIGNATURE = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r',
      '\n', 0};
  /** 2000-01-01, PostgreSQL's epoch, in days and in microseconds since 1970-01-01. */
  private static final long PG_EPOCH_DAYS = 10_957L;
  private static final long PG_EPOCH_MICROS = PG_EPOCH_DAYS * 86_400_000_000L;
  private static final int TEXT_OID = 25;
  private static final BigInteger TEN_THOUSAND = BigInteger.valueOf(10_000);

  /** How a column's values are written. */
  enum Kind {
    TEXT, JSONB, TEXT_ARRAY, INT4, INT8, FLOAT8, BOOL, DATE, TIMESTAMPTZ, NUMERIC;

    static Kind of(String sqlType) {
      switch (sqlType) {
        case "text":
          return TEXT;
        case "jsonb":
          return JSONB;
        case "text[]":
          return TEXT_ARRAY;
        case "integer":
          return INT4;
        case "bigint":
          return INT8;
        case "double precision":
          return FLOAT8;
        case "boolean":
          return BOOL;
        case "date":
          return DATE;
        case "timestamptz":
          return TIMESTAMPTZ;
        default:
          if (sqlType.equals("numeric") || sqlType.startsWith("numeric(")) {
            return NUMERIC;
          }
          throw new IllegalArgumentException("no binary COPY form for SQL type " + sqlType);
      }
    }
  }

  private CopyBinary() {}

  /** The kind of each column of {@code spec}, in row order. */
  static Kind[] kinds(TableSpec spec) {
    Kind[] kinds = new Kind[spec.columns.size()];
    for (int i = 0; i < kinds.length; i++) {
      kinds[i] = Kind.of(spec.columns.get(i).sqlType);
    }
    return kinds;
  }

  /** {@code rows} as one binary COPY stream: header, one tuple per row, trailer. */
  static byte[] encode(List<Row> rows, Kind[] kinds) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(rows.size() * 160 + 32);
    DataOutputStream out = new DataOutputStream(bytes);
    try {
      out.write(SIGNATURE);
      out.writeInt(0); // flags
      out.writeInt(0); // header extension length
      for (Row row : rows) {
        out.writeShort(kinds.length);
        for (int i = 0; i < kinds.length; i++) {
          Object v = row.getValue(i);
          if (v == null) {
            out.writeInt(-1);
          } else {
            value(out, kinds[i], v);
          }
        }
      }
      out.writeShort(-1);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return bytes.toByteArray();
  }

  private static void value(DataOutputStream out, Kind kind, Object v) throws IOException {
    switch (kind) {
      case TEXT:
        byte[] text = ((String) v).getBytes(StandardCharsets.UTF_8);
        out.writeInt(text.length);
        out.write(text);
        break;
      case JSONB:
        byte[] json = ((String) v).getBytes(StandardCharsets.UTF_8);
        out.writeInt(json.length + 1);
        out.writeByte(1); // jsonb's binary format version
        out.write(json);
        break;
      case TEXT_ARRAY:
        textArray(out, (List<?>) v);
        break;
      case INT4:
        out.writeInt(4);
        out.writeInt(((Number) v).intValue());
        break;
      case INT8:
        out.writeInt(8);
        out.writeLong(((Number) v).longValue());
        break;
      case FLOAT8:
        out.writeInt(8);
        out.writeDouble(((Number) v).doubleValue());
        break;
      case BOOL:
        out.writeInt(1);
        out.writeByte((Boolean) v ? 1 : 0);
        break;
      case DATE:
        out.writeInt(4);
        out.writeInt(Math.toIntExact(((LocalDate) v).toEpochDay() - PG_EPOCH_DAYS));
        break;
      case TIMESTAMPTZ:
        Instant t = (Instant) v;
        out.writeInt(8);
        out.writeLong(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L),
            t.getNano() / 1_000) - PG_EPOCH_MICROS);
        break;
      case NUMERIC:
        numeric(out, v instanceof BigDecimal ? (BigDecimal) v : new BigDecimal(v.toString()));
        break;
      default:
        throw new IllegalStateException(kind.toString());
    }
  }

  private static void textArray(DataOutputStream out, List<?> items) throws IOException {
    byte[][] texts = new byte[items.size()][];
    int length = 20;
    for (int i = 0; i < texts.length; i++) {
      texts[i] = String.valueOf(items.get(i)).getBytes(StandardCharsets.UTF_8);
      length += 4 + texts[i].length;
    }
    out.writeInt(length);
    out.writeInt(1); // dimensions
    out.writeInt(0); // no NULL items
    out.writeInt(TEXT_OID);
    out.writeInt(texts.length);
    out.writeInt(1); // lower bound
    for (byte[] text : texts) {
      out.writeInt(text.length);
      out.write(text);
    }
  }

  /**
   * A numeric as PostgreSQL stores it: base-10000 digits around the decimal point (weight: the
   * power of 10000 of the first one), a sign and the display scale.
   */
  static void numeric(DataOutputStream out, BigDecimal v) throws IOException {
    int scale = Math.max(v.scale(), 0);
    BigInteger unscaled = (v.scale() < 0 ? v.setScale(0) : v).unscaledValue().abs();
    // Align the fraction to whole base-10000 digits: scale rounded up to a multiple of 4.
    int fractionDigits = (scale + 3) / 4;
    int pad = fractionDigits * 4 - scale;
    short[] digits = new short[unscaled.bitLength() / 13 + 3];
    int n = 0;
    if (unscaled.bitLength() < 63 && unscaled.longValue() <= Long.MAX_VALUE / POW10[pad]) {
      long aligned = unscaled.longValue() * POW10[pad];
      while (aligned > 0) {
        digits[n++] = (short) (aligned % 10_000); // least significant first
        aligned /= 10_000;
      }
    } else {
      BigInteger aligned = unscaled.multiply(BigInteger.TEN.pow(pad));
      while (aligned.signum() > 0) {
        BigInteger[] qr = aligned.divideAndRemainder(TEN_THOUSAND);
        digits[n++] = qr[1].shortValue();
        aligned = qr[0];
      }
    }
    // Drop trailing zero digits (least significant); the weight is that of the first digit.
    int low = 0;
    while (low < n && digits[low] == 0) {
      low++;
    }
    int count = n - low;
    out.writeInt(8 + 2 * count);
    out.writeShort(count);
    out.writeShort(count == 0 ? 0 : n - 1 - fractionDigits);
    out.writeShort(count > 0 && v.signum() < 0 ? 0x4000 : 0);
    out.writeShort(scale);
    for (int i = n - 1; i >= low; i--) {
      out.writeShort(digits[i]);
    }
  }

  private static final long[] POW10 = {1L, 10L, 100L, 1_000L};
}
