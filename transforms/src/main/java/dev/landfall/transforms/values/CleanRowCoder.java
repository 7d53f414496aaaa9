package dev.landfall.transforms.values;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * The compact encoding of the rows landfall passes between steps (clean rows, group keys): one
 * length-prefixed block per row holding a null bitmap and each value in its smallest form (varints
 * for integers, timestamps, dates and decimals of precision up to 18, UTF-8 for text).
 *
 * <p>It replaces Beam's {@code RowCoder} on every hop a clean row takes. {@code RowCoder} builds a
 * coder call per field and boxes logical-type values through their base type; on Flink a row
 * crosses about ten hops in a backfill, and that was the largest single cost in the profiles
 * (docs/performance.md). This coder writes a row into one buffer and hands it to the stream in one
 * call, and reads it back the same way. Decoding reuses the text of a column when it repeats the
 * previous row's (the source file, account, service...), so equal values share one {@code String}.
 *
 * <p>The layout is fixed by the schema's field order and types, so two coders of equal schemas read
 * each other's bytes; it is not meant for storage across versions.
 */
public final class CleanRowCoder extends CustomCoder<Row> {
  private static final long serialVersionUID = 1L;

  /** How one field is written. */
  private static final byte STRING = 1;

  private static final byte INT32 = 2;
  private static final byte INT64 = 3;
  private static final byte DOUBLE = 4;
  private static final byte BOOLEAN = 5;
  private static final byte DECIMAL = 6;
  private static final byte EPOCH_MICROS = 7;
  private static final byte SCALED_DECIMAL = 8;
  private static final byte DATE = 9;
  private static final byte ARRAY = 10;
  private static final byte ROW = 11;
  private static final byte FLOAT = 12;
  private static final byte INT16 = 13;
  private static final byte BYTE = 14;

  private final Schema schema;
  private final Encoding[] fields;

  private CleanRowCoder(Schema schema) {
    this.schema = schema;
    this.fields = new Encoding[schema.getFieldCount()];
    for (int i = 0; i < fields.length; i++) {
      fields[i] = Encoding.of(schema.getField(i).getType(), schema.getField(i).getName());
    }
  }

  /** The coder of rows of {@code schema}; fails for a field type it cannot write. */
  public static CleanRowCoder of(Schema schema) {
    return new CleanRowCoder(schema);
  }

  public Schema getSchema() {
    return schema;
  }

  /** How one value of a field type is written: a kind, and for lists and structs their parts. */
  private static final class Encoding implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final byte kind;

    /** Scale of a {@link #SCALED_DECIMAL}. */
    final int scale;

    /** Element of an {@link #ARRAY}. */
    final Encoding element;

    final boolean elementNullable;

    /** Coder of a {@link #ROW}. */
    final CleanRowCoder nested;

    private Encoding(
        byte kind, int scale, Encoding element, boolean elementNullable, CleanRowCoder nested) {
      this.kind = kind;
      this.scale = scale;
      this.element = element;
      this.elementNullable = elementNullable;
      this.nested = nested;
    }

    static Encoding simple(byte kind) {
      return new Encoding(kind, 0, null, false, null);
    }

    static Encoding of(FieldType t, String name) {
      switch (t.getTypeName()) {
        case STRING:
          return simple(STRING);
        case INT32:
          return simple(INT32);
        case INT64:
          return simple(INT64);
        case INT16:
          return simple(INT16);
        case BYTE:
          return simple(BYTE);
        case DOUBLE:
          return simple(DOUBLE);
        case FLOAT:
          return simple(FLOAT);
        case BOOLEAN:
          return simple(BOOLEAN);
        case DECIMAL:
          return simple(DECIMAL);
        case ARRAY:
        case ITERABLE:
          FieldType e = t.getCollectionElementType();
          return new Encoding(ARRAY, 0, of(e, name), e.getNullable(), null);
        case ROW:
          return new Encoding(ROW, 0, null, false, new CleanRowCoder(t.getRowSchema()));
        case LOGICAL_TYPE:
          String id = t.getLogicalType().getIdentifier();
          if (CompactTypes.EpochMicros.IDENTIFIER.equals(id)) {
            return simple(EPOCH_MICROS);
          }
          if (CompactTypes.ScaledDecimal.IDENTIFIER.equals(id)) {
            return new Encoding(
                SCALED_DECIMAL,
                ((CompactTypes.ScaledDecimal) t.getLogicalType()).<Integer>getArgument(),
                null,
                false,
                null);
          }
          if (SqlTypes.DATE.getIdentifier().equals(id)) {
            return simple(DATE);
          }
          break;
        default:
          break;
      }
      throw new IllegalArgumentException(
          "CleanRowCoder cannot encode field '" + name + "' of type " + t);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Encoding

  /** A growable byte buffer, one per thread. */
  private static final class Buffer {
    byte[] bytes = new byte[512];
    int pos;

    void ensure(int more) {
      if (pos + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, pos + more));
      }
    }

