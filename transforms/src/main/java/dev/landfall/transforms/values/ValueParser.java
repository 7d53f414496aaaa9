package dev.landfall.transforms.values;

import dev.landfall.transforms.definition.ColumnType;
import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.Locale;

/**
 * Turns the text of one CSV cell into the Java value its column type holds in a Beam {@code Row}.
 *
 * <p>Rules (documented in docs/definition.md): numbers are plain decimal notation with ASCII digits
 * (a leading sign allowed; no thousands separators); {@code double} also takes exponents but not
 * NaN or Infinity; a decimal may not carry more fraction digits than its scale or more integer
 * digits than {@code p - s}; booleans are {@code true/false/t/f/yes/no/y/n/1/0}; dates are ISO
 * {@code yyyy-MM-dd}; timestamps are ISO-8601 with {@code T} or a space, optional fraction,
 * optional zone ({@code Z}, {@code +02}, {@code +0200}, {@code +02:00}); without a zone they are
 * UTC. A {@code format} (a {@link DateTimeFormatter} pattern) replaces the ISO rule for dates and
 * timestamps. Timestamps keep microseconds (as PostgreSQL and Parquet do); finer digits are
 * truncated.
 */
public final class ValueParser implements Serializable {
  private static final long serialVersionUID = 1L;

  /** A cell that does not parse as its type; the message says why, without the value. */
  public static final class BadValue extends Exception {
    private static final long serialVersionUID = 1L;

    public BadValue(String message) {
      super(message, null, false, false);
    }
  }

  private final ColumnType type;
  private final String format;
  private transient DateTimeFormatter formatter;

  public ValueParser(ColumnType type, String format) {
    this.type = type;
    this.format = format;
  }

  public ColumnType type() {
    return type;
  }

  /** Parses non-empty, already trimmed text. */
  public Object parse(String text) throws BadValue {
    switch (type.kind()) {
      case STRING:
        return text;
      case INT:
        try {
          return Integer.parseInt(plainInteger(text, "not an int"));
        } catch (NumberFormatException e) {
          throw new BadValue("not an int");
        }
      case LONG:
        try {
          return Long.parseLong(plainInteger(text, "not a long"));
        } catch (NumberFormatException e) {
          throw new BadValue("not a long");
        }
      case DOUBLE:
        return parseDouble(text);
      case DECIMAL:
        return parseDecimal(text);
      case BOOLEAN:
        return parseBoolean(text);
      case DATE:
        return parseDate(text);
      case TIMESTAMP:
        return parseTimestamp(text);
      default:
        throw new IllegalStateException("unknown type " + type);
    }
  }

