package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Runs the job as a separate process with a known database password in $PGPASSWORD (the only place
 * landfall reads it from) against a PostgreSQL that checks passwords, and asserts the password
 * appears nowhere: not in stdout/stderr (logs, summary, errors), not in any table the job wrote
 * (ledger, rejects). Then runs it with a wrong password and checks the error is clear and does not
 * echo it either.
 */
public final class SecretScan {
  private SecretScan() {}

  /** Makes {@code user} log in with a password over TCP; returns the password. */
  static String passwordUser(EmbeddedPostgresServer pg, String user) throws Exception {
    String password = "pw-" + UUID.randomUUID();
    Path hba = pg.dataDir().resolve("pg_hba.conf");
    String rules = Files.readString(hba);
    if (!rules.contains(user)) {
      Files.writeString(hba, "host all " + user + " 127.0.0.1/32 scram-sha-256\n" + rules);
    }
    try (Connection c = EndToEndChecks.pg(pg.jdbcUrl());
        Statement s = c.createStatement()) {
      s.execute("DROP ROLE IF EXISTS " + user);
      s.execute("CREATE ROLE " + user + " LOGIN PASSWORD '" + password + "'");
      s.execute("GRANT CREATE ON DATABASE postgres TO " + user);
      s.execute("SELECT pg_reload_conf()");
    }
    return password;
  }

  static Process start(
      Path dir,
      String jdbcUrl,
      String user,
      String password,
      Path log,
      String schema,
      String... extra)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-cp",
                System.getProperty("java.class.path"),
                LandfallPipeline.class.getName(),
                "--input=" + dir.resolve("secret-in"),
                "--workDir=" + dir.resolve("secret-work-" + schema),
                "--jdbcUrl=" + jdbcUrl,
                "--dbUser=" + user,
                "--dbSchema=" + schema));
    cmd.addAll(List.of(extra));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("PGPASSWORD", password);
    return pb.start();
  }

  /** The whole check; {@code runnerArgs} picks the runner. */
  public static void assertPasswordNeverShows(
      Path dir, EmbeddedPostgresServer pg, String schema, String... runnerArgs) throws Exception {
    BillingSampleGenerator.standard(3_000, 17).writeTo(dir.resolve("secret-in"));
    String user = "landfall_secure";
    String password = passwordUser(pg, user);

    Path log = dir.resolve(schema + "-ok.log");
    Process ok = start(dir, pg.jdbcUrl(), user, password, log, schema, runnerArgs);
    assertThat(ok.waitFor(240, TimeUnit.SECONDS), equalTo(true));
    String out = Files.readString(log);
    assertThat(out, ok.exitValue(), equalTo(0));
    assertThat(out, containsString("all accounted for"));
    assertThat("the password is not in the job's output", out, not(containsString(password)));
    try (Connection c = EndToEndChecks.pg(pg.jdbcUrl())) {
      for (String table : List.of("landfall_files", "billing_rejects", "billing")) {
        assertThat(
            table + " holds no password",
            EndToEndChecks.scalar(
                c,
                "SELECT count(*) FROM "
                    + schema
                    + "."
                    + table
                    + " t WHERE t::text LIKE '%"
                    + password
                    + "%'"),
            equalTo(0L));
      }
    }

    String wrong = "wrong-" + UUID.randomUUID();
    Path badLog = dir.resolve(schema + "-bad.log");
    Process bad = start(dir, pg.jdbcUrl(), user, wrong, badLog, schema + "_bad", runnerArgs);
    assertThat(bad.waitFor(120, TimeUnit.SECONDS), equalTo(true));
    String badOut = Files.readString(badLog);
    assertThat(badOut, bad.exitValue(), not(equalTo(0)));
    assertThat(badOut, containsString("cannot connect to PostgreSQL at " + pg.jdbcUrl()));
    assertThat(badOut, containsString("password authentication failed for user \"" + user + "\""));
    assertThat("a wrong password is not echoed", badOut, not(containsString(wrong)));
    Path errorLog = dir.resolve("secret-work-" + schema + "_bad").resolve("last-error.log");
    assertThat("the error's details are kept", Files.exists(errorLog), equalTo(true));
    assertThat(
        "nor written to the error log", Files.readString(errorLog), not(containsString(wrong)));
  }
}
