package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.landfall.io.testing.PostgresTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * {@code --dryRun}: the input read and validated, quality rules applied, a report written and
 * nothing else: no embedded database, no Parquet, no table or ledger entry; a file that would be
 * quarantined is named and the run does not succeed. With {@code --jdbcUrl} the ledger leaves out
 * files already done, and stays as it was.
 */
class DryRunTest extends PostgresTestBase {
  private static Path definition(String share) throws Exception {
    return Files.writeString(
        dir.resolve("orders-dry-" + share + ".json"),
        String.format(QualityGateScenario.ORDERS, share));
  }

  private static Path input(String name) throws Exception {
    Path in = dir.resolve(name);
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.createDirectories(in.resolve("day=2024-03-02"));
    Files.writeString(
        in.resolve("day=2024-03-01/a.csv"),
        QualityGateScenario.BAD + "<script>alert(1)</script>,-5\n");
    Files.writeString(in.resolve("day=2024-03-02/b.csv"), QualityGateScenario.GOOD);
    return in;
  }

  @Test
  void writesOnlyTheReportAndNamesTheFileItWouldQuarantine() throws Exception {
    Path in = input("dry-in");
    Path work = dir.resolve("dry-work");
    RunSummary s =
        LandfallPipeline.run(
            LandfallPipeline.options(
                "--input=" + in,
                "--workDir=" + work,
                "--datasetFile=" + definition("0.25"),
                "--dryRun"));
    // a.csv: 3 of 5 rejected (two below the minimum), quarantined; b.csv: 1 of 4 rejected, its o1
    // wins.
    assertThat(
        s.rowsRead + " = " + s.rowsValid + " + " + s.rowsDuplicate + " + " + s.rowsRejected,
        equalTo("9 = 3 + 0 + 6"));
    assertThat(s.succeeded(), equalTo(false));
    assertThat(s.dryRun().quarantined().size(), equalTo(1));
    assertThat(s.dryRun().quarantined().get(0).path(), containsString("a.csv"));
    String out = s.render();
    assertThat(out, containsString("== landfall dry run: DONE =="));
    assertThat(out, containsString("would be quarantined 1"));
    assertThat(out, containsString("a.csv: file quarantined: 3 of its 5 records (60.0%)"));

    // Only the report (and its facts) and the run's log under the work folder: no database, no
    // Parquet.
    assertThat(Files.exists(work.resolve("pgdata")), equalTo(false));
    assertThat(Files.exists(work.resolve("parquet")), equalTo(false));
    try (var listing = Files.list(work)) {
      assertThat(
          listing.map(p -> p.getFileName().toString()).sorted().toList(),
          equalTo(List.of("logs", "reports")));
    }
    assertThat(s.logFile().getParent(), equalTo(work.resolve("logs")));
    assertThat(out, containsString("log       " + s.logFile()));
    String html = Files.readString(s.report());
    assertThat(s.report().getParent(), equalTo(work.resolve("reports")));
    assertThat(html, containsString("Files that would be quarantined"));
    assertThat(html, containsString("file quarantined: 3 of its 5 records"));
    assertThat(
        html,
        containsString(
            "<tr><td>constraint</td><td><code>qty</code></td>" + "<td class=\"n\">2</td>"));
    assertThat(html.toLowerCase(Locale.ROOT), not(containsString("<script")));
    assertThat(html, containsString("&lt;script&gt;alert(1)&lt;/script&gt;,-5"));
    // The valid rows' columns: o1, o2, o4 (b.csv).
    assertThat(html, containsString("3 rows (one per key)"));
  }

  @Test
  void withADatabaseItSkipsFilesDoneAndLeavesTheLedgerAsItWas() throws Exception {
    Path in = input("dry-db-in");
    Path work = dir.resolve("dry-db-work");
    Path def = definition("0.25");
    // A real run first, over b.csv only.
    Path a = in.resolve("day=2024-03-01/a.csv");
    Path aside = dir.resolve("a.csv.aside");
    Files.move(a, aside);
    RunSummary real =
        LandfallPipeline.run(
            EndToEndChecks.options(
                in, work, postgres.jdbcUrl(), "--dbSchema=dry_db", "--datasetFile=" + def));
    assertThat(real.succeeded(), equalTo(true));
    Files.move(aside, a);
    String before = ledgerAndTables();

    RunSummary dry =
        LandfallPipeline.run(
            EndToEndChecks.options(
                in,
                work,
                postgres.jdbcUrl(),
                "--dbSchema=dry_db",
                "--datasetFile=" + def,
                "--dryRun"));
    assertThat(dry.filesRead, equalTo(1L));
    assertThat(dry.rowsRead, equalTo(5L));
    assertThat(dry.dryRun().quarantined().size(), equalTo(1));
    assertThat(ledgerAndTables(), equalTo(before));
  }

  private static String ledgerAndTables() throws Exception {
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      return EndToEndChecks.scalar(c, "SELECT count(*) FROM dry_db.landfall_files")
          + " files, "
          + EndToEndChecks.scalar(
              c, "SELECT count(*) FROM dry_db.landfall_files WHERE status" + " = 'done'")
          + " done, "
          + EndToEndChecks.scalar(c, "SELECT count(*) FROM dry_db.orders")
          + " rows, "
          + EndToEndChecks.scalar(c, "SELECT count(*) FROM dry_db.orders_rejects")
          + " rejects, "
          + EndToEndChecks.scalar(c, "SELECT count(*) FROM dry_db.landfall_runs")
          + " runs";
    }
  }
}
