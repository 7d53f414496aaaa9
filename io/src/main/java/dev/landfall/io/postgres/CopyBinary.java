package dev.landfall.io.postgres;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetColumns;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.values.Row;

/**
 * Rows in {@code COPY}'s binary format, so that PostgreSQL stores values without parsing their text
 * (timestamps and decimals above all): each value in the column's own binary form, as its {@code
 * _recv} function reads it. The columns are those of a {@link TableSpec}, in row order.
 */
final class CopyBinary {
  private static final byte[] SIGNATURE = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0
  };

  /** 2000-01-01, PostgreSQL's epoch, in days and in microseconds since 1970-01-01. */
  private static final long PG_EPOCH_DAYS = 10_957L;

  private static final long PG_EPOCH_MICROS = PG_EPOCH_DAYS * 86_400_000_000L;
  private static final int TEXT_OID = 25;
  private static final BigInteger TEN_THOUSAND = BigInteger.valueOf(10_000);

  /** How a column's values are written. */
  enum Kind {
    TEXT,
    JSONB,
    TEXT_ARRAY,
    INT4,
    INT8,
    FLOAT8,
    BOOL,
    DATE,
    TIMESTAMPTZ,
    NUMERIC;

    /** The encoder of a clean column: by its resolved shape and {@link ColumnType}. */
    static Kind of(DatasetColumns.Column c) {
      if (c.list) {
        return TEXT_ARRAY;
      }
      return c.role == DatasetColumns.Role.RESCUED ? JSONB : of(c.type);
    }

    /** The encoder of a value of {@code type}. */
    static Kind of(ColumnType type) {
      switch (type.kind()) {
        case STRING:
          return TEXT;
        case INT:
          return INT4;
        case LONG:
          return INT8;
        case DOUBLE:
          return FLOAT8;
        case BOOLEAN:
          return BOOL;
        case DATE:
          return DATE;
        case TIMESTAMP:
          return TIMESTAMPTZ;
        case DECIMAL:
          return NUMERIC;
        default:
          throw new IllegalArgumentException("no binary COPY form for " + type);
      }
    }
  }

  private CopyBinary() {}

  /** The kind of each column of {@code spec}, in row order. */
  static Kind[] kinds(TableSpec spec) {
    Kind[] kinds = new Kind[spec.columns.size()];
    for (int i = 0; i < kinds.length; i++) {
      TableSpec.Column c = spec.columns.get(i);
      if (c.copyKind == null) {
        throw new IllegalArgumentException(
            "column " + c.name + " of " + spec.qualifiedName() + " is not written with COPY");
      }
      kinds[i] = c.copyKind;
    }
    return kinds;
  }

  /** {@code rows} as one binary COPY stream: header, one tuple per row, trailer. */
  static byte[] encode(List<Row> rows, Kind[] kinds) {
    Buffer out = new Buffer(rows.size() * 160 + 32);
    encode(rows, kinds, out);
    return out.toByteArray();
  }

  /**
   * As {@link #encode(List, Kind[])}, into {@code out} (cleared first): a writer reuses its buffers
   * from batch to batch instead of allocating (and, past half a heap region, allocating as a
   * humongous object) a new array of a megabyte or more per batch.
   */
  static void encode(List<Row> rows, Kind[] kinds, Buffer out) {
    out.clear();
    out.bytes(SIGNATURE);
    out.int32(0); // flags
    out.int32(0); // header extension length
    for (Row row : rows) {
      out.int16(kinds.length);
      for (int i = 0; i < kinds.length; i++) {
        Object v = row.getValue(i);
        if (v == null) {
          out.int32(-1);
        } else {
          value(out, kinds[i], v);
        }
      }
    }
    out.int16(-1);
  }

  private static void value(Buffer out, Kind kind, Object v) {
    switch (kind) {
      case TEXT:
        out.text((String) v, 0);
        break;
      case JSONB:
        out.text((String) v, 1); // jsonb's binary format version
        break;
      case TEXT_ARRAY:
        textArray(out, (List<?>) v);
        break;
      case INT4:
        out.int32(4);
        out.int32(((Number) v).intValue());
        break;
      case INT8:
        out.int32(8);
        out.int64(((Number) v).longValue());
        break;
      case FLOAT8:
        out.int32(8);
        out.int64(Double.doubleToLongBits(((Number) v).doubleValue()));
        break;
      case BOOL:
        out.int32(1);
        out.int8((Boolean) v ? 1 : 0);
        break;
      case DATE:
        out.int32(4);
        out.int32(Math.toIntExact(((LocalDate) v).toEpochDay() - PG_EPOCH_DAYS));
        break;
      case TIMESTAMPTZ:
        Instant t = (Instant) v;
        out.int32(8);
        out.int64(
            Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000)
                - PG_EPOCH_MICROS);
        break;
      case NUMERIC:
        numeric(out, v instanceof BigDecimal ? (BigDecimal) v : new BigDecimal(v.toString()));
        break;
      default:
        throw new IllegalStateException(kind.toString());
    }
  }

  private static void textArray(Buffer out, List<?> items) {
    byte[][] texts = new byte[items.size()][];
    int length = 20;
    for (int i = 0; i < texts.length; i++) {
      texts[i] = String.valueOf(items.get(i)).getBytes(StandardCharsets.UTF_8);
      length += 4 + texts[i].length;
    }
    out.int32(length);
    out.int32(1); // dimensions
    out.int32(0); // no NULL items
    out.int32(TEXT_OID);
    out.int32(texts.length);
    out.int32(1); // lower bound
    for (byte[] text : texts) {
      out.int32(text.length);
      out.bytes(text);
    }
  }

  /**
   * A numeric as PostgreSQL stores it: base-10000 digits around the decimal point (weight: the
   * power of 10000 of the first one), a sign and the display scale.
   */
  static void numeric(Buffer out, BigDecimal v) {
    numeric(out, v, v.scale() >= 0 && v.precision() + 3 <= 18);
  }

  /**
   * As {@link #numeric(Buffer, BigDecimal)}; {@code small}: {@code v} has a scale of at least 0 and
   * at most 15 digits, so its digits are taken from a long, not a BigInteger.
   */
  static void numeric(Buffer out, BigDecimal v, boolean small) {
    int scale = Math.max(v.scale(), 0);
    // Align the fraction to whole base-10000 digits: scale rounded up to a multiple of 4.
    int fractionDigits = (scale + 3) / 4;
    int pad = fractionDigits * 4 - scale;
    short[] digits;
    int n = 0;
    if (small) {
      // The unscaled value without a BigInteger: the same digits moved left of the point.
      long aligned =
          Math.abs(v.scale() == 0 ? v.longValue() : v.scaleByPowerOfTen(v.scale()).longValue())
              * POW10[pad];
      digits = new short[6];
      while (aligned > 0) {
        digits[n++] = (short) (aligned % 10_000); // least significant first
        aligned /= 10_000;
      }
    } else {
      BigInteger unscaled = (v.scale() < 0 ? v.setScale(0) : v).unscaledValue().abs();
      digits = new short[unscaled.bitLength() / 13 + 3];
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
    out.int32(8 + 2 * count);
    out.int16(count);
    out.int16(count == 0 ? 0 : n - 1 - fractionDigits);
    out.int16(count > 0 && v.signum() < 0 ? 0x4000 : 0);
    out.int16(scale);
    for (int i = n - 1; i >= low; i--) {
      out.int16(digits[i]);
    }
  }

  /**
   * A growing big-endian byte array (what {@code DataOutputStream} over a {@code
   * ByteArrayOutputStream} did, without a synchronized call per byte).
   */
  static final class Buffer {
    private byte[] buf;
    private int len;

    Buffer(int capacity) {
      buf = new byte[Math.max(capacity, 64)];
    }

    private void ensure(int more) {
      if (len + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
      }
    }

    void int8(int v) {
      ensure(1);
      buf[len++] = (byte) v;
    }

    void int16(int v) {
      ensure(2);
      buf[len++] = (byte) (v >>> 8);
      buf[len++] = (byte) v;
    }

    void int32(int v) {
      ensure(4);
      buf[len++] = (byte) (v >>> 24);
      buf[len++] = (byte) (v >>> 16);
      buf[len++] = (byte) (v >>> 8);
      buf[len++] = (byte) v;
    }

    void int64(long v) {
      int32((int) (v >>> 32));
      int32((int) v);
    }

    void bytes(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, len, b.length);
      len += b.length;
    }

    /**
     * A text value: its length, {@code prefix} bytes of value {@code version} (jsonb's format
     * version; none when 0), then its UTF-8 bytes, written in place when all are ASCII.
     */
    void text(String s, int version) {
      int prefix = version == 0 ? 0 : 1;
      int n = s.length();
      ensure(4 + prefix + n);
      int at = len + 4 + prefix;
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x80) {
          byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
          int32(utf8.length + prefix);
          if (prefix > 0) {
            int8(version);
          }
          bytes(utf8);
          return;
        }
        buf[at + i] = (byte) c;
      }
      int32(n + prefix);
      if (prefix > 0) {
        int8(version);
      }
      len += n;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, len);
    }

    /** The bytes written so far are {@code array()[0 .. length())}. */
    byte[] array() {
      return buf;
    }

    int length() {
      return len;
    }

    /**
     * Empties the buffer for reuse; one grown past {@link #KEEP_AT_MOST} bytes (a batch of very
     * long rows) is given back rather than kept for the batches after it.
     */
    void clear() {
      len = 0;
      if (buf.length > KEEP_AT_MOST) {
        buf = new byte[64];
      }
    }

    static final int KEEP_AT_MOST = 32 << 20;
  }

  private static final long[] POW10 = {1L, 10L, 100L, 1_000L};
}
