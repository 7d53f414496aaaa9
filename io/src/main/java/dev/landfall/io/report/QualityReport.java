package dev.landfall.io.report;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.TableSpec;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's data-quality report: one self-contained HTML page (inline CSS, charts as inline SVG, no
 * script, font or image from elsewhere) written to {@code <reports>/<run id>.html}, from what the
 * database holds of the run's files: rows per partition, rejects by reason and by column with a few
 * example lines each, duplicates, each column's share of empty values with its minimum and maximum,
 * the largest and slowest files, and the aggregate groups the run changed.
 *
 * <p>The run's files are those the ledger says it read ({@code run_id}); the column profile reads
 * the rows those files stored (one grouped scan of the rows table; above {@link #PROFILE_ROWS}
 * rows, a sample of about that many). Every value that comes from the input (cells, file and folder
 * names, messages) is escaped: file contents are hostile.
 */
public final class QualityReport {
  /** Example lines shown per reason and column. */
  static final int EXAMPLES = 3;

  /** Longest example line shown, in characters. */
  static final int EXAMPLE_CHARS = 300;

  /** Files listed as largest and slowest; partitions and aggregate groups listed. */
  static final int TOP = 10;

  static final int PARTITIONS = 50;

  /** Above this many stored rows, the column profile reads a sample of about as many. */
  static final long PROFILE_ROWS = 300_000;

  /** What the run itself knows (its summary), beside what the database holds. */
  public record Run(
      long id,
      String mode,
      String runner,
      String status,
      Instant started,
      double seconds,
      long rowsRead,
      long rowsValid,
      long rowsDuplicate,
      long rowsRejected) {}

  private final Database db;
  private final DatasetTables tables;
  private final Run run;
  private final StringBuilder html = new StringBuilder();

  private QualityReport(Database db, DatasetTables tables, Run run) {
    this.db = db;
    this.tables = tables;
    this.run = run;
  }

  /**
   * Writes the report of {@code run} to {@code <reports>/<run id>.html} (complete or not at all:
   * written aside, then moved into place) and returns its path.
   */
  public static Path write(Database db, DatasetTables tables, Run run, Path reports)
      throws SQLException, IOException {
    String page = new QualityReport(db, tables, run).render();
    Files.createDirectories(reports);
    Path target = reports.resolve(run.id() + ".html");
    Path part = reports.resolve("." + run.id() + ".html.part");
    Files.writeString(part, page, StandardCharsets.UTF_8);
    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return target;
  }

  private String ledger() {
    return tables.qualified(FileLedger.TABLE);
  }

  /** The run's files, as a condition on a {@code path} column (two parameters: dataset, run). */
  private String runFiles() {
    return "SELECT path FROM " + ledger() + " WHERE dataset = ? AND run_id = ?";
  }

  private void bindRun(PreparedStatement s, int from) throws SQLException {
    s.setString(from, tables.definition().name);
    s.setLong(from + 1, run.id());
  }

  private String render() throws SQLException {
    DatasetDefinition def = tables.definition();
    try (Connection c = db.connect()) {
      c.setReadOnly(true);
      head(def);
      summary(c);
      partitions(c);
      rejects(c);
      duplicates(c);
      columns(c);
      files(c);
      if (def.aggregates != null) {
        aggregates(c);
      }
    }
    html.append("</main></body></html>\n");
    return html.toString();
  }

  /** The page's start: doctype, title, inline style, up to the opening {@code <main>}. */
  static void page(StringBuilder html, String title) {
    html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .append("<title>")
        .append(esc(title))
        .append("</title><style>")
        .append("body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;")
        .append("color:#1d2330;background:#f6f7f9}")
        .append("main{max-width:1100px;margin:0 auto;padding:24px}")
        .append("h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;")
        .append("border-bottom:1px solid #d8dce3;padding-bottom:4px}")
        .append(".sub{color:#5a6375;margin:0 0 16px}")
        .append(".kpis{display:flex;flex-wrap:wrap;gap:10px}")
        .append(
            ".kpi{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:10px 14px;")
        .append("min-width:120px}.kpi b{display:block;font-size:20px}.kpi span{color:#5a6375}")
        .append(".bad b{color:#b42318}.warn b{color:#b54708}.ok b{color:#067647}")
        .append("table{border-collapse:collapse;background:#fff;width:100%;margin:6px 0}")
        .append("th,td{border:1px solid #d8dce3;padding:4px 8px;text-align:left;")
        .append("vertical-align:top}th{background:#eef0f4}td.n{text-align:right;")
        .append("font-variant-numeric:tabular-nums;white-space:nowrap}")
        .append("code{font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;")
        .append("word-break:break-all}.muted{color:#5a6375}svg{display:block;margin:6px 0}")
        .append("</style></head><body><main>\n");
  }

  private void head(DatasetDefinition def) {
    String title = "landfall run #" + run.id() + ": " + def.name;
    page(html, title);
    html.append("<h1>")
        .append(esc(title))
        .append("</h1>\n<p class=\"sub\">")
        .append(esc(run.mode()))
        .append(" on the ")
        .append(esc(run.runner()))
        .append(", started ")
        .append(esc(run.started().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()))
        .append(", ")
        .append(esc(String.format(Locale.ROOT, "%.1f s", run.seconds())))
        .append(", ")
        .append(esc(run.status()))
        .append(". Schema ")
        .append(esc(tables.schema()))
        .append("; tables ")
        .append(esc(def.name))
        .append(", ")
        .append(esc(def.name + "_rejects"))
        .append(def.aggregates != null ? ", " + esc(def.name + "_agg") : "")
        .append(", landfall_files, landfall_runs.</p>\n");
  }

  private void summary(Connection c) throws SQLException {
    Map<String, Long> byStatus = new LinkedHashMap<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT status, count(*) FROM "
                + ledger()
                + " WHERE dataset = ? AND run_id = ? GROUP BY 1 ORDER BY 1")) {
      bindRun(s, 1);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          byStatus.put(r.getString(1), r.getLong(2));
        }
      }
    }
    long files = byStatus.values().stream().mapToLong(Long::longValue).sum();
    html.append("<div class=\"kpis\">");
    kpi("", files, "files read");
    for (Map.Entry<String, Long> e : byStatus.entrySet()) {
      kpi(
          e.getKey().equals("done") ? "ok" : e.getKey().equals("failed") ? "bad" : "",
          e.getValue(),
          "files " + e.getKey());
    }
    kpi("", run.rowsRead(), "rows read");
    kpi("ok", run.rowsValid(), "valid (" + share(run.rowsValid(), run.rowsRead()) + ")");
    kpi(
        run.rowsDuplicate() > 0 ? "warn" : "",
        run.rowsDuplicate(),
        "duplicate (" + share(run.rowsDuplicate(), run.rowsRead()) + ")");
    kpi(
        run.rowsRejected() > 0 ? "bad" : "",
        run.rowsRejected(),
        "rejected (" + share(run.rowsRejected(), run.rowsRead()) + ")");
    html.append("</div>\n");
    boolean accounted =
        run.rowsRead() == run.rowsValid() + run.rowsDuplicate() + run.rowsRejected();
    html.append("<p class=\"muted\">rows read = valid + duplicate + rejected: ")
        .append(accounted ? "all accounted for" : "<b>MISMATCH</b>")
        .append(".</p>\n");
  }

  private void kpi(String cls, long value, String label) {
    kpi(html, cls, value, label);
  }

  /** One key figure: {@code cls} is "", "ok", "warn" or "bad". */
  static void kpi(StringBuilder html, String cls, long value, String label) {
    html.append("<div class=\"kpi ")
        .append(cls)
        .append("\"><b>")
        .append(String.format(Locale.ROOT, "%,d", value))
        .append("</b><span>")
        .append(esc(label))
        .append("</span></div>");
  }

  private void partitions(Connection c) throws SQLException {
    html.append("<h2>Rows per partition</h2>\n");
    List<String> labels = new ArrayList<>();
    List<long[]> values = new ArrayList<>();
    long more = 0;
    // A file's partition is its folder's Hive segments (name=value).
    try (PreparedStatement s =
        c.prepareStatement(
            "WITH f AS (SELECT coalesce(nullif("
                + "array_to_string(ARRAY(SELECT x FROM unnest(string_to_array(path, '/'))"
                + " WITH ORDINALITY AS p(x, i) WHERE x LIKE '%=%' AND i < cardinality("
                + "string_to_array(path, '/')) ORDER BY i), '/'), ''), '(none)') AS part,"
                + " rows_valid, rows_rejected, rows_duplicate FROM "
                + ledger()
                + " WHERE dataset = ? AND run_id = ?) SELECT part, count(*),"
                + " coalesce(sum(rows_valid), 0), coalesce(sum(rows_rejected), 0),"
                + " coalesce(sum(rows_duplicate), 0), count(*) OVER () FROM f GROUP BY part"
                + " ORDER BY part LIMIT "
                + PARTITIONS)) {
      bindRun(s, 1);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          labels.add(r.getString(1));
          values.add(new long[] {r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5)});
          more = r.getLong(6) - PARTITIONS;
        }
      }
    }
    if (labels.isEmpty()) {
      html.append("<p class=\"muted\">This run read no file.</p>\n");
      return;
    }
    List<Long> valid = new ArrayList<>();
    values.forEach(v -> valid.add(v[1]));
    bars(labels, valid, "#3b6fd8");
    html.append("<table><tr><th>partition</th><th>files</th><th>rows stored</th>")
        .append("<th>duplicate</th><th>rejected</th></tr>\n");
    for (int i = 0; i < labels.size(); i++) {
      long[] v = values.get(i);
      html.append("<tr><td><code>")
          .append(esc(labels.get(i)))
          .append("</code></td>")
          .append(num(v[0]))
          .append(num(v[1]))
          .append(num(v[3]))
          .append(num(v[2]))
          .append("</tr>\n");
    }
    html.append("</table>\n");
    if (more > 0) {
      html.append("<p class=\"muted\">and ").append(more).append(" more partitions.</p>\n");
    }
  }

  private void rejects(Connection c) throws SQLException {
    html.append("<h2>Rejected rows and files</h2>\n");
    String rejects = tables.qualified(tables.definition().name + "_rejects");
    List<String> reasons = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT reason, count(*) FROM "
                + rejects
                + " WHERE source_file IN ("
                + runFiles()
                + ") GROUP BY 1 ORDER BY 2 DESC, 1")) {
      bindRun(s, 1);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          reasons.add(r.getString(1));
          counts.add(r.getLong(2));
        }
      }
    }
    if (reasons.isEmpty()) {
      html.append("<p>None: every record this run read was valid or a duplicate.</p>\n");
      return;
    }
    html.append("<p>By reason:</p>");
    bars(reasons, counts, "#d14343");
    html.append(
        "<p>By reason and column, with examples (file and line, what is wrong, the"
            + " record as read):</p>\n<table><tr><th>reason</th><th>column</th><th>rejected</th>"
            + "<th>examples</th></tr>\n");
    try (PreparedStatement s =
        c.prepareStatement(
            "WITH r AS (SELECT reason, column_name,"
                + " source_file, line_number, message, raw, count(*) OVER w AS n,"
                + " row_number() OVER (w ORDER BY source_file, line_number) AS i FROM "
                + rejects
                + " WHERE source_file IN ("
                + runFiles()
                + ") WINDOW w AS (PARTITION BY reason,"
                + " column_name)) SELECT reason, column_name, n, source_file, line_number, message, raw"
                + " FROM r WHERE i <= "
                + EXAMPLES
                + " ORDER BY n DESC, reason, column_name, i")) {
      bindRun(s, 1);
      try (ResultSet r = s.executeQuery()) {
        String open = null;
        while (r.next()) {
          String key = r.getString(1) + "\u0000" + r.getString(2);
          if (!key.equals(open)) {
            if (open != null) {
              html.append("</td></tr>\n");
            }
            open = key;
            html.append("<tr><td>")
                .append(esc(r.getString(1)))
                .append("</td><td>")
                .append(
                    r.getString(2) == null
                        ? "<span class=\"muted\">(row)</span>"
                        : "<code>" + esc(r.getString(2)) + "</code>")
                .append("</td>")
                .append(num(r.getLong(3)))
                .append("<td>");
          }
          html.append("<div><code>")
              .append(esc(r.getString(4)))
              .append(':')
              .append(r.getLong(5))
              .append("</code> ")
              .append(esc(clip(r.getString(6))));
          if (r.getString(7) != null) {
            html.append("<br><code>").append(esc(clip(r.getString(7)))).append("</code>");
          }
          html.append("</div>");
        }
        if (open != null) {
          html.append("</td></tr>\n");
        }
      }
    }
    html.append("</table>\n");
  }

  private void duplicates(Connection c) throws SQLException {
    html.append("<h2>Duplicates</h2>\n");
    html.append("<p>")
        .append(String.format(Locale.ROOT, "%,d", run.rowsDuplicate()))
        .append(
            " records had a key that another record (of this run or an earlier one) had"
                + " stored; the first stored keeps its row.</p>\n");
    fileTable(
        c, "rows_duplicate > 0", "rows_duplicate DESC, path", "Files with the most duplicates");
  }

  private void columns(Connection c) throws SQLException {
    html.append("<h2>Columns of the rows this run stored</h2>\n");
    TableSpec rows = tables.rows();
    List<TableSpec.Column> profiled = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT count(*)");
    for (TableSpec.Column col : rows.columns) {
      if (col.sqlType.equals("jsonb")
          || col.sqlType.endsWith("[]")
          || col.name.equals(DatasetDefinition.SOURCE_FILE)
          || col.name.equals(DatasetDefinition.SOURCE_LINE)) {
        continue;
      }
      String q = Identifiers.quote(col.name);
      boolean text = col.sqlType.equals("text");
      boolean bool = col.sqlType.equals("boolean");
      sql.append(", count(")
          .append(text ? "nullif(" + q + ", '')" : q)
          .append("), ")
          .append(bool ? "bool_and(" : "min(")
          .append(q)
          .append(")::text, ")
          .append(bool ? "bool_or(" : "max(")
          .append(q)
          .append(")::text");
      profiled.add(col);
    }
    // A large run is profiled from a sample of about PROFILE_ROWS rows (whole pages, as
    // TABLESAMPLE SYSTEM takes them): a full profile costs a scan of every row the run stored,
    // about 1.3 s per million rows here, where the sample costs well under a second.
    long runRows = 0;
    double tableRows = 0;
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT coalesce(sum(rows_valid), 0), (SELECT"
                + " reltuples FROM pg_class WHERE oid = ?::regclass) FROM "
                + ledger()
                + " WHERE dataset = ? AND run_id = ?")) {
      s.setString(1, tables.qualified(tables.definition().name));
      bindRun(s, 2);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        runRows = r.getLong(1);
        tableRows = r.getDouble(2);
      }
    }
    boolean sampled = runRows > PROFILE_ROWS;
    sql.append(" FROM ").append(tables.qualified(tables.definition().name));
    if (sampled) {
      double percent = Math.min(100, 100.0 * PROFILE_ROWS / Math.max(tableRows, runRows));
      sql.append(String.format(Locale.ROOT, " TABLESAMPLE SYSTEM (%.6f) REPEATABLE (0)", percent));
    }
    sql.append(" WHERE ")
        .append(Identifiers.quote(DatasetDefinition.SOURCE_FILE))
        .append(" IN (")
        .append(runFiles())
        .append(")");
    try (PreparedStatement s = c.prepareStatement(sql.toString())) {
      bindRun(s, 1);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        long total = r.getLong(1);
        if (total == 0) {
          html.append("<p class=\"muted\">")
              .append(
                  sampled
                      ? "The sample held none of this" + " run's rows."
                      : "This run stored no row.")
              .append("</p>\n");
          return;
        }
        html.append("<p>")
            .append(
                sampled
                    ? String.format(
                        Locale.ROOT,
                        "A sample of %,d of the %,d rows (whole pages of the table, PostgreSQL's"
                            + " TABLESAMPLE SYSTEM): shares are estimates, minimum and maximum those of"
                            + " the sample",
                        total,
                        runRows)
                    : String.format(Locale.ROOT, "%,d rows", total))
            .append(
                ". Empty: no value (an empty cell, or a column the file did not"
                    + " have).</p>\n<table><tr><th>column</th><th>type</th><th>empty</th>"
                    + "<th></th><th>minimum</th><th>maximum</th></tr>\n");
        for (int i = 0; i < profiled.size(); i++) {
          TableSpec.Column col = profiled.get(i);
          long empty = total - r.getLong(2 + 3 * i);
          double share = (double) empty / total;
          html.append("<tr><td><code>")
              .append(esc(col.name))
              .append("</code></td><td>")
              .append(esc(col.sqlType))
              .append("</td>")
              .append("<td class=\"n\">")
              .append(share(empty, total))
              .append("</td><td>")
              .append(meter(share))
              .append("</td><td><code>")
              .append(esc(clip(r.getString(3 + 3 * i))))
              .append("</code></td><td><code>")
              .append(esc(clip(r.getString(4 + 3 * i))))
              .append("</code></td></tr>\n");
        }
        html.append("</table>\n");
      }
    }
  }

  private void files(Connection c) throws SQLException {
    html.append("<h2>Files</h2>\n");
    fileTable(c, "true", "size_bytes DESC, path", "Largest files");
    if (run.mode().equals("watch")) {
      fileTable(
          c,
          "finished_at IS NOT NULL",
          "finished_at - started_at DESC, path",
          "Slowest files (claimed to finished)");
    } else {
      html.append(
          "<p class=\"muted\">A backfill closes its files together after the job, so"
              + " it has no time per file.</p>\n");
    }
    fileTable(c, "status <> 'done'", "path", "Files not done (failed, changed, in progress)");
  }

  /** A table of up to {@link #TOP} of the run's files meeting {@code where}. */
  private void fileTable(Connection c, String where, String order, String title)
      throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT path, status, size_bytes, rows_read,"
                + " rows_valid, rows_duplicate, rows_rejected, round(EXTRACT(EPOCH FROM finished_at"
                + " - started_at)::numeric, 3), error, count(*) OVER () FROM "
                + ledger()
                + " WHERE dataset = ? AND run_id = ? AND "
                + where
                + " ORDER BY "
                + order
                + " LIMIT "
                + TOP)) {
      bindRun(s, 1);
      // A backfill closes its files together after the job: no time per file to show.
      boolean watch = run.mode().equals("watch");
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          html.append("<p class=\"muted\">").append(esc(title)).append(": none.</p>\n");
          return;
        }
        html.append("<p>")
            .append(esc(title))
            .append(":</p>\n<table><tr><th>file</th>")
            .append("<th>status</th><th>MB</th><th>read</th><th>stored</th><th>duplicate</th>")
            .append("<th>rejected</th>")
            .append(watch ? "<th>seconds</th>" : "")
            .append("</tr>\n");
        long all = r.getLong(10);
        do {
          html.append("<tr><td><code>").append(esc(r.getString(1))).append("</code>");
          if (r.getString(9) != null) {
            html.append("<br>").append(esc(clip(r.getString(9))));
          }
          html.append("</td><td>")
              .append(esc(r.getString(2)))
              .append("</td>")
              .append("<td class=\"n\">")
              .append(String.format(Locale.ROOT, "%.2f", r.getLong(3) / 1e6))
              .append("</td>")
              .append(num(r.getObject(4)))
              .append(num(r.getObject(5)))
              .append(num(r.getObject(6)))
              .append(num(r.getObject(7)))
              .append(watch ? num(r.getObject(8)) : "")
              .append("</tr>\n");
        } while (r.next());
        html.append("</table>\n");
        if (all > TOP) {
          html.append("<p class=\"muted\">").append(all).append(" files in all.</p>\n");
        }
      }
    }
  }

  private void aggregates(Connection c) throws SQLException {
    html.append("<h2>Aggregate groups this run changed</h2>\n");
    String agg = tables.qualified(tables.definition().name + "_agg");
    List<String> cols = new ArrayList<>(tables.definition().aggregates.groupBy);
    cols.add("row_count");
    String list =
        cols.stream().map(Identifiers::quote).collect(java.util.stream.Collectors.joining(", "));
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT "
                + list
                + ", count(*) OVER () FROM "
                + agg
                + " WHERE updated_at >= ? ORDER BY "
                + list
                + " LIMIT "
                + TOP * 2)) {
      s.setTimestamp(1, Timestamp.from(run.started()));
      try (ResultSet r = s.executeQuery()) {
        if (!r.next()) {
          html.append("<p class=\"muted\">None.</p>\n");
          return;
        }
        long all = r.getLong(cols.size() + 1);
        html.append("<p>")
            .append(all)
            .append(" groups of ")
            .append(esc(agg.replace("\"", "")))
            .append(" were written or changed")
            .append(all > TOP * 2 ? "; the first " + TOP * 2 + ":" : ":")
            .append("</p>\n<table><tr>");
        for (String col : cols) {
          html.append("<th>").append(esc(col)).append("</th>");
        }
        html.append("</tr>\n");
        do {
          html.append("<tr>");
          for (int i = 1; i <= cols.size(); i++) {
            html.append("<td>").append(esc(clip(r.getString(i)))).append("</td>");
          }
          html.append("</tr>\n");
        } while (r.next());
        html.append("</table>\n");
      }
    }
  }

  /** A horizontal bar chart as inline SVG: one bar per label, widths relative to the largest. */
  private void bars(List<String> labels, List<Long> values, String colour) {
    bars(html, labels, values, colour);
  }

  /** {@link #bars(List, List, String)} into {@code html}. */
  static void bars(StringBuilder html, List<String> labels, List<Long> values, String colour) {
    long max = Math.max(1, values.stream().mapToLong(Long::longValue).max().orElse(1));
    int row = 20;
    int labelWidth = 260;
    int barWidth = 520;
    int height = row * labels.size() + 4;
    html.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(labelWidth + barWidth + 110)
        .append("\" height=\"")
        .append(height)
        .append("\" role=\"img\" font-family=\"system-ui,sans-serif\" font-size=\"12\">");
    for (int i = 0; i < labels.size(); i++) {
      int y = i * row + 2;
      long v = values.get(i);
      int w = (int) Math.max(v > 0 ? 1 : 0, Math.round((double) v / max * barWidth));
      String label = labels.get(i);
      if (label.length() > 40) {
        label = "\u2026" + label.substring(label.length() - 39);
      }
      html.append("<text x=\"")
          .append(labelWidth - 6)
          .append("\" y=\"")
          .append(y + 14)
          .append("\" text-anchor=\"end\">")
          .append(esc(label))
          .append("</text>")
          .append("<rect x=\"")
          .append(labelWidth)
          .append("\" y=\"")
          .append(y + 2)
          .append("\" width=\"")
          .append(w)
          .append("\" height=\"")
          .append(row - 6)
          .append("\" fill=\"")
          .append(colour)
          .append("\"/>")
          .append("<text x=\"")
          .append(labelWidth + w + 6)
          .append("\" y=\"")
          .append(y + 14)
          .append("\">")
          .append(String.format(Locale.ROOT, "%,d", v))
          .append("</text>");
    }
    html.append("</svg>\n");
  }

  /** A small bar for a share between 0 and 1. */
  static String meter(double share) {
    int w = (int) Math.round(share * 100);
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"102\" height=\"12\">"
        + "<rect x=\"0.5\" y=\"0.5\" width=\"101\" height=\"11\" fill=\"#fff\" stroke=\"#d8dce3\"/>"
        + "<rect x=\"1\" y=\"1\" width=\""
        + w
        + "\" height=\"10\" fill=\""
        + (share > 0.5 ? "#d14343" : "#e0a030")
        + "\"/></svg>";
  }

  static String num(Object v) {
    return "<td class=\"n\">"
        + (v == null
            ? ""
            : v instanceof Long || v instanceof Integer
                ? String.format(Locale.ROOT, "%,d", ((Number) v).longValue())
                : esc(v.toString()))
        + "</td>";
  }

  static String share(long part, long whole) {
    return whole == 0 ? "0%" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
  }

  static String clip(String s) {
    if (s == null) {
      return "";
    }
    return s.length() <= EXAMPLE_CHARS ? s : s.substring(0, EXAMPLE_CHARS) + "\u2026";
  }

  /** Text as HTML (element content and quoted attribute values alike). */
  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          // Control characters (other than tab and line breaks) would not be valid in the page.
          if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
            b.append('\uFFFD');
          } else {
            b.append(ch);
          }
        }
      }
    }
    return b.toString();
  }
}
