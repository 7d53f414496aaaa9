package dev.landfall.pipeline.sample;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Generates a deterministic (seeded) Hive-partitioned sample of the {@code billing} dataset under
 * {@code <dir>/date=YYYY-MM-DD/part-NNNNN.csv}, with a chosen share of bad rows (one of each reject
 * reason in turn) and of exact duplicates, and returns the totals a correct run must produce. Files
 * exercise the CSV rules: quoted commas, doubled quotes and line breaks in quotes, one CRLF file,
 * one file with a UTF-8 BOM, one gzip file, timestamps with a space, a fraction or an offset.
 * Memory stays flat: only per-group totals and a small window of recent rows are kept.
 */
public final class BillingSampleGenerator {
  private static final String HEADER =
      "event_id,event_time,account_id,service,region,resource_id,usage_quantity,unit_price,cost,currency";
  private static final String[] SERVICES = {
    "compute", "storage", "network", "database", "analytics"
  };
  private static final String[] REGIONS = {"us-east-1", "eu-west-1", "ap-south-1"};

  /** Totals of one (date, service, currency) group. */
  public static final class GroupTotals {
    public long count;
    public BigDecimal sum = BigDecimal.ZERO.setScale(4);
    public BigDecimal min;
    public BigDecimal max;

    void add(BigDecimal cost) {
      count++;
      sum = sum.add(cost);
      min = min == null || cost.compareTo(min) < 0 ? cost : min;
      max = max == null || cost.compareTo(max) > 0 ? cost : max;
    }
  }

  /** What a correct run over the generated files must report. */
  public static final class Expected {
    public long files;
    public long rowsRead;
    public long valid;
    public long duplicate;
    public long rejected;
    public final Map<String, Long> rejectedByReason = new TreeMap<>();

    /** Keyed by {@code date|service|currency}. */
    public final Map<String, GroupTotals> groups = new TreeMap<>();
  }

  private final long rows;
  private final int days;
  private final int filesPerDay;
  private final double badShare;
  private final double duplicateShare;
  private final long seed;
  private final LocalDate firstDay;

  public BillingSampleGenerator(
      long rows, int days, int filesPerDay, double badShare, double duplicateShare, long seed) {
    this.rows = rows;
    this.days = days;
    this.filesPerDay = filesPerDay;
    this.badShare = badShare;
    this.duplicateShare = duplicateShare;
    this.seed = seed;
    this.firstDay = LocalDate.of(2024, 1, 1);
  }

  /** A sample sized for a quick first run: 7 days, 2 files a day, 1% bad, 2% duplicates. */
  public static BillingSampleGenerator standard(long rows, long seed) {
    return new BillingSampleGenerator(rows, 7, 2, 0.01, 0.02, seed);
  }

  /** Writes the files under {@code dir} (created if needed) and returns the expected totals. */
  public Expected writeTo(Path dir) throws IOException {
    Random rnd = new Random(seed);
    Expected exp = new Expected();
    int fileCount = days * filesPerDay;
    long perFile = Math.max(1, rows / fileCount);
    long written = 0;
    long badSeq = 0;
    for (int d = 0; d < days; d++) {
      LocalDate date = firstDay.plusDays(d);
      Path folder = dir.resolve("date=" + date);
      Files.createDirectories(folder);
      List<String[]> recent = new ArrayList<>();
      long seq = 0;
      for (int f = 0; f < filesPerDay; f++) {
        int fileIndex = d * filesPerDay + f;
        long n = fileIndex == fileCount - 1 ? rows - written : perFile;
        boolean gzip = fileIndex == 1 && fileCount > 2;
        boolean crlf = fileIndex == 2;
        boolean bom = fileIndex == 3;
        Path file = folder.resolve(String.format("part-%05d.csv%s", f, gzip ? ".gz" : ""));
        String eol = crlf ? "\r\n" : "\n";
        try (Writer w = open(file, gzip)) {
          if (bom) {
            w.write('\ufeff');
          }
          w.write(HEADER);
          w.write(eol);
          for (long i = 0; i < n; i++) {
            double pick = rnd.nextDouble();
            if (pick < badShare) {
              String reason = badRow(w, eol, date, badSeq++, rnd);
              exp.rejected++;
              exp.rejectedByReason.merge(reason, 1L, Long::sum);
            } else if (pick < badShare + duplicateShare && !recent.isEmpty()) {
              writeRecord(w, recent.get(rnd.nextInt(recent.size())), eol);
              exp.duplicate++;
            } else {
              String[] rec = validRow(date, d, seq++, rnd);
              writeRecord(w, rec, eol);
              exp.valid++;
              BigDecimal cost = new BigDecimal(rec[8]);
              exp.groups
                  .computeIfAbsent(date + "|" + rec[3] + "|" + rec[9], k -> new GroupTotals())
                  .add(cost);
              if (recent.size() < 1000) {
                recent.add(rec);
              } else {
                recent.set(rnd.nextInt(recent.size()), rec);
              }
            }
          }
        }
        written += n;
        exp.files++;
      }
    }
    exp.rowsRead = exp.valid + exp.duplicate + exp.rejected;
    return exp;
  }

