package dev.landfall.pipeline;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.ledger.RunHistory;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.transforms.definition.Identifiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * {@code bin/landfall status}: what the database says of every dataset's runs and files, for jobs
 * this shell did not wait for (submitted to a cluster, or a watch running elsewhere). With the
 * run's connection flags ({@code --jdbcUrl}, {@code --dbUser}, {@code --dbSchema}; the password
 * from {@code PGPASSWORD}); without {@code --jdbcUrl}, the embedded database of {@code --workDir}.
 * Runs whose process went away are marked {@code abandoned} first, as a starting run would.
 */
public final class LandfallStatus {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  /** Runs listed. */
  static final int RUNS = 5;

  /** Failed files listed per dataset. */
  static final int FAILED = 5;

  private LandfallStatus() {}

  public static void main(String[] args) {
    try {
      PipelineOptionsFactory.register(LandfallOptions.class);
      LandfallOptions options =
          PipelineOptionsFactory.fromArgs(args).withValidation().as(LandfallOptions.class);
      String master = FlinkJobs.master(options);
      java.util.Map<String, RunHistory.JobEnd> jobs =
          master == null ? java.util.Map.of() : FlinkJobs.ended(master);
      if (!options.getJdbcUrl().isEmpty()) {
        System.out.print(
            render(
                new Database(options.getJdbcUrl(), options.getDbUser()),
                options.getDbSchema(),
                options.getJdbcUrl(),
                jobs));
        return;
      }
      Path data = Paths.get(options.getWorkDir()).toAbsolutePath().resolve("pgdata");
      if (!Files.isDirectory(data)) {
        System.err.println(
            "landfall status: no --jdbcUrl and no embedded database in "
                + data
                + " (run landfall first, or give the database's --jdbcUrl)");
        System.exit(2);
        return;
      }
      // A run still going holds the embedded server: ask it (its port is in postmaster.pid).
      Path pid = data.resolve("postmaster.pid");
      if (Files.isRegularFile(pid)) {
        List<String> lines = Files.readAllLines(pid);
        if (lines.size() > 3 && lines.get(3).trim().matches("[0-9]{1,5}")) {
          String url = "jdbc:postgresql://127.0.0.1:" + lines.get(3).trim() + "/postgres";
          System.out.print(render(new Database(url, "postgres"), options.getDbSchema(), url, jobs));
          return;
        }
      }
      try (EmbeddedPostgresServer pg =
          EmbeddedPostgresServer.start(data, options.getEmbeddedPgPort())) {
        System.out.print(
            render(
                new Database(pg.jdbcUrl(), pg.user()), options.getDbSchema(), pg.jdbcUrl(), jobs));
      }
    } catch (Exception e) {
      System.err.println("landfall status: " + LandfallPipeline.rootCause(e));
      System.exit(1);
    }
  }

  /** The status of every dataset in {@code schema}, as printed. */
  static String render(Database db, String schema, String where) throws SQLException {
    return render(db, schema, where, java.util.Map.of());
  }

