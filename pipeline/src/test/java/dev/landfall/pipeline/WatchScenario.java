package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The watch-mode scenarios shared by the runner tests: files landing during a run (a new partition,
 * an old one, a file of duplicates under a new name, a file written slowly), the status pushed by
 * NOTIFY and webhook, and a restart after a run was stopped in the middle of a file.
 */
public final class WatchScenario {
  static final String HEADER =
      "event_id,event_time,account_id,service,region,resource_id,"
          + "usage_quantity,unit_price,cost,currency";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final String jdbcUrl;
  private final String[] runnerArgs;

  /**
   * @param runnerArgs extra options, e.g. {@code --runner=FlinkRunner}
   */
  public WatchScenario(Path dir, String jdbcUrl, String... runnerArgs) {
    this.dir = dir;
    this.jdbcUrl = jdbcUrl;
    this.runnerArgs = runnerArgs;
  }

  private String[] args(String schema, String... extra) {
    List<String> a =
        new ArrayList<>(List.of("--dbSchema=" + schema, "--watch", "--pollInterval=1s"));
    a.addAll(List.of(extra));
    a.addAll(List.of(runnerArgs));
    return a.toArray(new String[0]);
  }

  /** Copies {@code files} (relative to {@code from}) into {@code to}, as if landed a minute ago. */
  static void land(Path from, Path to, List<Path> files, boolean old) throws IOException {
    for (Path rel : files) {
      Path target = to.resolve(rel);
      Files.createDirectories(target.getParent());
      Files.copy(from.resolve(rel), target);
      if (old) {
        Files.setLastModifiedTime(target, FileTime.from(Instant.now().minusSeconds(60)));
      }
    }
  }

