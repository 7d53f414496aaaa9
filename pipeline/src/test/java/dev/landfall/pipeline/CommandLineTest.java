package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.options.OptionsHelp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What a person sees on the command line: landfall's own --help, and one line per error saying what
 * is wrong and what to do, with the stack trace in a log file.
 */
class CommandLineTest extends PostgresTestBase {

  /** The line {@link UserErrors#report} prints for {@code e}; asserts it is one line. */
  private static String reported(Throwable e, String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    UserErrors.report(
        e,
        args,
        dir.resolve("errors").toString(),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    String out = err.toString(StandardCharsets.UTF_8);
    assertThat(out, out.strip().lines().count(), equalTo(1L));
    assertThat(out, not(containsString("\tat ")));
    return out;
  }

  private static Throwable failureOf(String... args) {
    return assertThrows(
        Exception.class, () -> LandfallPipeline.run(LandfallPipeline.options(args)));
  }

  @Test
  void helpListsLandfallsOwnOptionsByGroupWithDefaults() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OptionsHelp.print(new PrintStream(out, true, StandardCharsets.UTF_8));
    String help = out.toString(StandardCharsets.UTF_8);
    assertThat(help, containsString("Input:"));
    assertThat(help, containsString("Watch mode and the file ledger:"));
    assertThat(help, containsString("--inputGlob=**/*.csv*"));
    assertThat(help, containsString("--dbSchema=public"));
    assertThat(help, containsString("--stopAfterIdle"));
    assertThat("Beam's own options are not listed", help, not(containsString("--jobName")));
    assertThat(OptionsHelp.requested("--input=x", "--help"), equalTo(true));
    assertThat(
        "Beam's --help=<class> is left to Beam",
        OptionsHelp.requested("--help=FlinkPipelineOptions"),
        equalTo(false));
  }

  @Test
  void aValueOfTheWrongTypeNamesTheFlag() {
    String[] args = {"--input=/data", "--sampleRows=abc"};
    String line =
        reported(
            assertThrows(IllegalArgumentException.class, () -> LandfallPipeline.options(args)),
            args);
    assertThat(line, containsString("--sampleRows=abc: 'abc' is not a whole number"));
    assertThat(line, containsString("--help"));
    String log = dir.resolve("errors").resolve("last-error.log").toString();
    assertThat("the details are in the log file", line, containsString(log));
  }

  @Test
  void anUnknownFlagOrRunnerIsOneLine() {
    assertThat(
        reported(
            assertThrows(
                IllegalArgumentException.class, () -> LandfallPipeline.options("--inptu=/data"))),
        containsString("unknown option --inptu"));
    assertThat(
        reported(
            assertThrows(
                IllegalArgumentException.class, () -> LandfallPipeline.options("--runner=Flonk"))),
        containsString("--runner=Flonk is not a runner here"));
  }

  @Test
  void aMissingOrEmptyInputIsAnErrorThatNamesThePath() throws Exception {
    Path missing = dir.resolve("no-such-folder");
    assertThat(
        reported(
            failureOf("--input=" + missing, "--sinks=parquet", "--workDir=" + dir.resolve("w1"))),
        containsString("--input: " + missing + " does not exist"));
    Path empty = Files.createDirectories(dir.resolve("empty-folder"));
    Files.writeString(empty.resolve("notes.txt"), "not input");
    assertThat(
        reported(
            failureOf("--input=" + empty, "--sinks=parquet", "--workDir=" + dir.resolve("w2"))),
        containsString("--input: no .csv or .csv.gz files under " + empty));
  }

  @Test
  void aBadDefinitionNamesItsFile() throws Exception {
    Path def = dir.resolve("broken.json");
    Files.writeString(def, "{\"name\": \"x\", ");
    assertThat(
        reported(failureOf("--datasetFile=" + def, "--input=" + dir)),
        containsString("--datasetFile=" + def + ": "));
  }

  @Test
  void anUnreachableDatabaseSaysWhatToCheck() throws Exception {
    Path input = dir.resolve("db-in");
    dev.landfall.pipeline.sample.BillingSampleGenerator.standard(200, 1).writeTo(input);
    String line =
        reported(
            failureOf(
                "--input=" + input,
                "--workDir=" + dir.resolve("w3"),
                "--jdbcUrl=jdbc:postgresql://127.0.0.1:1/postgres"));
    assertThat(line, containsString("cannot connect to PostgreSQL at"));
    assertThat(line, containsString("--jdbcUrl"));
  }

  @Test
  void anEmbeddedDatabaseHeldByAnotherProcessSaysWhichAndWhatToDo() throws Exception {
    Path work = dir.resolve("held");
    try (EmbeddedPostgresServer holder = EmbeddedPostgresServer.start(work.resolve("pgdata"), 0)) {
      String line = reported(failureOf("--workDir=" + work, "--embeddedPgPort=0"));
      assertThat(line, containsString("in use by another process (bin/landfall-db"));
    }
  }
}