  private static Writer open(Path file, boolean gzip) throws IOException {
    OutputStream out = Files.newOutputStream(file);
    if (gzip) {
      out = new GZIPOutputStream(out, 1 << 16);
    }
    return new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
  }

  private String[] validRow(LocalDate date, int day, long seq, Random rnd) {
    int second = rnd.nextInt(86400);
    String time = String.format("%02d:%02d:%02d", second / 3600, second / 60 % 60, second % 60);
    String eventTime;
    switch ((int) (seq % 4)) {
      case 0:
        eventTime = date + "T" + time + "Z";
        break;
      case 1:
        eventTime = date + " " + time;
        break;
      case 2:
        eventTime = date + "T" + time + "." + (100 + rnd.nextInt(900));
        break;
      default:
        eventTime = date + "T" + time + "+00:00";
    }
    String resource;
    int r = rnd.nextInt(200);
    if (r == 0) {
      resource = "vm \"blue\", rack " + rnd.nextInt(50);
    } else if (r == 1) {
      resource = "bucket\nsecond line";
    } else {
      resource = "res-" + rnd.nextInt(100_000);
    }
    BigDecimal quantity = BigDecimal.valueOf(rnd.nextInt(1_000_000), 3);
    BigDecimal price = BigDecimal.valueOf(1 + rnd.nextInt(500_000), 6);
    BigDecimal cost = quantity.multiply(price).setScale(4, RoundingMode.HALF_UP);
    return new String[] {
      "ev-" + day + "-" + seq,
      eventTime,
      "acct-" + rnd.nextInt(50),
      SERVICES[rnd.nextInt(SERVICES.length)],
      REGIONS[rnd.nextInt(REGIONS.length)],
      resource,
      quantity.toPlainString(),
      price.toPlainString(),
      cost.toPlainString(),
      rnd.nextInt(5) == 0 ? "EUR" : "USD"
    };
  }

  /** Writes one bad row and returns its reject reason. */
  private String badRow(Writer w, String eol, LocalDate date, long n, Random rnd)
      throws IOException {
    String[] rec = validRow(date, 0, n, rnd);
    rec[0] = "bad-" + date + "-" + n;
    String reason;
    switch ((int) (n % 5)) {
      case 0:
        rec[8] = "12.5 EUR";
        reason = "type";
        break;
      case 1:
        rec[2] = "";
        reason = "required";
        break;
      case 2:
        rec[9] = "GBP";
        reason = "constraint";
        break;
      case 3:
        rec = java.util.Arrays.copyOf(rec, 9);
        reason = "column_count";
        break;
      default:
        rec[1] = "yesterday";
        reason = "type";
    }
    writeRecord(w, rec, eol);
    return reason;
  }

  private static void writeRecord(Writer w, String[] rec, String eol) throws IOException {
    for (int i = 0; i < rec.length; i++) {
      if (i > 0) {
        w.write(',');
      }
      String v = rec[i];
      if (v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0) {
        w.write('"');
        w.write(v.replace("\"", "\"\""));
        w.write('"');
      } else {
        w.write(v);
      }
    }
    w.write(eol);
  }
}
