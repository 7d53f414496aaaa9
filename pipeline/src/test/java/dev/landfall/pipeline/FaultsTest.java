package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Faults a production run meets: the database restarted in the middle of a run, or down for longer
 * than a minute during a watch, the job process killed with SIGKILL and started again, an output
 * folder that cannot be written.
 */
class FaultsTest extends PostgresTestBase {
  private static long count(String sql) {
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      return EndToEndChecks.scalar(c, sql);
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  void aDatabaseRestartInTheMiddleOfARunIsRiddenOut() throws Exception {
    Path input = dir.resolve("restart-in");
    BillingSampleGenerator.Expected exp =
        BillingSampleGenerator.standard(40_000, 31).writeTo(input);
    Path work = dir.resolve("restart-work");
    CompletableFuture<RunSummary> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return LandfallPipeline.run(
                    EndToEndChecks.options(
                        input,
                        work,
                        postgres.jdbcUrl(),
                        "--dbSchema=db_restart",
                        "--dbBatchSize=200"));
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    WatchScenario.await(
        "rows arriving",
        120,
        () -> count("SELECT count(*) FROM db_restart.billing") > 0 || run.isDone());
    boolean midRun = !run.isDone();
    int port = postgres.port();
    postgres.close(); // fast shutdown: open connections are terminated
    Thread.sleep(1500);
    postgres = EmbeddedPostgresServer.start(dir.resolve("pg"), port);
    RunSummary summary = run.get(300, TimeUnit.SECONDS);
    assertThat("the restart happened while rows were being written", midRun, equalTo(true));
    EndToEndChecks.assertBillingOutputs(
        summary, exp, postgres.jdbcUrl(), "db_restart", work.resolve("parquet"));
  }

  @Test
  void aWatchRidesOutTheDatabaseBeingDownForMinutesAndLosesNothing() throws Exception {
    // Arrange: a watch has finished its first files.
    Path all = dir.resolve("outage-all");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(3_000, 3, 2, 0.01, 0.02, 59).writeTo(all);
    List<Path> files = WatchScenario.csvFiles(all);
    Path input = dir.resolve("outage-in");
    Path work = dir.resolve("outage-work");
    WatchScenario.land(all, input, files.subList(0, 2), true);
    CompletableFuture<RunSummary> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return LandfallPipeline.run(
                    EndToEndChecks.options(
                        input,
                        work,
                        postgres.jdbcUrl(),
                        "--dbSchema=db_outage",
                        "--watch",
                        "--pollInterval=1s",
                        "--stopAfterIdle=10s"));
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    WatchScenario.await(
        "the first files",
        120,
        () -> WatchScenario.doneFiles(postgres.jdbcUrl(), "db_outage") == 2);

    // Act: the database goes away, files land, and it stays away for longer than the job's
    // database retries used to last (about 30 s); then it comes back.
    int port = postgres.port();
    postgres.close();
    WatchScenario.land(all, input, files.subList(2, files.size()), true);
    // The outage itself, not a wait for a state: 45 s in the suite; -Dlandfall.outageSeconds=300
    // runs the five-minute outage of docs/scale.md.
    Thread.sleep(1000L * Long.getLong("landfall.outageSeconds", 45));
    boolean runningThroughTheOutage = !run.isDone();
    postgres = EmbeddedPostgresServer.start(dir.resolve("pg"), port);
    RunSummary summary = run.get(300, TimeUnit.SECONDS);

    // Assert: the watch went on, and every file was finished once.
    assertThat("the watch ran through the outage", runningThroughTheOutage, equalTo(true));
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    EndToEndChecks.assertBillingTables(
        exp, postgres.jdbcUrl(), "db_outage", work.resolve("parquet"), 0, 0);
  }

  @Test
  void aKilledJobStartedAgainGivesExactOutputsAndNoHalfWrittenParquet() throws Exception {
    Path input = dir.resolve("kill-in");
    BillingSampleGenerator.Expected exp =
        BillingSampleGenerator.standard(40_000, 37).writeTo(input);
    Path work = dir.resolve("kill-work");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                "-cp",
                System.getProperty("java.class.path"),
                LandfallPipeline.class.getName()));
    cmd.addAll(
        List.of(
            "--input=" + input,
            "--workDir=" + work,
            "--output=" + work.resolve("parquet"),
            "--jdbcUrl=" + postgres.jdbcUrl(),
            "--dbUser=postgres",
            "--dbSchema=killed",
            "--dbBatchSize=100"));
    Process job =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("killed-job.log").toFile())
            .start();
    boolean killedMidRun;
    try {
      WatchScenario.await(
          "rows arriving",
          120,
          () -> count("SELECT count(*) FROM killed.billing") > 500 || !job.isAlive());
    } finally {
      killedMidRun = job.isAlive();
      job.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL
    }
    assertThat(
        "killed while writing: " + Files.readString(dir.resolve("killed-job.log")),
        killedMidRun,
        equalTo(true));
    assertThat(
        "no file finished before the kill",
        count("SELECT count(*) FROM killed.landfall_files WHERE status = 'done'"),
        equalTo(0L));
    // Whatever is under a final .parquet name is a complete file.
    if (Files.exists(work.resolve("parquet"))) {
      try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
          Statement s = duck.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT count(*) FROM glob('" + work.resolve("parquet") + "/**/*.parquet')")) {
        r.next();
        if (r.getLong(1) > 0) {
          s.executeQuery(
                  "SELECT count(*) FROM read_parquet('"
                      + work.resolve("parquet")
                      + "/**/*.parquet')")
              .close();
        }
      }
    }

    RunSummary again =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                work,
                postgres.jdbcUrl(),
                "--dbSchema=killed",
                "--enforceImmutability=false",
                "--enforceEncodability=false"));
    assertThat(again.render(), again.succeeded(), equalTo(true));
    EndToEndChecks.assertBillingTables(
        exp, postgres.jdbcUrl(), "killed", work.resolve("parquet"), 0, 0);
  }

  @Test
  void anOutputThatCannotBeWrittenFailsBeforeAnythingIsRead() throws Exception {
    Path input = dir.resolve("ro-in");
    BillingSampleGenerator.standard(1_000, 3).writeTo(input);
    Path blocker = dir.resolve("not-a-folder");
    Files.writeString(blocker, "a file where the output folder should be");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LandfallPipeline.run(
                    EndToEndChecks.options(
                        input,
                        dir.resolve("ro-work"),
                        postgres.jdbcUrl(),
                        "--dbSchema=read_only",
                        "--output=" + blocker.resolve("out"))));
    assertThat(e.getMessage(), containsString("--output"));
    assertThat(e.getMessage(), containsString(blocker.toString()));
    assertThat(
        "no file was taken", count("SELECT count(*) FROM read_only.landfall_files"), equalTo(0L));
  }
}