  /**
   * The text if it is an optional sign and ASCII digits (parseInt also takes other scripts'
   * digits).
   */
  private static String plainInteger(String text, String problem) throws BadValue {
    for (int i = (text.charAt(0) == '-' || text.charAt(0) == '+') ? 1 : 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new BadValue(problem);
      }
    }
    return text;
  }

  private static Double parseDouble(String text) throws BadValue {
    char c = text.charAt(text.length() - 1);
    // Double.parseDouble also takes "1d", "1f", hex and NaN/Infinity; accept digits and exponents
    // only.
    if (!(c >= '0' && c <= '9') && c != '.') {
      throw new BadValue("not a finite double");
    }
    try {
      double d = Double.parseDouble(text);
      if (Double.isNaN(d) || Double.isInfinite(d) || text.startsWith("0x") || text.contains("x")) {
        throw new BadValue("not a finite double");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new BadValue("not a double");
    }
  }

  private BigDecimal parseDecimal(String text) throws BadValue {
    int n = text.length();
    int start = (text.charAt(0) == '-' || text.charAt(0) == '+') ? 1 : 0;
    boolean dot = false;
    int digits = 0;
    for (int i = start; i < n; i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        digits++;
      } else if (c == '.' && !dot) {
        dot = true;
      } else {
        throw new BadValue("not a plain decimal number (no exponent or thousands separator)");
      }
    }
    if (digits == 0) {
      throw new BadValue("not a decimal number");
    }
    if (digits <= 18) {
      BigDecimal fast = smallDecimal(text, start);
      if (fast != null) {
        return fast;
      }
    }
    BigDecimal v = new BigDecimal(text);
    if (v.scale() > type.scale()) {
      try {
        v = v.setScale(type.scale());
      } catch (ArithmeticException e) {
        throw new BadValue("has more than " + type.scale() + " digits after the point");
      }
    } else {
      v = v.setScale(type.scale());
    }
    if (v.precision() - v.scale() > type.precision() - type.scale()) {
      throw new BadValue("exceeds " + type + " (too many digits before the point)");
    }
    return v;
  }

  /**
   * A plain decimal of at most 18 digits read into a long: the same value and scale as {@code new
   * BigDecimal(text).setScale(type.scale())}, or null when the slow path must decide (more digits
   * after the point than the type's scale, or a scale beyond 18). Throws as the slow path does when
   * the digits before the point exceed the type.
   */
  private BigDecimal smallDecimal(String text, int start) throws BadValue {
    long unscaled = 0;
    int fraction = -1;
    for (int i = start; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '.') {
        fraction = 0;
      } else {
        unscaled = unscaled * 10 + (c - '0');
        if (fraction >= 0) {
          fraction++;
        }
      }
    }
    int scale = type.scale();
    fraction = Math.max(fraction, 0);
    if (fraction > scale || scale > 18) {
      return null;
    }
    for (int i = fraction; i < scale; i++) {
      if (unscaled > Long.MAX_VALUE / 10) {
        return null;
      }
      unscaled *= 10;
    }
    BigDecimal v = BigDecimal.valueOf(text.charAt(0) == '-' ? -unscaled : unscaled, scale);
    if (v.precision() - v.scale() > type.precision() - type.scale()) {
      throw new BadValue("exceeds " + type + " (too many digits before the point)");
    }
    return v;
  }

  private static Boolean parseBoolean(String text) throws BadValue {
    switch (text.toLowerCase(Locale.ROOT)) {
      case "true":
      case "t":
      case "yes":
      case "y":
      case "1":
        return Boolean.TRUE;
      case "false":
      case "f":
      case "no":
      case "n":
      case "0":
        return Boolean.FALSE;
      default:
        throw new BadValue("not a boolean");
    }
  }

  private DateTimeFormatter formatter() {
    if (formatter == null) {
      formatter = DateTimeFormatter.ofPattern(format, Locale.ROOT);
    }
    return formatter;
  }

  private LocalDate parseDate(String text) throws BadValue {
    try {
      return format == null ? LocalDate.parse(text) : LocalDate.parse(text, formatter());
    } catch (DateTimeParseException e) {
      throw new BadValue(
          format == null ? "not an ISO date (yyyy-MM-dd)" : "not a date in " + format);
    }
  }

  private Instant parseTimestamp(String text) throws BadValue {
    try {
      if (format != null) {
        TemporalAccessor t = formatter().parse(text);
        LocalDateTime local = LocalDateTime.from(t);
        ZoneOffset zone =
            t.isSupported(ChronoField.OFFSET_SECONDS)
                ? ZoneOffset.ofTotalSeconds(t.get(ChronoField.OFFSET_SECONDS))
                : ZoneOffset.UTC;
        return local.toInstant(zone).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
      }
      return parseIsoTimestamp(text).truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    } catch (java.time.DateTimeException e) {
      throw new BadValue(
          format == null ? "not an ISO-8601 timestamp" : "not a timestamp in " + format);
    }
  }

  /** ISO-8601 local date-time, 'T' or ' ' between date and time, optional zone; UTC if none. */
  static Instant parseIsoTimestamp(String text) {
    if (text.length() < 16 || text.charAt(4) != '-' || text.charAt(7) != '-') {
      throw new DateTimeParseException("not ISO", text, 0);
    }
    char sep = text.charAt(10);
    if (sep != 'T' && sep != ' ' && sep != 't') {
      throw new DateTimeParseException("not ISO", text, 10);
    }
    int end = text.length();
    ZoneOffset offset = ZoneOffset.UTC;
    char last = text.charAt(end - 1);
    if (last == 'Z' || last == 'z') {
      end--;
    } else {
      for (int i = end - 1; i > 10; i--) {
        char c = text.charAt(i);
        if (c == '+' || c == '-') {
          offset = offset(text, i);
          end = i;
          break;
        }
        if (c == ':' || c == '.') {
          if (i < end - 3) {
            break;
          }
        }
      }
    }
    Instant fast = parseDigitsOnly(text, end, offset);
    if (fast != null) {
      return fast;
    }
    char[] local = text.substring(0, end).toCharArray();
    local[10] = 'T';
    return LocalDateTime.parse(new String(local)).toInstant(offset);
  }

  /** Whole quarter hours from -18:00 to +18:00, the offsets of nearly every zone. */
  private static final ZoneOffset[] QUARTER_HOURS = new ZoneOffset[145];

  static {
    for (int i = 0; i < QUARTER_HOURS.length; i++) {
      QUARTER_HOURS[i] = ZoneOffset.ofTotalSeconds((i - 72) * 900);
    }
  }

  /**
   * The offset at {@code at}: {@code ±HH:MM} of whole quarter hours from a table, anything else
   * through {@link ZoneOffset#of} (whose cache lookup by text showed in profiles).
   */
  private static ZoneOffset offset(String text, int at) {
    if (text.length() - at == 6 && text.charAt(at + 3) == ':') {
      int h = digits(text, at + 1, 2);
      int m = digits(text, at + 4, 2);
      if (h >= 0 && m >= 0 && h <= 18 && m < 60 && m % 15 == 0 && (h < 18 || m == 0)) {
        int quarters = h * 4 + m / 15;
        return QUARTER_HOURS[72 + (text.charAt(at) == '-' ? -quarters : quarters)];
      }
    }
    return ZoneOffset.of(text.substring(at));
  }

  /**
   * The common shape {@code yyyy-MM-dd?HH:mm[:ss[.f{1,9}]]} read digit by digit, the fields checked
   * by {@link LocalDateTime#of}; null for any other shape (the formatter then decides). {@code
   * LocalDateTime.parse} dominated the validation step's profile.
   */
  private static Instant parseDigitsOnly(String t, int end, ZoneOffset offset) {
    if (end != 16 && end != 19 && (end < 21 || end > 29)) {
      return null;
    }
    int year = digits(t, 0, 4);
    int month = digits(t, 5, 2);
    int day = digits(t, 8, 2);
    int hour = digits(t, 11, 2);
    int minute = digits(t, 14, 2);
    if ((year | month | day | hour | minute) < 0 || t.charAt(13) != ':') {
      return null;
    }
    int second = 0;
    int nano = 0;
    if (end >= 19) {
      second = digits(t, 17, 2);
      if (second < 0 || t.charAt(16) != ':') {
        return null;
      }
      if (end > 19) {
        if (t.charAt(19) != '.') {
          return null;
        }
        int fraction = digits(t, 20, end - 20);
        if (fraction < 0) {
          return null;
        }
        nano = fraction;
        for (int i = end - 20; i < 9; i++) {
          nano *= 10;
        }
      }
    }
    return LocalDateTime.of(year, month, day, hour, minute, second, nano).toInstant(offset);
  }

  /** The value of {@code n} ASCII digits at {@code at}, or -1 if one is not a digit. */
  private static int digits(String t, int at, int n) {
    int v = 0;
    for (int i = at; i < at + n; i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
