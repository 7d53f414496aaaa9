package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's data-quality report (and {@code bin/landfall status} after it) over deliberately bad
 * files: rejects by reason and column with their example lines, duplicates, empty shares,
 * partitions; every hostile cell, folder name and stored value comes out as text; the page loads
 * nothing from elsewhere.
 */
class QualityReportTest {
  @TempDir Path dir;

  @Test
  void reportShowsRejectsByColumnWithEscapedExamples() throws Exception {
    Path in = dir.resolve("in");
    Path north = in.resolve("site=<i>north/day=2024-03-01");
    Path south = in.resolve("site=south/day=2024-03-02");
    Files.createDirectories(north);
    Files.createDirectories(south);
    Files.writeString(
        north.resolve("a.csv"),
        "reading_id;sensor;reading_time;temperature;ok;samples\n"
            + "1;t1;01/03/2024 10:00:00;20.5;true;3\n"
            + "2;<script>alert(1)</script>;01/03/2024 11:00:00;999;false;4\n"
            + "3;t2;not a time;1;true;1\n"
            + "4;t2;01/03/2024 12:00:00;;true;\n"
            + "1;t1;01/03/2024 10:00:00;20.5;true;3\n"
            + "5;\"<b>bold</b>\";01/03/2024 13:00:00;30;true;2\n");
    Files.writeString(
        south.resolve("b.csv"),
        "reading_id;sensor;reading_time;temperature;ok;samples\n"
            + "6;t3;02/03/2024 08:00:00;-100;1;2\n"
            + "7;t3;02/03/2024 09:00:00;15;1;2\n");
    Path def = dir.resolve("sensors.json");
    try (var res = getClass().getResourceAsStream("/sensors.json")) {
      Files.copy(res, def);
    }
    Path work = dir.resolve("work");
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir.resolve("pg"), 0)) {
      RunSummary s =
          LandfallPipeline.run(
              EndToEndChecks.options(in, work, pg.jdbcUrl(), "--datasetFile=" + def));
      assertThat(
          s.rowsRead + " = " + s.rowsValid + " + " + s.rowsDuplicate + " + " + s.rowsRejected,
          equalTo("8 = 4 + 1 + 3"));
      Path report = work.resolve("reports").resolve(s.runId() + ".html");
      assertThat(s.report(), equalTo(report));
      assertThat(s.render(), containsString("report    " + report));
      String html = Files.readString(report);

      // Hostile input is text: a cell, a stored value, a folder name.
      String lower = html.toLowerCase(Locale.ROOT);
      assertThat(lower, not(containsString("<script")));
      assertThat(html, containsString("&lt;script&gt;alert(1)&lt;/script&gt;"));
      assertThat(html, not(containsString("<b>bold")));
      assertThat(html, containsString("&lt;b&gt;bold&lt;/b&gt;"));
      assertThat(html, not(containsString("<i>north")));
      assertThat(html, containsString("site=&lt;i&gt;north/day=2024-03-01"));
      // Self-contained: nothing fetched from elsewhere.
      assertThat(lower, not(matchesPattern("(?s).*(src=|href=|url\\(|@import).*")));

      // Rejects by reason and column, with counts and example lines (file:line, message, raw).
      assertThat(
          html,
          matchesPattern(
              "(?s).*<tr><td>constraint</td><td><code>temperature"
                  + "</code></td><td class=\"n\">2</td>.*a\\.csv:3</code>.*b\\.csv:2</code>.*"));
      assertThat(
          html,
          matchesPattern(
              "(?s).*<tr><td>type</td><td><code>reading_time</code>"
                  + "</td><td class=\"n\">1</td><td><div><code>[^<]*a\\.csv:4</code>.*"));
      // Duplicates and the column profile: one of the 4 stored rows has no temperature.
      assertThat(html, containsString("<b>1</b><span>duplicate (12.5%)</span>"));
      assertThat(
          html,
          matchesPattern(
              "(?s).*<tr><td><code>temperature</code></td>"
                  + "<td>double precision</td><td class=\"n\">25\\.0%</td>.*"));
      assertThat(html, containsString("Aggregate groups this run changed"));

      // bin/landfall status says the same from the database.
      String status =
          LandfallStatus.render(
              new dev.landfall.io.postgres.Database(pg.jdbcUrl(), "postgres"), "public", "db");
      assertThat(
          status,
          matchesPattern(
              "(?s).*runs      #"
                  + s.runId()
                  + " +backfill +sensors +DirectRunner +succeeded .*, 8 rows read, 3 rejected\n.*"));
      assertThat(status, containsString("\nsensors\n  files     done 2 ("));
      assertThat(
          status,
          containsString(
              "  rows      read 8 = stored 4 + duplicate 1 + rejected 3 (files done)\n"));
      assertThat(status, containsString("  last min  2 files done, 8 rows read"));
      assertThat(status, matchesPattern("(?s).*  last file .*(a|b)\\.csv \\(done .*"));
    }
  }
}
