package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * deploy/sql/roles.sql: the pipeline runs as the writer role, which can do nothing outside its
 * schema; the analyst role reads every table and view and can change nothing.
 */
class RolesTest extends PostgresTestBase {
  @Test
  void theWriterRunsThePipelineAndTheAnalystOnlyReads() throws Exception {
    String sql =
        Files.readString(Path.of("..", "deploy", "sql", "roles.sql"))
            .replace("\\set ON_ERROR_STOP on", "")
            .replace(":writer_password", "'writer-pw'")
            .replace(":analyst_password", "'analyst-pw'")
            .replace(":\"schema\"", "\"lake\"");
    try (Connection admin = EndToEndChecks.pg(postgres.jdbcUrl());
        Statement s = admin.createStatement()) {
      s.execute("CREATE SCHEMA lake");
      // Another team's schema, with its own ledger and its errors.
      s.execute("CREATE SCHEMA other_team");
      s.execute("CREATE TABLE other_team.landfall_files (path text, error text)");
      s.execute("INSERT INTO other_team.landfall_files VALUES ('x.csv', 'secret reason')");
      for (String statement : sql.replaceAll("(?m)^--.*$", "").split(";")) {
        if (!statement.isBlank()) {
          s.execute(statement);
        }
      }
    }
    Path input = dir.resolve("roles-in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(2_000, 5).writeTo(input);
    RunSummary run =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                dir.resolve("roles-work"),
                postgres.jdbcUrl(),
                "--dbSchema=lake",
                "--dbUser=landfall_writer"));
    assertThat(run.render(), run.succeeded(), equalTo(true));

    try (Connection writer =
            DriverManager.getConnection(postgres.jdbcUrl(), "landfall_writer", "writer-pw");
        Statement s = writer.createStatement()) {
      SQLException e =
          assertThrows(SQLException.class, () -> s.execute("CREATE TABLE public.intruder (x int)"));
      assertThat(e.getMessage(), containsString("permission denied"));
    }
    try (Connection analyst =
            DriverManager.getConnection(postgres.jdbcUrl(), "landfall_analyst", "analyst-pw");
        Statement s = analyst.createStatement()) {
      assertThat(
          EndToEndChecks.scalar(analyst, "SELECT count(*) FROM lake.billing"), equalTo(exp.valid));
      for (String readable :
          new String[] {
            "billing_agg",
            "billing_rejects",
            "landfall_files",
            "billing_cost_per_day_service",
            "billing_top_accounts_per_day",
            "billing_p90_cost_trend",
            "billing_rejects_per_day"
          }) {
        EndToEndChecks.scalar(analyst, "SELECT count(*) FROM lake." + readable);
      }
      SQLException other =
          assertThrows(
              SQLException.class,
              () -> s.executeQuery("SELECT error FROM other_team.landfall_files"));
      assertThat(other.getSQLState(), equalTo("42501")); // no access to other schemas
      for (String write :
          new String[] {
            "DELETE FROM lake.billing",
            "UPDATE lake.billing_agg SET row_count = 0",
            "CREATE TABLE lake.mine (x int)",
            "DROP VIEW lake.billing_p90_cost_trend"
          }) {
        SQLException e = assertThrows(SQLException.class, () -> s.execute(write), write);
        assertThat(write, e.getSQLState(), equalTo("42501")); // insufficient_privilege
      }
    }
  }
}