  static List<Path> csvFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> p.toString().contains(".csv"))
          .map(root::relativize)
          .sorted()
          .collect(Collectors.toList());
    }
  }

  static long doneFiles(String jdbcUrl, String schema) {
    try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
      return EndToEndChecks.scalar(
          c, "SELECT count(*) FROM " + schema + ".landfall_files" + " WHERE status = 'done'");
    } catch (Exception e) {
      return -1; // tables not created yet
    }
  }

  static void await(String what, long seconds, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
      }
      Thread.sleep(200);
    }
  }

  /**
   * Backfills most files, then lands the rest while the job watches; checks tables, aggregates,
   * Parquet, the ledger, the LISTEN channel and the webhook.
   */
  public void filesLandingDuringARunAreEachIngestedOnce(String schema) throws Exception {
    Path pool = dir.resolve(schema + "-pool");
    Path input = dir.resolve(schema + "-in");
    Path work = dir.resolve(schema + "-work");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(4_000, 4, 2, 0.01, 0.02, 11).writeTo(pool);
    List<Path> all = csvFiles(pool);
    Path oldPartition =
        all.stream()
            .filter(p -> p.toString().startsWith("date=2024-01-01"))
            .findFirst()
            .orElseThrow();
    List<Path> newPartition =
        all.stream()
            .filter(p -> p.toString().startsWith("date=2024-01-04"))
            .collect(Collectors.toList());
    List<Path> first = new ArrayList<>(all);
    first.remove(oldPartition);
    first.removeAll(newPartition);
    land(pool, input, first, true);

    List<String> webhook = Collections.synchronizedList(new ArrayList<>());
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/hook",
        ex -> {
          try (InputStream in = ex.getRequestBody()) {
            webhook.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    http.start();
    List<JsonNode> notified = Collections.synchronizedList(new ArrayList<>());
    try (Connection listen = EndToEndChecks.pg(jdbcUrl)) {
      try (Statement s = listen.createStatement()) {
        s.execute("LISTEN landfall_status");
      }
      String hook = "http://127.0.0.1:" + http.getAddress().getPort() + "/hook";
      CompletableFuture<RunSummary> run =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return LandfallPipeline.run(
                      EndToEndChecks.options(
                          input,
                          work,
                          jdbcUrl,
                          args(schema, "--stopAfterIdle=12s", "--webhookUrl=" + hook)));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      BooleanSupplier firstDone =
          () -> {
            drain(listen, notified);
            return doneFiles(jdbcUrl, schema) == first.size();
          };
      await("the first " + first.size() + " files", 120, firstDone);

      // Files landing while the job runs. The watch stops only 12 s after the last file finished
      // (--stopAfterIdle counts from there), however long the first files took.
      Instant landed = Instant.now();
      land(pool, input, List.of(oldPartition), false);
      land(pool, input, newPartition.subList(0, 1), false);
      Path replay = input.resolve("date=2024-01-02").resolve("replay-0001.csv");
      writeDuplicates(schema, replay, 50);
      Path slow = newPartition.get(1);
      writeSlowly(pool.resolve(slow), input.resolve(slow), 5, 400);

      RunSummary summary = run.get(180, TimeUnit.SECONDS);
      drain(listen, notified);
      assertThat(summary.render(), summary.succeeded(), equalTo(true));
      assertThat("no file state left behind", summary.filesInFlight, equalTo(0L));
      assertThat("every file claimed exactly once", summary.filesClaimed, equalTo(exp.files + 1));
      EndToEndChecks.assertBillingTables(exp, jdbcUrl, schema, work.resolve("parquet"), 1, 50);
      try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
        assertThat(
            EndToEndChecks.scalar(
                c,
                "SELECT rows_valid * 1000 + rows_duplicate FROM "
                    + schema
                    + ".landfall_files WHERE path LIKE '%replay-0001.csv'"),
            equalTo(50L));
      }
      try (Connection c = EndToEndChecks.pg(jdbcUrl);
          Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT finished_at FROM "
                      + schema
                      + ".landfall_files"
                      + " WHERE path = '"
                      + input.resolve(oldPartition)
                      + "'")) {
        r.next();
        long millis = r.getTimestamp(1).toInstant().toEpochMilli() - landed.toEpochMilli();
        System.out.printf(
            "watch latency (%s, poll 1s): file landed -> rows queryable and ledger"
                + " done in %d ms%n",
            String.join(" ", runnerArgs), millis);
        assertThat("queryable within a few polls", millis < 30_000, equalTo(true));
      }
      long files = exp.files + 1;
      List<JsonNode> done =
          notified.stream()
              .filter(n -> n.get("status").asText().equals("done"))
              .collect(Collectors.toList());
      assertThat("a done notification per file", done, hasSize((int) files));
      assertThat(
          "a discovered notification per file",
          notified.stream().filter(n -> n.get("status").asText().equals("discovered")).count(),
          equalTo(files));
      await(
          "webhook events",
          30,
          () -> webhook.stream().filter(w -> w.contains("\"status\":\"done\"")).count() == files);
    } finally {
      http.stop(0);
    }
  }

  /**
   * A run that stops in the middle of a file (simulated: the file is left 'processing' with only
   * some of its rows stored and no Parquet), then a restart with more files: nothing read twice
   * that was done, nothing duplicated, the same final results.
   */
  public void aRestartFinishesWhatAStoppedRunLeftAndNothingTwice(String schema) throws Exception {
    Path pool = dir.resolve(schema + "-pool");
    Path input = dir.resolve(schema + "-in");
    Path work = dir.resolve(schema + "-work");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(3_000, 3, 2, 0.01, 0.02, 5).writeTo(pool);
    List<Path> all = csvFiles(pool);
    List<Path> first = all.subList(0, 4);
    land(pool, input, first, true);
    RunSummary one =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, jdbcUrl, args(schema, "--stopAfterIdle=3s")));
    assertThat(one.render(), one.succeeded(), equalTo(true));

    // Stopped mid-file: back to 'processing', half its rows and its rejects gone, no Parquet.
    String victim = input.resolve(first.get(2)).toString();
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement()) {
      s.execute(
          "UPDATE "
              + schema
              + ".landfall_files SET status = 'processing' WHERE path = '"
              + victim
              + "'");
      s.execute(
          "DELETE FROM "
              + schema
              + ".billing WHERE source_file = '"
              + victim
              + "' AND source_line % 2 = 0");
      s.execute("DELETE FROM " + schema + ".billing_rejects WHERE source_file = '" + victim + "'");
    }
    try (Stream<Path> parquet = Files.walk(work.resolve("parquet"))) {
      for (Path p :
          parquet.filter(p -> p.toString().endsWith(".parquet")).collect(Collectors.toList())) {
        if (p.getFileName()
            .toString()
            .startsWith(dev.landfall.io.parquet.WriteParquetPartitions.filePrefix(victim))) {
          Files.delete(p);
        }
      }
    }

    land(pool, input, all.subList(4, all.size()), true);
    RunSummary two =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, jdbcUrl, args(schema, "--stopAfterIdle=3s")));
    assertThat(two.render(), two.succeeded(), equalTo(true));
    assertThat("done files are not read again", two.filesAlreadyDone, equalTo(3L));
    assertThat(
        "the unfinished file and the new ones are read",
        two.filesClaimed,
        equalTo((long) (all.size() - 3)));
    EndToEndChecks.assertBillingTables(exp, jdbcUrl, schema, work.resolve("parquet"), 0, 0);
  }

  /**
   * A file rewritten after it was ingested: marked 'changed' and left alone by default; with
   * --reingestChanged its old rows are replaced by the new ones and its groups recomputed.
   */
  public void aChangedFileIsReportedAndReplacedOnlyWhenAsked(String schema) throws Exception {
    Path input = dir.resolve(schema + "-in");
    Path work = dir.resolve(schema + "-work");
    new BillingSampleGenerator(2_000, 2, 2, 0.0, 0.0, 3).writeTo(input);
    List<Path> files = csvFiles(input);
    for (Path f : files) {
      Files.setLastModifiedTime(input.resolve(f), FileTime.from(Instant.now().minusSeconds(60)));
    }
    RunSummary one =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, jdbcUrl, args(schema, "--stopAfterIdle=3s")));
    assertThat(one.render(), one.succeeded(), equalTo(true));

    // Rewrite one file with only its first 100 records.
    Path changed =
        input.resolve(
            files.stream().filter(f -> f.toString().endsWith(".csv")).findFirst().orElseThrow());
    List<String> lines = Files.readAllLines(changed);
    Files.write(changed, lines.subList(0, 101));
    Files.setLastModifiedTime(changed, FileTime.from(Instant.now().minusSeconds(30)));
    String table = schema + ".billing";
    String mine = " WHERE source_file = '" + changed + "'";
    long before;
    long totalBefore;
    try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
      before = EndToEndChecks.scalar(c, "SELECT count(*) FROM " + table + mine);
      totalBefore = EndToEndChecks.scalar(c, "SELECT count(*) FROM " + table);
      assertThat(before > 100, equalTo(true));
    }

    RunSummary two =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, jdbcUrl, args(schema, "--stopAfterIdle=3s")));
    assertThat(two.filesChanged, equalTo(1L));
    assertThat(two.filesClaimed, equalTo(0L));
    try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
      assertThat(EndToEndChecks.scalar(c, "SELECT count(*) FROM " + table + mine), equalTo(before));
      assertThat(
          EndToEndChecks.scalar(
              c,
              "SELECT count(*) FROM " + schema + ".landfall_files" + " WHERE status = 'changed'"),
          equalTo(1L));
    }

    RunSummary three =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input, work, jdbcUrl, args(schema, "--stopAfterIdle=3s", "--reingestChanged")));
    assertThat(three.render(), three.succeeded(), equalTo(true));
    assertThat(three.filesClaimed, equalTo(1L));
    try (Connection c = EndToEndChecks.pg(jdbcUrl)) {
      long now = EndToEndChecks.scalar(c, "SELECT count(*) FROM " + table + mine);
      String ledger = " FROM " + schema + ".landfall_files" + mine.replace("source_file", "path");
      assertThat(
          "old rows replaced, not added to",
          now,
          equalTo(EndToEndChecks.scalar(c, "SELECT rows_valid" + ledger)));
      assertThat(now > 90 && now <= 100, equalTo(true));
      assertThat(
          EndToEndChecks.scalar(
              c, "SELECT rows_read - rows_valid - rows_duplicate" + " - rows_rejected" + ledger),
          equalTo(0L));
      assertThat(
          EndToEndChecks.scalar(c, "SELECT count(*) FROM " + table),
          equalTo(totalBefore - before + now));
      assertThat(
          "aggregates follow the stored rows",
          EndToEndChecks.scalar(
              c,
              "SELECT count(*) FROM (SELECT date, service, currency, count(*) AS n, sum(cost) AS s"
                  + " FROM "
                  + table
                  + " GROUP BY 1, 2, 3) r FULL JOIN "
                  + schema
                  + ".billing_agg a"
                  + " USING (date, service, currency) WHERE a.row_count IS DISTINCT FROM r.n"
                  + " OR a.cost_sum IS DISTINCT FROM r.s"),
          equalTo(0L));
    }
  }

  private void writeDuplicates(String schema, Path file, int n) throws Exception {
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    try (Connection c = EndToEndChecks.pg(jdbcUrl);
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT concat_ws(',', event_id,"
                    + " to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                    + " account_id, service, region, resource_id, usage_quantity, unit_price, cost,"
                    + " currency) FROM "
                    + schema
                    + ".billing WHERE date = '2024-01-02'"
                    + " ORDER BY event_id LIMIT "
                    + n);
        Writer w = Files.newBufferedWriter(tmp)) {
      w.write(HEADER + "\n");
      while (r.next()) {
        w.write(r.getString(1) + "\n");
      }
    }
    // Written under a hidden temporary name, then renamed: the writer convention watch relies on.
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes {@code from} to {@code to} in {@code pieces}, pausing between them. */
  static void writeSlowly(Path from, Path to, int pieces, long pauseMillis) throws Exception {
    byte[] bytes = Files.readAllBytes(from);
    Files.createDirectories(to.getParent());
    try (java.io.OutputStream out = Files.newOutputStream(to)) {
      for (int i = 0; i < pieces; i++) {
        int a = bytes.length * i / pieces;
        int b = bytes.length * (i + 1) / pieces;
        out.write(bytes, a, b - a);
        out.flush();
        Thread.sleep(pauseMillis);
      }
    }
  }

  private static void drain(Connection listen, List<JsonNode> into) {
    try {
      PGNotification[] ns = listen.unwrap(PGConnection.class).getNotifications(100);
      if (ns != null) {
        for (PGNotification n : ns) {
          into.add(JSON.readTree(n.getParameter()));
        }
      }
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