    void writeByte(int b) {
      ensure(1);
      bytes[pos++] = (byte) b;
    }

    void writeVarLong(long v) {
      ensure(10);
      while ((v & ~0x7FL) != 0) {
        bytes[pos++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      bytes[pos++] = (byte) v;
    }

    void writeZigZag(long v) {
      writeVarLong((v << 1) ^ (v >> 63));
    }

    void writeLongFixed(long v) {
      ensure(8);
      for (int i = 56; i >= 0; i -= 8) {
        bytes[pos++] = (byte) (v >>> i);
      }
    }

    void writeBytes(byte[] b) {
      writeVarLong(b.length);
      ensure(b.length);
      System.arraycopy(b, 0, bytes, pos, b.length);
      pos += b.length;
    }

    void writeString(String s) {
      int n = s.length();
      if (n < 128) {
        // Fast path: ASCII text shorter than 128 characters, length in one byte.
        ensure(n + 1);
        int start = pos;
        int p = start + 1;
        for (int i = 0; i < n; i++) {
          char c = s.charAt(i);
          if (c >= 0x80) {
            pos = start;
            writeBytes(s.getBytes(StandardCharsets.UTF_8));
            return;
          }
          bytes[p++] = (byte) c;
        }
        bytes[start] = (byte) n;
        pos = p;
        return;
      }
      writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static final ThreadLocal<Buffer> OUT = ThreadLocal.withInitial(Buffer::new);

  @Override
  public void encode(Row row, OutputStream out) throws IOException {
    Buffer b = OUT.get();
    b.pos = 0;
    write(row, b);
    // The block's length, then the block: one write to the stream.
    int len = b.pos;
    byte[] head = new byte[5];
    int h = 0;
    int v = len;
    while ((v & ~0x7F) != 0) {
      head[h++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    head[h++] = (byte) v;
    out.write(head, 0, h);
    out.write(b.bytes, 0, len);
  }

  private void write(Row row, Buffer b) {
    if (row.getFieldCount() != fields.length) {
      throw new IllegalArgumentException(
          "row has " + row.getFieldCount() + " fields, the coder " + fields.length + ": " + schema);
    }
    // Null bitmap, one bit per field.
    int maskBytes = (fields.length + 7) >>> 3;
    b.ensure(maskBytes);
    int mask = b.pos;
    Arrays.fill(b.bytes, mask, mask + maskBytes, (byte) 0);
    b.pos += maskBytes;
    for (int i = 0; i < fields.length; i++) {
      Object v = row.getValue(i);
      if (v == null) {
        b.bytes[mask + (i >>> 3)] |= (byte) (1 << (i & 7));
      } else {
        writeValue(fields[i], v, b);
      }
    }
  }

  private static void writeValue(Encoding f, Object v, Buffer b) {
    switch (f.kind) {
      case STRING:
        b.writeString((String) v);
        return;
      case INT32:
      case INT16:
      case BYTE:
        b.writeZigZag(((Number) v).longValue());
        return;
      case INT64:
        b.writeZigZag((Long) v);
        return;
      case DOUBLE:
        b.writeLongFixed(Double.doubleToRawLongBits((Double) v));
        return;
      case FLOAT:
        b.writeZigZag(Float.floatToRawIntBits((Float) v));
        return;
      case BOOLEAN:
        b.writeByte(((Boolean) v) ? 1 : 0);
        return;
      case DECIMAL:
        {
          BigDecimal d = (BigDecimal) v;
          b.writeZigZag(d.scale());
          b.writeBytes(d.unscaledValue().toByteArray());
          return;
        }
      case EPOCH_MICROS:
        {
          Instant t = (Instant) v;
          b.writeZigZag(
              Math.addExact(
                  Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000));
          return;
        }
      case SCALED_DECIMAL:
        {
          BigDecimal d = (BigDecimal) v;
          if (d.scale() != f.scale) {
            d = d.setScale(f.scale, java.math.RoundingMode.UNNECESSARY);
          }
          b.writeZigZag(d.unscaledValue().longValueExact());
          return;
        }
      case DATE:
        b.writeZigZag(((LocalDate) v).toEpochDay());
        return;
      case ARRAY:
      case ROW:
        writeNested(f, v, b);
        return;
      default:
        throw new IllegalStateException("unknown encoding " + f.kind);
    }
  }

  /** The rarely used kinds, out of {@link #writeValue}'s switch: a list or a struct. */
  private static void writeNested(Encoding f, Object v, Buffer b) {
    if (f.kind == ROW) {
      f.nested.write((Row) v, b);
      return;
    }
    Collection<?> items = v instanceof Collection ? (Collection<?>) v : toList((Iterable<?>) v);
    b.writeVarLong(items.size());
    for (Object item : items) {
      if (f.elementNullable) {
        b.writeByte(item == null ? 0 : 1);
        if (item == null) {
          continue;
        }
      }
      writeValue(f.element, item, b);
    }
  }

  private static List<Object> toList(Iterable<?> items) {
    List<Object> list = new ArrayList<>();
    items.forEach(list::add);
    return list;
  }

  // ---------------------------------------------------------------------------------------------
  // Decoding

  /** The block being read, and per string field the last text read, one per thread. */
  private static final class Reader {
    byte[] bytes = new byte[512];
    int pos;
    int end;

    byte readByte() throws IOException {
      if (pos >= end) {
        throw new EOFException("row block ends early");
      }
      return bytes[pos++];
    }

    long readVarLong() throws IOException {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte x = readByte();
        v |= (long) (x & 0x7F) << shift;
        if (x >= 0) {
          return v;
        }
      }
      throw new IOException("malformed varint in a row block");
    }

    long readZigZag() throws IOException {
      long v = readVarLong();
      return (v >>> 1) ^ -(v & 1);
    }

    long readLongFixed() throws IOException {
      if (pos + 8 > end) {
        throw new EOFException("row block ends early");
      }
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (bytes[pos++] & 0xFF);
      }
      return v;
    }

    int readLength() throws IOException {
      long n = readVarLong();
      if (n < 0 || n > end - pos) {
        throw new EOFException("row block ends early");
      }
      return (int) n;
    }
  }

  /** The last text read for one string field, reused when the next row repeats it. */
  private static final class Seen {
    byte[] bytes = new byte[0];
    int length = -1;
    String text;
  }

  private static final ThreadLocal<Reader> IN = ThreadLocal.withInitial(Reader::new);

  /** Per thread, for each string field the last text read (made on first use). */
  private transient volatile ThreadLocal<Seen[]> lastText;

  private Seen[] lastText() {
    ThreadLocal<Seen[]> local = lastText;
    if (local == null) {
      local =
          ThreadLocal.withInitial(
              () -> {
                Seen[] seen = new Seen[fields.length];
                for (int i = 0; i < fields.length; i++) {
                  seen[i] = fields[i].kind == STRING ? new Seen() : null;
                }
                return seen;
              });
      lastText = local;
    }
    return local.get();
  }

  @Override
  public Row decode(InputStream in) throws IOException {
    int len = readLengthPrefix(in);
    Reader r = IN.get();
    if (r.bytes.length < len) {
      r.bytes = new byte[Math.max(len, r.bytes.length * 2)];
    }
    readFully(in, r.bytes, len);
    r.pos = 0;
    r.end = len;
    Row row = read(r);
    if (r.pos != len) {
      throw new IOException("row block has " + (len - r.pos) + " bytes left over");
    }
    return row;
  }

  private Row read(Reader r) throws IOException {
    Seen[] seen = lastText();
    int maskBytes = (fields.length + 7) >>> 3;
    if (r.pos + maskBytes > r.end) {
      throw new EOFException("row block ends early");
    }
    int mask = r.pos;
    r.pos += maskBytes;
    Object[] values = new Object[fields.length];
    for (int i = 0; i < fields.length; i++) {
      if ((r.bytes[mask + (i >>> 3)] & (1 << (i & 7))) != 0) {
        continue;
      }
      values[i] = fields[i].kind == STRING ? readString(r, seen[i]) : readValue(fields[i], r);
    }
    return Row.withSchema(schema).attachValues(Arrays.asList(values));
  }

  private static String readString(Reader r, Seen seen) throws IOException {
    int n = r.readLength();
    if (seen != null
        && n == seen.length
        && Arrays.equals(r.bytes, r.pos, r.pos + n, seen.bytes, 0, n)) {
      r.pos += n;
      return seen.text;
    }
    String s = new String(r.bytes, r.pos, n, StandardCharsets.UTF_8);
    if (seen != null && n <= 256) {
      if (seen.bytes.length < n) {
        seen.bytes = new byte[Math.max(n, 32)];
      }
      System.arraycopy(r.bytes, r.pos, seen.bytes, 0, n);
      seen.length = n;
      seen.text = s;
    }
    r.pos += n;
    return s;
  }

  private static Object readValue(Encoding f, Reader r) throws IOException {
    switch (f.kind) {
      case STRING:
        return readString(r, null);
      case INT32:
        return (int) r.readZigZag();
      case INT16:
        return (short) r.readZigZag();
      case BYTE:
        return (byte) r.readZigZag();
      case INT64:
        return r.readZigZag();
      case DOUBLE:
        return Double.longBitsToDouble(r.readLongFixed());
      case FLOAT:
        return Float.intBitsToFloat((int) r.readZigZag());
      case BOOLEAN:
        return r.readByte() != 0;
      case DECIMAL:
        {
          int scale = (int) r.readZigZag();
          int n = r.readLength();
          BigInteger unscaled = new BigInteger(r.bytes, r.pos, n);
          r.pos += n;
          return new BigDecimal(unscaled, scale);
        }
      case EPOCH_MICROS:
        {
          long micros = r.readZigZag();
          return Instant.ofEpochSecond(
              Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
        }
      case SCALED_DECIMAL:
        return BigDecimal.valueOf(r.readZigZag(), f.scale);
      case DATE:
        return LocalDate.ofEpochDay(r.readZigZag());
      case ARRAY:
        {
          int n = r.readLength();
          List<Object> items = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            if (f.elementNullable && r.readByte() == 0) {
              items.add(null);
              continue;
            }
            items.add(readValue(f.element, r));
          }
          return items;
        }
      case ROW:
        return f.nested.read(r);
      default:
        throw new IllegalStateException("unknown encoding " + f.kind);
    }
  }

  private static int readLengthPrefix(InputStream in) throws IOException {
    int v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("stream ends before a row");
      }
      v |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw new IOException("malformed row length");
  }

  private static void readFully(InputStream in, byte[] buf, int len) throws IOException {
    int off = 0;
    while (off < len) {
      int n = in.read(buf, off, len - off);
      if (n < 0) {
        throw new EOFException("stream ends inside a row");
      }
      off += n;
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Override
  public void verifyDeterministic() {
    // The same row always gives the same bytes.
  }

  @Override
  public TypeDescriptor<Row> getEncodedTypeDescriptor() {
    return TypeDescriptor.of(Row.class);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CleanRowCoder && ((CleanRowCoder) o).schema.equals(schema);
  }

  @Override
  public int hashCode() {
    return Objects.hash(CleanRowCoder.class, schema);
  }

  @Override
  public String toString() {
    return "CleanRowCoder(" + schema.getFieldCount() + " fields)";
  }
}
