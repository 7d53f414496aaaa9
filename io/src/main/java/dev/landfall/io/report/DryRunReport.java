package dev.landfall.io.report;

import static dev.landfall.io.report.QualityReport.bars;
import static dev.landfall.io.report.QualityReport.clip;
import static dev.landfall.io.report.QualityReport.esc;
import static dev.landfall.io.report.QualityReport.kpi;
import static dev.landfall.io.report.QualityReport.meter;
import static dev.landfall.io.report.QualityReport.num;
import static dev.landfall.io.report.QualityReport.share;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The report of a dry run ({@code --dryRun}): the same kind of page as {@link QualityReport}, built
 * from the facts the job computed ({@code QualityFacts}: one JSON line per file, per reject reason
 * and column, and one for the columns) instead of from a database, since a dry run writes none.
 * Files that would be quarantined come first.
 */
public final class DryRunReport {
  /** Files listed in the page (the quarantined and failed ones, then the most rejected). */
  static final int FILES = 200;

  /** A file as the dry run found it. */
  public record FileFacts(
      String path,
      long items,
      long stored,
      long rejectedRows,
      long fileRejects,
      String quarantined,
      String error) {
    /** Records read: items, less the file's dead letters. */
    public long read() {
      return Math.max(0, items - fileRejects);
    }

    /** Records whose key another record had: the rest. */
    public long duplicate() {
      return Math.max(0, read() - stored - rejectedRows);
    }
  }

  /** What the page says, for the summary: every file that would be quarantined, with why. */
  public record Outcome(
      Path page,
      List<FileFacts> quarantined,
      long files,
      long read,
      long stored,
      long duplicate,
      long rejected) {}

  private DryRunReport() {}

  /**
   * Reads the facts in {@code facts} (JSON lines) and writes the page beside them ({@code .html}
   * instead of {@code .jsonl}); returns what it found.
   */
  public static Outcome write(Path facts, String dataset, String input, double seconds)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<FileFacts> files = new ArrayList<>();
    List<JsonNode> reasons = new ArrayList<>();
    JsonNode columns = null;
    try (BufferedReader in = Files.newBufferedReader(facts, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode n = json.readTree(line);
        switch (n.path("kind").asText()) {
          case "file" ->
              files.add(
                  new FileFacts(
                      n.path("path").asText(),
                      n.path("items").asLong(),
                      n.path("stored").asLong(),
                      n.path("rejectedRows").asLong(),
                      n.path("fileRejects").asLong(),
                      text(n, "quarantined"),
                      text(n, "error")));
          case "reject" -> reasons.add(n);
          case "columns" -> columns = n;
          default -> {}
        }
      }
    }
    files.sort(
        Comparator.comparing((FileFacts f) -> f.quarantined() == null)
            .thenComparing(f -> f.error() == null)
            .thenComparing(Comparator.comparingLong(FileFacts::rejectedRows).reversed())
            .thenComparing(FileFacts::path));
    reasons.sort(
        Comparator.comparingLong((JsonNode n) -> -n.path("count").asLong())
            .thenComparing(n -> n.path("reason").asText() + "\t" + n.path("column").asText("")));
    long read = 0;
    long stored = 0;
    long duplicate = 0;
    long rejected = 0;
    List<FileFacts> quarantined = new ArrayList<>();
    for (FileFacts f : files) {
      read += f.read();
      stored += f.stored();
      duplicate += f.duplicate();
      rejected += f.rejectedRows();
      if (f.quarantined() != null) {
        quarantined.add(f);
      }
    }

    StringBuilder html = new StringBuilder();
    String title = "landfall dry run: " + dataset;
    QualityReport.page(html, title);
    html.append("<h1>")
        .append(esc(title))
        .append("</h1>\n<p class=\"sub\">")
        .append(esc(input))
        .append(", ")
        .append(esc(String.format(Locale.ROOT, "%.1f s", seconds)))
        .append(
            ". Nothing was written: no table, no Parquet, no ledger entry. Duplicates are"
                + " counted within these files only.</p>\n<div class=\"kpis\">");
    kpi(html, "", files.size(), "files read");
    kpi(html, quarantined.isEmpty() ? "ok" : "bad", quarantined.size(), "would be quarantined");
    kpi(html, "", read, "rows read");
    kpi(html, "ok", stored, "valid (" + share(stored, read) + ")");
    kpi(html, duplicate > 0 ? "warn" : "", duplicate, "duplicate (" + share(duplicate, read) + ")");
    kpi(html, rejected > 0 ? "bad" : "", rejected, "rejected (" + share(rejected, read) + ")");
    html.append("</div>\n");

