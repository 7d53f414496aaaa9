package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.pipeline.options.WatchOptions;
import java.nio.file.Path;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Watch-mode option parsing and the checks made before a watch run starts. */
class WatchOptionsTest {
  @TempDir Path dir;

  @Test
  void durationsInTheUsualForms() {
    assertThat(
        WatchOptions.parseDuration("--pollInterval", "10s"), equalTo(Duration.standardSeconds(10)));
    assertThat(
        WatchOptions.parseDuration("--pollInterval", "500ms"), equalTo(Duration.millis(500)));
    assertThat(
        WatchOptions.parseDuration("--stopAfterIdle", "2m"), equalTo(Duration.standardMinutes(2)));
    assertThat(
        WatchOptions.parseDuration("--stopAfterIdle", "1h"), equalTo(Duration.standardHours(1)));
    assertThat(
        WatchOptions.parseDuration("--pollInterval", "PT15S"),
        equalTo(Duration.standardSeconds(15)));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> WatchOptions.parseDuration("--pollInterval", "ten seconds"));
    assertThat(e.getMessage(), containsString("--pollInterval"));
  }

  @Test
  void watchWithoutPostgresIsRefusedWithAReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LandfallPipeline.run(
                    EndToEndChecks.options(
                        dir,
                        dir.resolve("w"),
                        "jdbc:postgresql://127.0.0.1:1/none",
                        "--watch",
                        "--sinks=parquet")));
    assertThat(e.getMessage(), containsString("ledger"));
  }
}