  /**
   * The status of every dataset in {@code schema}, as printed, after recording the end of the
   * submitted runs whose Flink job {@code flinkJobs} (by job name) says has ended.
   */
  static String render(
      Database db, String schema, String where, java.util.Map<String, RunHistory.JobEnd> flinkJobs)
      throws SQLException {
    String q = Identifiers.quote(Identifiers.checkSchema("--dbSchema", schema));
    RunHistory history = new RunHistory(db, schema);
    int abandoned = history.markAbandonedRuns();
    int ended = history.closeFinishedSubmissions();
    int jobsEnded = history.closeEndedFlinkJobs(flinkJobs::get);
    StringBuilder out = new StringBuilder();
    try (Connection c = db.connect()) {
      Instant now = scalarTime(c, "SELECT now()");
      out.append("landfall status  ")
          .append(where)
          .append("  schema ")
          .append(schema)
          .append("  at ")
          .append(TIME.format(now))
          .append('\n');
      if (exists(c, schema, RunHistory.TABLE)) {
        runs(c, q + "." + Identifiers.quote(RunHistory.TABLE), now, out);
        if (ended > 0) {
          out.append(
              String.format(
                  Locale.ROOT,
                  "          (%d backfill%s submitted to a cluster"
                      + " recorded as ended now: all %s files are finished)%n",
                  ended,
                  ended == 1 ? "" : "s",
                  ended == 1 ? "its" : "their"));
        }
        if (jobsEnded > 0) {
          out.append(
              String.format(
                  Locale.ROOT,
                  "          (%d run%s submitted to the cluster"
                      + " recorded as ended now, as the cluster tells)%n",
                  jobsEnded,
                  jobsEnded == 1 ? "" : "s"));
        }
        if (abandoned > 0) {
          out.append(
              String.format(
                  Locale.ROOT,
                  "          (%d run%s marked abandoned now:" + " %s process went away)%n",
                  abandoned,
                  abandoned == 1 ? "" : "s",
                  abandoned == 1 ? "its" : "their"));
        }
      }
      if (!exists(c, schema, FileLedger.TABLE)) {
        out.append("\nno file ledger in schema ")
            .append(schema)
            .append(": no run has used this database yet\n");
        return out.toString();
      }
      String files = q + "." + Identifiers.quote(FileLedger.TABLE);
      List<String> datasets = new ArrayList<>();
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT DISTINCT dataset FROM " + files + " ORDER BY 1")) {
        while (r.next()) {
          datasets.add(r.getString(1));
        }
      }
      for (String dataset : datasets) {
        dataset(c, files, dataset, now, out);
      }
    }
    return out.toString();
  }

  private static void runs(Connection c, String runs, Instant now, StringBuilder out)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT run_id, mode, dataset, runner, status,"
                + " started_at, ended_at, rows_read, rows_rejected, error FROM "
                + runs
                + " ORDER BY run_id DESC LIMIT "
                + RUNS)) {
      try (ResultSet r = s.executeQuery()) {
        boolean first = true;
        while (r.next()) {
          out.append(first ? "\nruns      " : "          ");
          first = false;
          Instant started = r.getTimestamp(6).toInstant();
          out.append(
              String.format(
                  Locale.ROOT,
                  "#%-4d %-8s %-10s %-13s %-10s %s",
                  r.getLong(1),
                  r.getString(2),
                  r.getString(3),
                  r.getString(4),
                  r.getString(5),
                  TIME.format(started)));
          if (r.getTimestamp(7) != null) {
            out.append(", ")
                .append(duration(Duration.between(started, r.getTimestamp(7).toInstant())));
          } else {
            out.append(", running for ").append(duration(Duration.between(started, now)));
          }
          if (r.getObject(8) != null) {
            out.append(
                String.format(
                    Locale.ROOT, ", %,d rows read, %,d rejected", r.getLong(8), r.getLong(9)));
          }
          if (r.getString(10) != null) {
            out.append("\n                ").append(oneLine(r.getString(10)));
          }
          out.append('\n');
        }
      }
    }
  }

  private static void dataset(
      Connection c, String files, String dataset, Instant now, StringBuilder out)
      throws SQLException {
    out.append('\n').append(dataset).append('\n');
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT status, count(*),"
                + " coalesce(sum(size_bytes), 0) FROM "
                + files
                + " WHERE dataset = ? GROUP BY 1"
                + " ORDER BY array_position(ARRAY['done', 'processing', 'failed', 'changed'], status),"
                + " 1")) {
      s.setString(1, dataset);
      List<String> parts = new ArrayList<>();
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          parts.add(
              String.format(
                  Locale.ROOT,
                  "%s %,d (%.1f MB)",
                  r.getString(1),
                  r.getLong(2),
                  r.getLong(3) / 1e6));
        }
      }
      out.append("  files     ").append(String.join(", ", parts)).append('\n');
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT coalesce(sum(rows_read), 0),"
                + " coalesce(sum(rows_valid), 0), coalesce(sum(rows_duplicate), 0),"
                + " coalesce(sum(rows_rejected), 0),"
                + " count(*) FILTER (WHERE finished_at >= now() - interval '1 minute'),"
                + " coalesce(sum(rows_read) FILTER (WHERE finished_at >= now() - interval '1 minute'),"
                + " 0) FROM "
                + files
                + " WHERE dataset = ? AND status = 'done'")) {
      s.setString(1, dataset);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        out.append(
            String.format(
                Locale.ROOT,
                "  rows      read %,d = stored %,d + duplicate %,d"
                    + " + rejected %,d (files done)%n",
                r.getLong(1),
                r.getLong(2),
                r.getLong(3),
                r.getLong(4)));
        out.append(
            String.format(
                Locale.ROOT,
                "  last min  %,d files done, %,d rows read" + " (%,.0f rows/s)%n",
                r.getLong(5),
                r.getLong(6),
                r.getLong(6) / 60.0));
      }
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT path, status, finished_at FROM "
                + files
                + " WHERE dataset = ? AND finished_at IS NOT NULL ORDER BY finished_at DESC, path"
                + " LIMIT 1")) {
      s.setString(1, dataset);
      try (ResultSet r = s.executeQuery()) {
        if (r.next()) {
          Instant at = r.getTimestamp(3).toInstant();
          out.append("  last file ")
              .append(r.getString(1))
              .append(" (")
              .append(r.getString(2))
              .append(' ')
              .append(duration(Duration.between(at, now)))
              .append(" ago, ")
              .append(TIME.format(at))
              .append(")\n");
        }
      }
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT path, error, count(*) OVER () FROM "
                + files
                + " WHERE dataset = ? AND status = 'failed' ORDER BY finished_at DESC NULLS LAST,"
                + " path LIMIT "
                + FAILED)) {
      s.setString(1, dataset);
      try (ResultSet r = s.executeQuery()) {
        boolean first = true;
        long all = 0;
        while (r.next()) {
          out.append(first ? "  failed    " : "            ")
              .append(r.getString(1))
              .append(": ")
              .append(oneLine(r.getString(2)))
              .append('\n');
          first = false;
          all = r.getLong(3);
        }
        if (all > FAILED) {
          out.append(
              String.format(
                  Locale.ROOT,
                  "            and %,d more: SELECT path, error"
                      + " FROM landfall_files WHERE status = 'failed'%n",
                  all - FAILED));
        }
      }
    }
  }

  private static boolean exists(Connection c, String schema, String table) throws SQLException {
    return Database.tablesExist(c, Identifiers.quote(schema) + "." + Identifiers.quote(table));
  }

  private static Instant scalarTime(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getTimestamp(1).toInstant();
    }
  }

  /** "1h 2m", "3m 4s", "5.6 s". */
  static String duration(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s >= 3600) {
      return (s / 3600) + "h " + (s % 3600 / 60) + "m";
    }
    if (s >= 60) {
      return (s / 60) + "m " + (s % 60) + "s";
    }
    return String.format(Locale.ROOT, "%.1f s", Math.max(0, d.toMillis()) / 1000.0);
  }

  private static String oneLine(String s) {
    String t = s == null ? "" : s.replaceAll("\\s+", " ").trim();
    return t.length() <= 200 ? t : t.substring(0, 200) + "\u2026";
  }
}