    if (!quarantined.isEmpty()) {
      html.append("<h2>Files that would be quarantined</h2>\n<table><tr><th>file</th>")
          .append("<th>why</th></tr>\n");
      for (FileFacts f : quarantined) {
        html.append("<tr><td><code>")
            .append(esc(f.path()))
            .append("</code></td><td>")
            .append(esc(clip(f.quarantined())))
            .append("</td></tr>\n");
      }
      html.append("</table>\n");
    }

    html.append("<h2>Rejected rows and files</h2>\n");
    if (reasons.isEmpty()) {
      html.append("<p>None: every record was valid or a duplicate.</p>\n");
    } else {
      List<String> labels = new ArrayList<>();
      List<Long> counts = new ArrayList<>();
      for (JsonNode n : reasons) {
        labels.add(
            n.path("reason").asText()
                + (n.path("column").isNull() ? "" : " / " + n.path("column").asText()));
        counts.add(n.path("count").asLong());
      }
      bars(html, labels, counts, "#d14343");
      html.append(
          "<table><tr><th>reason</th><th>column</th><th>rejected</th>"
              + "<th>examples</th></tr>\n");
      for (JsonNode n : reasons) {
        html.append("<tr><td>")
            .append(esc(n.path("reason").asText()))
            .append("</td><td>")
            .append(
                n.path("column").isNull()
                    ? "<span class=\"muted\">(row)</span>"
                    : "<code>" + esc(n.path("column").asText()) + "</code>")
            .append("</td>")
            .append(num(n.path("count").asLong()))
            .append("<td>");
        for (JsonNode x : n.path("examples")) {
          html.append("<div><code>")
              .append(esc(x.path("file").asText()))
              .append(':')
              .append(x.path("line").asLong())
              .append("</code> ")
              .append(esc(clip(text(x, "message"))));
          if (text(x, "raw") != null) {
            html.append("<br><code>").append(esc(clip(text(x, "raw")))).append("</code>");
          }
          html.append("</div>");
        }
        html.append("</td></tr>\n");
      }
      html.append("</table>\n");
    }

    html.append("<h2>Columns of the valid rows</h2>\n");
    long rows = columns == null ? 0 : columns.path("rows").asLong();
    if (rows == 0) {
      html.append("<p class=\"muted\">No valid row.</p>\n");
    } else {
      html.append("<p>")
          .append(String.format(Locale.ROOT, "%,d", rows))
          .append(
              " rows (one per key). Empty: no value.</p>\n<table><tr><th>column</th>"
                  + "<th>empty</th><th></th><th>minimum</th><th>maximum</th></tr>\n");
      for (JsonNode c : columns.path("columns")) {
        long empty = rows - c.path("nonEmpty").asLong();
        html.append("<tr><td><code>")
            .append(esc(c.path("name").asText()))
            .append("</code></td>")
            .append("<td class=\"n\">")
            .append(share(empty, rows))
            .append("</td><td>")
            .append(meter((double) empty / rows))
            .append("</td><td><code>")
            .append(esc(clip(text(c, "min"))))
            .append("</code></td><td><code>")
            .append(esc(clip(text(c, "max"))))
            .append("</code></td></tr>\n");
      }
      html.append("</table>\n");
    }

    html.append("<h2>Files</h2>\n<table><tr><th>file</th><th>read</th><th>valid</th>")
        .append("<th>duplicate</th><th>rejected</th></tr>\n");
    for (FileFacts f : files.subList(0, Math.min(FILES, files.size()))) {
      html.append("<tr><td><code>").append(esc(f.path())).append("</code>");
      if (f.error() != null) {
        html.append("<br>").append(esc(clip(f.error())));
      }
      html.append("</td>")
          .append(num(f.read()))
          .append(num(f.stored()))
          .append(num(f.duplicate()))
          .append(num(f.rejectedRows()))
          .append("</tr>\n");
    }
    html.append("</table>\n");
    if (files.size() > FILES) {
      html.append("<p class=\"muted\">")
          .append(files.size())
          .append(" files in all; every one" + " is in ")
          .append(esc(facts.getFileName().toString()))
          .append(".</p>\n");
    }
    html.append("</main></body></html>\n");

    String name = facts.getFileName().toString().replaceFirst("\\.jsonl$", "") + ".html";
    Path page = facts.resolveSibling(name);
    Path part = facts.resolveSibling("." + name + ".part");
    Files.writeString(part, html.toString(), StandardCharsets.UTF_8);
    Files.move(part, page, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return new Outcome(page, quarantined, files.size(), read, stored, duplicate, rejected);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isMissingNode() || v.isNull() ? null : v.asText();
  }
}
