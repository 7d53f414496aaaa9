package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.values.ValueParser;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class ValueParserTest {
  private static Object parse(String type, String text) throws ValueParser.BadValue {
    return new ValueParser(ColumnType.parse(type), null).parse(text);
  }

  @Test
  void timestampsAcceptIsoVariantsAndStoreUtc() throws Exception {
    Instant expected = Instant.parse("2024-01-02T03:04:05Z");
    assertThat(parse("timestamp", "2024-01-02T03:04:05Z"), equalTo(expected));
    assertThat(parse("timestamp", "2024-01-02 03:04:05"), equalTo(expected));
    assertThat(parse("timestamp", "2024-01-02T05:04:05+02:00"), equalTo(expected));
    assertThat(parse("timestamp", "2024-01-02T05:04:05+0200"), equalTo(expected));
    assertThat(parse("timestamp", "2024-01-01T22:04:05-05"), equalTo(expected));
    assertThat(
        parse("timestamp", "2024-01-02T03:04:05.250"),
        equalTo(Instant.parse("2024-01-02T03:04:05.250Z")));
    assertThrows(ValueParser.BadValue.class, () -> parse("timestamp", "yesterday"));
    assertThrows(ValueParser.BadValue.class, () -> parse("timestamp", "2024-13-02T03:04:05"));
  }

  /**
   * The digit-by-digit fast path for ISO timestamps gives what {@code LocalDateTime.parse} gives,
   * and rejects what it rejects.
   */
  @Test
  void fastIsoTimestampsAgreeWithTheFormatter() throws Exception {
    String[] texts = {
      "2024-02-29T23:59:59",
      "2024-02-29 00:00",
      "1999-12-31T23:59:59.9",
      "2024-01-02T03:04:05.123456",
      "2024-01-02T03:04:05.123456789",
      "2024-01-02T03:04:05.1234567",
      "2023-02-29T00:00:00",
      "2024-04-31T00:00:00",
      "2024-01-02T24:00:00",
      "2024-01-02T23:60:00",
      "2024-01-02T23:59:60",
      "2024-00-10T01:01:01",
      "2024-01-02T3:04:05",
      "2024-01-02T03:04:5",
      "2024-01-02T03-04-05",
      "2024-01-02T03:04:05.",
      "2024-01-02T03:04:05,5",
      "2024-01-0xT03:04:05",
      "+2024-01-02T03:04",
      "2024-01-02T03:04:05.1234567890"
    };
    for (String t : texts) {
      Object expected;
      try {
        expected =
            java.time.LocalDateTime.parse(t.replace(' ', 'T'))
                .toInstant(java.time.ZoneOffset.UTC)
                .truncatedTo(java.time.temporal.ChronoUnit.MICROS);
      } catch (java.time.DateTimeException e) {
        expected = null;
      }
      if (expected == null) {
        assertThrows(ValueParser.BadValue.class, () -> parse("timestamp", t), t);
      } else {
        assertThat(t, parse("timestamp", t), equalTo(expected));
      }
    }
  }

  @Test
  void timestampWithOwnFormat() throws Exception {
    ValueParser p = new ValueParser(ColumnType.parse("timestamp"), "dd/MM/yyyy HH:mm");
    assertThat(p.parse("02/01/2024 03:04"), equalTo(Instant.parse("2024-01-02T03:04:00Z")));
  }

  @Test
  void decimalsKeepScaleAndRejectOverflowExponentsAndSeparators() throws Exception {
    assertThat(parse("decimal(6,2)", "12.5"), equalTo(new BigDecimal("12.50")));
    assertThat(parse("decimal(6,2)", "-0.10"), equalTo(new BigDecimal("-0.10")));
    assertThat(parse("decimal(6,2)", "1.500"), equalTo(new BigDecimal("1.50")));
    ValueParser.BadValue tooPrecise =
        assertThrows(ValueParser.BadValue.class, () -> parse("decimal(6,2)", "1.234"));
    assertThat(tooPrecise.getMessage(), containsString("digits after the point"));
    assertThrows(ValueParser.BadValue.class, () -> parse("decimal(6,2)", "12345.6"));
    assertThrows(ValueParser.BadValue.class, () -> parse("decimal(6,2)", "1e3"));
    assertThrows(ValueParser.BadValue.class, () -> parse("decimal(6,2)", "1,000"));
    assertThrows(ValueParser.BadValue.class, () -> parse("decimal(6,2)", "12.5 EUR"));
  }

  /**
   * Decimals of up to 18 digits are read into a long: every shape gives what {@code new
   * BigDecimal(text).setScale(scale)} gives (value and scale), or the same refusal.
   */
  @Test
  void smallDecimalsAgreeWithBigDecimal() throws Exception {
    java.util.Random random = new java.util.Random(42);
    String[] types = {
      "decimal(6,2)",
      "decimal(14,4)",
      "decimal(18,4)",
      "decimal(18,0)",
      "decimal(38,10)",
      "decimal(20,18)"
    };
    for (int n = 0; n < 200_000; n++) {
      String type = types[random.nextInt(types.length)];
      StringBuilder text = new StringBuilder();
      int sign = random.nextInt(4);
      text.append(sign == 0 ? "-" : sign == 1 ? "+" : "");
      int before = random.nextInt(20);
      int after = random.nextInt(4) == 0 ? -1 : random.nextInt(20);
      for (int i = 0; i < before; i++) {
        text.append((char) ('0' + random.nextInt(10)));
      }
      if (after >= 0) {
        text.append('.');
        for (int i = 0; i < after; i++) {
          text.append((char) ('0' + (random.nextInt(3) == 0 ? 0 : random.nextInt(10))));
        }
      }
      String t = text.toString();
      if (t.isEmpty()) {
        continue;
      }
      ColumnType ct = ColumnType.parse(type);
      BigDecimal expected;
      try {
        expected = new BigDecimal(t).setScale(ct.scale());
        if (expected.precision() - expected.scale() > ct.precision() - ct.scale()) {
          expected = null;
        }
      } catch (NumberFormatException | ArithmeticException e) {
        expected = null;
      }
      Object got;
      try {
        got = parse(type, t);
      } catch (ValueParser.BadValue e) {
        got = null;
      }
      assertThat(type + " " + t, got, equalTo(expected));
      if (got != null) {
        assertThat(type + " " + t + " scale", ((BigDecimal) got).scale(), equalTo(ct.scale()));
      }
    }
  }

  /** Offsets read from the table of quarter hours are those of {@code ZoneOffset.of}. */
  @Test
  void offsetsAgreeWithZoneOffset() throws Exception {
    for (int h = 0; h <= 19; h++) {
      for (int m = 0; m < 60; m += 5) {
        for (String sign : new String[] {"+", "-"}) {
          String offset = sign + String.format("%02d:%02d", h, m);
          String text = "2024-01-02T03:04:05" + offset;
          Object expected;
          try {
            expected =
                java.time.LocalDateTime.parse("2024-01-02T03:04:05")
                    .toInstant(java.time.ZoneOffset.of(offset));
          } catch (java.time.DateTimeException e) {
            expected = null;
          }
          Object got;
          try {
            got = parse("timestamp", text);
          } catch (ValueParser.BadValue e) {
            got = null;
          }
          assertThat(text, got, equalTo(expected));
        }
      }
    }
  }

  @Test
  void numbersBooleansAndDates() throws Exception {
    assertThat(parse("int", "+42"), equalTo(42));
    assertThat(parse("long", "-9000000000"), equalTo(-9_000_000_000L));
    assertThat(parse("double", "1.5e3"), equalTo(1500.0));
    assertThrows(ValueParser.BadValue.class, () -> parse("double", "NaN"));
    assertThrows(ValueParser.BadValue.class, () -> parse("double", "Infinity"));
    assertThrows(ValueParser.BadValue.class, () -> parse("int", "1,000"));
    assertThrows(ValueParser.BadValue.class, () -> parse("int", "3000000000"));
    assertThrows(
        ValueParser.BadValue.class, () -> parse("int", "\uff11\uff12")); // fullwidth digits
    assertThrows(ValueParser.BadValue.class, () -> parse("long", "1e3"));
    assertThat(parse("boolean", "Yes"), equalTo(true));
    assertThat(parse("boolean", "0"), equalTo(false));
    assertThrows(ValueParser.BadValue.class, () -> parse("boolean", "maybe"));
    assertThat(parse("date", "2024-02-29"), equalTo(LocalDate.of(2024, 2, 29)));
    assertThrows(ValueParser.BadValue.class, () -> parse("date", "2023-02-29"));
  }
}
