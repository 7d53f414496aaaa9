package dev.landfall.transforms.definition;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * A column type of the dataset definition: {@code string, int, long, double, decimal(p,s), boolean,
 * date, timestamp}. Parsed once from the definition's type text.
 */
public final class ColumnType implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The kinds of value a column holds. */
  public enum Kind {
    STRING,
    INT,
    LONG,
    DOUBLE,
    DECIMAL,
    BOOLEAN,
    DATE,
    TIMESTAMP
  }

  private final Kind kind;
  private final int precision;
  private final int scale;

  private ColumnType(Kind kind, int precision, int scale) {
    this.kind = kind;
    this.precision = precision;
    this.scale = scale;
  }

  public static ColumnType of(Kind kind) {
    if (kind == Kind.DECIMAL) {
      throw new IllegalArgumentException("decimal needs a precision and scale: decimal(p,s)");
    }
    return new ColumnType(kind, 0, 0);
  }

  public static ColumnType decimal(int precision, int scale) {
    if (precision < 1 || precision > 1000 || scale < 0 || scale > precision) {
      throw new IllegalArgumentException(
          "decimal("
              + precision
              + ","
              + scale
              + ") is not valid: need 1 <= p <= 1000 and 0 <= s <= p");
    }
    return new ColumnType(Kind.DECIMAL, precision, scale);
  }

  /**
   * Whether values of this type can become values of {@code to} without changing what they mean:
   * the same type, {@code int} to {@code long}, {@code decimal(p,s)} to {@code decimal(p',s)} with
   * {@code p' >= p}, {@code date} to {@code timestamp} (midnight UTC). The one widening rule of a
   * definition that changed: the rows table's schema evolution and the merging of Parquet files
   * written under older definitions both follow it.
   */
  public boolean widensTo(ColumnType to) {
    if (equals(to)) {
      return true;
    }
    switch (kind) {
      case INT:
        return to.kind == Kind.LONG;
      case DATE:
        return to.kind == Kind.TIMESTAMP;
      case DECIMAL:
        return to.kind == Kind.DECIMAL && to.scale == scale && to.precision >= precision;
      default:
        return false;
    }
  }

  /** Parses a type text such as {@code "long"} or {@code "decimal(12,3)"}. */
  public static ColumnType parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("a type is required");
    }
    String t = text.trim().toLowerCase(Locale.ROOT).replace(" ", "");
    if (t.startsWith("decimal(") && t.endsWith(")")) {
      String[] ps = t.substring("decimal(".length(), t.length() - 1).split(",", -1);
      if (ps.length != 2) {
        throw new IllegalArgumentException("type '" + text + "': write decimal(precision,scale)");
      }
      try {
        return decimal(Integer.parseInt(ps[0]), Integer.parseInt(ps[1]));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("type '" + text + "': write decimal(precision,scale)");
      }
    }
    switch (t) {
      case "string":
        return of(Kind.STRING);
      case "int":
        return of(Kind.INT);
      case "long":
        return of(Kind.LONG);
      case "double":
        return of(Kind.DOUBLE);
      case "boolean":
        return of(Kind.BOOLEAN);
      case "date":
        return of(Kind.DATE);
      case "timestamp":
        return of(Kind.TIMESTAMP);
      default:
        throw new IllegalArgumentException(
            "unknown type '"
                + text
                + "': use string, int, long, double, decimal(p,s), boolean, date or timestamp");
    }
  }

  public Kind kind() {
    return kind;
  }

  public int precision() {
    return precision;
  }

  public int scale() {
    return scale;
  }

  public boolean isNumeric() {
    return kind == Kind.INT || kind == Kind.LONG || kind == Kind.DOUBLE || kind == Kind.DECIMAL;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ColumnType)) {
      return false;
    }
    ColumnType other = (ColumnType) o;
    return kind == other.kind && precision == other.precision && scale == other.scale;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, precision, scale);
  }

  @Override
  public String toString() {
    return kind == Kind.DECIMAL
        ? "decimal(" + precision + "," + scale + ")"
        : kind.name().toLowerCase(Locale.ROOT);
  }
}
