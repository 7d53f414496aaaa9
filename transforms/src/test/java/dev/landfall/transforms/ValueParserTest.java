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
    assertThat(parse("timestamp", "2024-01-02T03:04:05.250"),
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
        "2024-02-29T23:59:59", "2024-02-29 00:00", "1999-12-31T23:59:59.9",
        "2024-01-02T03:04:05.123456", "2024-01-02T03:04:05.123456789", "2024-01-02T03:04:05.1234567",
        "2023-02-29T00:00:00", "2024-04-31T00:00:00", "2024-01-02T24:00:00", "2024-01-02T23:60:00",
        "2024-01-02T23:59:60", "2024-00-10T01:01:01", "2024-01-02T3:04:05", "2024-01-02T03:04:5",
        "2024-01-02T03-04-05", "2024-01-02T03:04:05.", "2024-01-02T03:04:05,5", "2024-01-0xT03:04:05",
        "+2024-01-02T03:04", "2024-01-02T03:04:05.1234567890"};
    for (String t : texts) {
      Object expected;
      try {
        expected = java.time.LocalDateTime.parse(t.replace(' ', 'T'))
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

  @Test
  void numbersBooleansAndDates() throws Exception {
    assertThat(parse("int", "+42"), equalTo(42));
    assertThat(parse("long", "-9000000000"), equalTo(-9_000_000_000L));
    assertThat(parse("double", "1.5e3"), equalTo(1500.0));
    assertThrows(ValueParser.BadValue.class, () -> parse("double", "NaN"));
    assertThrows(ValueParser.BadValue.class, () -> parse("double", "Infinity"));
    assertThrows(ValueParser.BadValue.class, () -> parse("int", "1,000"));
    assertThrows(ValueParser.BadValue.class, () -> parse("int", "3000000000"));
    assertThrows(ValueParser.BadValue.class, () -> parse("int", "\uff11\uff12")); // fullwidth digits
    assertThrows(ValueParser.BadValue.class, () -> parse("long", "1e3"));
    assertThat(parse("boolean", "Yes"), equalTo(true));
    assertThat(parse("boolean", "0"), equalTo(false));
    assertThrows(ValueParser.BadValue.class, () -> parse("boolean", "maybe"));
    assertThat(parse("date", "2024-02-29"), equalTo(LocalDate.of(2024, 2, 29)));
    assertThrows(ValueParser.BadValue.class, () -> parse("date", "2023-02-29"));
  }
}
