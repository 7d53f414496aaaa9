package dev.landfall.io.postgres;

import java.time.Instant;
import java.time.LocalDate;

/**
 * Fast text for timestamps and dates in SQL text (the key values the ledger's {@code
 * DropKeysStoredBefore} looks up, {@link #sqlText}; the sink itself sends {@code COPY} in binary,
 * {@link CopyBinary}), as {@link Instant#toString()} and {@link LocalDate#toString()} write them
 * (ISO-8601, the fraction in groups of three digits, UTC as {@code Z}), without their formatter's
 * per-call work. Years outside 1..9999 go through {@code toString()} itself.
 */
public final class SqlText {
  /** 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch seconds. */
  private static final long FIRST_SECOND = -62_135_596_800L;

  private static final long PAST_LAST_SECOND = 253_402_300_800L;

  private SqlText() {}

  /**
   * A value as PostgreSQL reads it back from text: decimals without exponent, instants and dates in
   * ISO-8601, anything else as {@link String#valueOf(Object)}.
   */
  public static String sqlText(Object v) {
    if (v instanceof java.math.BigDecimal) {
      return ((java.math.BigDecimal) v).toPlainString();
    }
    if (v instanceof Instant) {
      StringBuilder sb = new StringBuilder();
      appendInstant(sb, (Instant) v);
      return sb.toString();
    }
    if (v instanceof LocalDate) {
      StringBuilder sb = new StringBuilder();
      appendLocalDate(sb, (LocalDate) v);
      return sb.toString();
    }
    return String.valueOf(v);
  }

  static void appendInstant(StringBuilder sb, Instant t) {
    long seconds = t.getEpochSecond();
    if (seconds < FIRST_SECOND || seconds >= PAST_LAST_SECOND) {
      sb.append(t);
      return;
    }
    appendDate(sb, LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400)));
    int ofDay = (int) Math.floorMod(seconds, 86_400);
    sb.append('T');
    twoDigits(sb, ofDay / 3600);
    sb.append(':');
    twoDigits(sb, ofDay / 60 % 60);
    sb.append(':');
    twoDigits(sb, ofDay % 60);
    int nanos = t.getNano();
    if (nanos > 0) {
      sb.append('.');
      if (nanos % 1_000_000 == 0) {
        digits(sb, nanos / 1_000_000, 3);
      } else if (nanos % 1_000 == 0) {
        digits(sb, nanos / 1_000, 6);
      } else {
        digits(sb, nanos, 9);
      }
    }
    sb.append('Z');
  }

  static void appendLocalDate(StringBuilder sb, LocalDate d) {
    if (!appendDate(sb, d)) {
      sb.append(d);
    }
  }

  /** yyyy-MM-dd for years 1..9999; false (and nothing written) otherwise. */
  private static boolean appendDate(StringBuilder sb, LocalDate d) {
    int year = d.getYear();
    if (year < 1 || year > 9999) {
      return false;
    }
    digits(sb, year, 4);
    sb.append('-');
    twoDigits(sb, d.getMonthValue());
    sb.append('-');
    twoDigits(sb, d.getDayOfMonth());
    return true;
  }

  private static void twoDigits(StringBuilder sb, int v) {
    sb.append((char) ('0' + v / 10)).append((char) ('0' + v % 10));
  }

  /** {@code v} (non-negative) in exactly {@code width} digits, zero-padded. */
  private static void digits(StringBuilder sb, int v, int width) {
    int at = sb.length();
    sb.setLength(at + width);
    for (int i = at + width - 1; i >= at; i--) {
      sb.setCharAt(i, (char) ('0' + v % 10));
      v /= 10;
    }
  }
}
