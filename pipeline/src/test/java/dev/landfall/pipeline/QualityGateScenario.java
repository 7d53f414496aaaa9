package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The definition's quality rules ({@code "quality": {"maxRejectedShare": ...}}), on any runner (the
 * DirectRunner in {@code QualityGateTest}, Flink in {@code QualityGateFlinkRunnerTest}): a file
 * over the limit is quarantined, none of its rows stored and none of its keys winning against
 * another file's; each of its records is a dead letter; it stays quarantined on later runs until
 * {@code --reingest=quarantined} reads it again.
 */
public final class QualityGateScenario {
  /** Orders, keyed by order_id; a file may have at most {@code %s} of its records rejected. */
  static final String ORDERS =
      "{\"name\": \"orders\", \"quality\": {\"maxRejectedShare\": %s},"
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"int\", \"min\": 0}], \"key\": [\"order_id\"]}";

  /** Sorts first, so its o1 would win de-duplication: 2 of 4 records rejected (50%). */
  static final String BAD = "order_id,qty\n" + "o1,100\n" + "o5,x\n" + "o6,-1\n" + "o7,7\n";

  /** 1 of 4 rejected (25%, at the limit: kept). */
  static final String GOOD = "order_id,qty\n" + "o1,1\n" + "o2,2\n" + "o3,y\n" + "o4,4\n";

  private final Path dir;
  private final String jdbcUrl;
  private final String[] runnerArgs;

  /**
   * @param runnerArgs extra options, e.g. {@code --runner=FlinkRunner}
   */
  public QualityGateScenario(Path dir, String jdbcUrl, String... runnerArgs) {
    this.dir = dir;
    this.jdbcUrl = jdbcUrl;
    this.runnerArgs = runnerArgs;
  }

  private Path input(String schema) throws Exception {
    Path in = dir.resolve(schema + "-in");
    Files.createDirectories(in.resolve("day=2024-03-01"));
    Files.createDirectories(in.resolve("day=2024-03-02"));
    Files.writeString(in.resolve("day=2024-03-01/a.csv"), BAD);
    Files.writeString(in.resolve("day=2024-03-02/b.csv"), GOOD);
    return in;
  }

  private RunSummary run(Path in, String schema, String share, String... extra) throws Exception {
    Path def =
        Files.writeString(
            dir.resolve(schema + "-" + share + ".json"), String.format(ORDERS, share));
    List<String> args = new ArrayList<>(List.of("--dbSchema=" + schema, "--datasetFile=" + def));
    args.addAll(List.of(extra));
    args.addAll(List.of(runnerArgs));
    return LandfallPipeline.run(
        EndToEndChecks.options(
            in, dir.resolve(schema + "-work"), jdbcUrl, args.toArray(new String[0])));
  }

  private static String counts(RunSummary s) {
    return s.filesRead
        + " files, "
        + s.filesQuarantined
        + " quarantined: "
        + s.rowsRead
        + " = "
        + s.rowsValid
        + " + "
        + s.rowsDuplicate
        + " + "
        + s.rowsRejected;
  }

  private static List<String> rows(Connection c, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      int n = r.getMetaData().getColumnCount();
      while (r.next()) {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          b.append(i > 1 ? " " : "").append(r.getString(i));
        }
        out.add(b.toString());
      }
    }
    return out;
  }

  /** What a run over the two files leaves, with the bad file quarantined. */
  private void assertQuarantined(String schema) throws Exception {
    try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
      // The good file's o1 is stored: the quarantined file's o1 did not win.
      assertThat(
          rows(
              c,
              "SELECT order_id, qty, day, source_file LIKE '%b.csv' FROM "
                  + schema
                  + ".orders ORDER BY 1"),
          equalTo(List.of("o1 1 2024-03-02 t", "o2 2 2024-03-02 t", "o4 4 2024-03-02 t")));
      assertThat(
          rows(
              c,
              "SELECT substring(path from '[ab]\\.csv$'), status, rows_read,"
                  + " rows_valid, rows_duplicate, rows_rejected FROM "
                  + schema
                  + ".landfall_files"
                  + " ORDER BY 1"),
          equalTo(List.of("a.csv quarantined 4 0 0 4", "b.csv done 4 3 0 1")));
      assertThat(
          rows(
                  c,
                  "SELECT error FROM "
                      + schema
                      + ".landfall_files WHERE status ="
                      + " 'quarantined'")
              .get(0),
          containsString(
              "file quarantined: 2 of its 4 records"
                  + " (50.0%) were rejected, more than quality.maxRejectedShare 0.25 allows"));
      // Every record of the quarantined file is a dead letter: its own reason, or quarantined
      // with the record as read; the file has one at line 0.
      assertThat(
          rows(
              c,
              "SELECT line_number, reason, coalesce(column_name, '-'),"
                  + " coalesce(raw, '-') FROM "
                  + schema
                  + ".orders_rejects WHERE source_file LIKE"
                  + " '%a.csv' ORDER BY 1"),
          equalTo(
              List.of(
                  "0 quarantined - -",
                  "2 quarantined - o1,100",
                  "3 type qty o5,x",
                  "4 constraint qty o6,-1",
                  "5 quarantined - o7,7")));
    }
  }

  public void aFileOverTheLimitIsQuarantinedInABackfill(String schema) throws Exception {
    Path in = input(schema);
    RunSummary first = run(in, schema, "0.25");
    assertThat(counts(first), equalTo("2 files, 1 quarantined: 8 = 3 + 0 + 5"));
    assertThat(first.render(), containsString("quarantined 1 (quality rules"));
    assertQuarantined(schema);

    // Quarantined stays quarantined: the next run reads nothing.
    RunSummary again = run(in, schema, "0.25");
    assertThat(counts(again), equalTo("0 files, 0 quarantined: 0 = 0 + 0 + 0"));
    assertQuarantined(schema);

    // The definition allows more; --reingest=quarantined reads the file again: its o1 is now a
    // duplicate of the stored one, o7 is stored, its dead letters are its two bad records.
    RunSummary fixed = run(in, schema, "0.5", "--reingest=quarantined");
    assertThat(counts(fixed), equalTo("1 files, 0 quarantined: 4 = 1 + 1 + 2"));
    try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
      assertThat(
          rows(c, "SELECT order_id, qty FROM " + schema + ".orders ORDER BY 1"),
          equalTo(List.of("o1 1", "o2 2", "o4 4", "o7 7")));
      assertThat(
          rows(
              c,
              "SELECT substring(path from '[ab]\\.csv$'), status, rows_read,"
                  + " rows_valid, rows_duplicate, rows_rejected, coalesce(error, '-') FROM "
                  + schema
                  + ".landfall_files ORDER BY 1"),
          equalTo(List.of("a.csv done 4 1 1 2 -", "b.csv done 4 3 0 1 -")));
      assertThat(
          rows(
              c,
              "SELECT line_number, reason FROM "
                  + schema
                  + ".orders_rejects"
                  + " WHERE source_file LIKE '%a.csv' ORDER BY 1"),
          equalTo(List.of("3 type", "4 constraint")));
    }
  }

  public void aFileOverTheLimitIsQuarantinedInAWatch(String schema) throws Exception {
    Path in = input(schema);
    RunSummary watch =
        run(in, schema, "0.25", "--watch", "--pollInterval=1s", "--stopAfterIdle=5s");
    assertThat(counts(watch), equalTo("2 files, 1 quarantined: 8 = 3 + 0 + 5"));
    assertQuarantined(schema);
  }
}
