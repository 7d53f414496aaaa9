package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Problems found before the job starts give one clear error and write nothing. */
class FailFastTest {
  @TempDir Path dir;

  @Test
  void unreachableDatabaseIsNamedWithoutItsPassword() throws Exception {
    Path in = dir.resolve("in/date=2024-01-01");
    Files.createDirectories(in);
    Files.writeString(in.resolve("a.csv"), "event_id\n");
    SQLException e =
        assertThrows(
            SQLException.class,
            () ->
                LandfallPipeline.run(
                    EndToEndChecks.options(
                        dir.resolve("in"),
                        dir.resolve("work"),
                        "jdbc:postgresql://127.0.0.1:1/nowhere?password=hunter2")));
    assertThat(e.getMessage(), containsString("127.0.0.1:1/nowhere"));
    assertThat(e.getMessage(), not(containsString("hunter2")));
    assertThat(Files.exists(dir.resolve("work/parquet")), equalTo(false));
  }

  @Test
  void unsafeSchemaNameIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LandfallPipeline.run(
                    EndToEndChecks.options(
                        dir,
                        dir.resolve("work"),
                        "jdbc:postgresql://127.0.0.1:1/x",
                        "--dbSchema=public; DROP TABLE x")));
    assertThat(e.getMessage(), containsString("--dbSchema"));
  }

  @Test
  void aReservedSchemaNameIsRefusedWithTheReason() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LandfallPipeline.run(
                    EndToEndChecks.options(
                        dir,
                        dir.resolve("work"),
                        "jdbc:postgresql://127.0.0.1:1/x",
                        "--dbSchema=pg_lake")));
    assertThat(e.getMessage(), containsString("pg_ is reserved"));
  }
}
