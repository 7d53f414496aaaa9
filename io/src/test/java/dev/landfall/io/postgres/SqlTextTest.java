package dev.landfall.io.postgres;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.time.Instant;
import java.time.LocalDate;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SqlTextTest {
  private static String instant(Instant t) {
    StringBuilder sb = new StringBuilder("x");
    SqlText.appendInstant(sb, t);
    return sb.toString();
  }

  private static String date(LocalDate d) {
    StringBuilder sb = new StringBuilder("x");
    SqlText.appendLocalDate(sb, d);
    return sb.toString();
  }

  @Test
  void instantsAreWrittenAsInstantToStringWritesThem() {
    Instant[] edges = {
      Instant.EPOCH,
      Instant.EPOCH.minusNanos(1),
      Instant.parse("2024-01-01T14:40:48Z"),
      Instant.parse("2024-02-29T23:59:59.999999999Z"),
      Instant.parse("2024-01-01T00:00:00.1Z"),
      Instant.parse("2024-01-01T00:00:00.000123Z"),
      Instant.parse("2024-01-01T00:00:00.000000007Z"),
      Instant.parse("0001-01-01T00:00:00Z"),
      Instant.parse("9999-12-31T23:59:59.5Z"),
      Instant.parse("0001-01-01T00:00:00Z").minusSeconds(1),
      Instant.parse("+10000-01-01T00:00:00Z"),
      Instant.MIN,
      Instant.MAX
    };
    for (Instant t : edges) {
      assertThat(instant(t), equalTo("x" + t));
    }
    Random random = new Random(42);
    for (int i = 0; i < 200_000; i++) {
      long seconds = random.nextLong() % 400_000_000_000L;
      int nanos =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1_000;
            default -> random.nextInt(1_000_000_000);
          };
      Instant t = Instant.ofEpochSecond(seconds, nanos);
      assertThat(instant(t), equalTo("x" + t));
    }
  }

  @Test
  void datesAreWrittenAsLocalDateToStringWritesThem() {
    for (LocalDate d :
        new LocalDate[] {
          LocalDate.of(1, 1, 1),
          LocalDate.of(9999, 12, 31),
          LocalDate.of(0, 1, 1),
          LocalDate.of(-5, 3, 1),
          LocalDate.of(10_000, 1, 1),
          LocalDate.of(2024, 2, 29),
          LocalDate.MIN,
          LocalDate.MAX
        }) {
      assertThat(date(d), equalTo("x" + d));
    }
    for (long day = -800_000; day < 3_000_000; day += 7) {
      LocalDate d = LocalDate.ofEpochDay(day);
      assertThat(date(d), equalTo("x" + d));
    }
  }
}
