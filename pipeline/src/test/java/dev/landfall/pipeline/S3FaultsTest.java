package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.testing.FaultyS3Proxy;
import dev.landfall.io.testing.FaultyS3Proxy.Fault;
import dev.landfall.io.testing.FaultyS3Proxy.Kind;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Network faults between landfall and its S3 store ({@link FaultyS3Proxy} on loopback in front of
 * S3Proxy), on the DirectRunner: 503 SlowDown, 500, resets, slow answers, and answers cut half-way
 * (object bodies and listings), on reads, listings and writes, in a backfill and in a watch. A
 * transient fault costs a retry (the AWS SDK's, or landfall's resumed read or listing), never a
 * file or the run: the results are exact. A permanent one (403 on one object) fails that file, with
 * its reason, and not the run.
 */
class S3FaultsTest extends S3TestBase {
  @BeforeAll
  static void createBuckets() {
    s3.createBucket("faulty-in");
    s3.createBucket("faulty-lake");
  }

  private static LandfallOptions options(
      FaultyS3Proxy proxy, String input, String output, String... extra) {
    LandfallOptions o = S3BackfillTest.options(s3, input, output, extra);
    o.setS3Endpoint(proxy.endpoint().toString());
    return o;
  }

  @Test
  void aBackfillThroughTransientFaultsIsExact() throws Exception {
    // Arrange: every kind of transient fault, on reads, listings and writes.
    Path local = dir.resolve("backfill-in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(3_000, 41).writeTo(local);
    s3.upload(local, "faulty-in", "backfill");
    try (FaultyS3Proxy proxy =
        FaultyS3Proxy.start(s3.endpoint())
            .inject(Fault.CUT_BODY, Kind.GET_OBJECT, 2, 8)
            .inject(Fault.DELAY, Kind.GET_OBJECT, 5, 2)
            .inject(Fault.CUT_BODY, Kind.LIST, 1, 2)
            .inject(Fault.INTERNAL_ERROR, Kind.LIST, 2, 1)
            .inject(Fault.RESET, Kind.HEAD, 3, 2)
            .inject(Fault.SLOW_DOWN, Kind.WRITE, 3, 4)
            .inject(Fault.INTERNAL_ERROR, Kind.WRITE, 7, 2)) {
      // Act
      RunSummary summary =
          LandfallPipeline.run(
              options(
                  proxy,
                  "s3://faulty-in/backfill",
                  "s3://faulty-lake/backfill-out",
                  "--workDir=" + dir.resolve("backfill-work"),
                  "--jdbcUrl=" + postgres.jdbcUrl(),
                  "--dbSchema=s3_faults",
                  "--dbUser=postgres"));

      // Assert: each fault happened, and the run is exact anyway.
      assertThat(proxy.injected(Fault.CUT_BODY, Kind.GET_OBJECT), equalTo(8));
      assertThat(proxy.injected(Fault.DELAY, Kind.GET_OBJECT), equalTo(2));
      assertThat(proxy.injected(Fault.CUT_BODY, Kind.LIST), equalTo(2));
      assertThat(
          proxy.injected(Fault.RESET, Kind.HEAD) + proxy.injected(Fault.INTERNAL_ERROR, Kind.LIST),
          greaterThan(0));
      assertThat(proxy.injected(Fault.SLOW_DOWN, Kind.WRITE), greaterThan(0));
      Path copy = dir.resolve("backfill-copy");
      s3.download("faulty-lake", "backfill-out/", copy);
      EndToEndChecks.assertBillingOutputs(summary, exp, postgres.jdbcUrl(), "s3_faults", copy);
    }
  }

  @Test
  void aWatchGoesOnThroughCutListingsAndCutReads() throws Exception {
    // Arrange: 3 objects at the start, the rest added during the run; listings and reads cut.
    Path local = dir.resolve("watch-in");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(2_000, 3, 2, 0.01, 0.02, 43).writeTo(local);
    Path[] parts = splitFiles(local, 3, "watch");
    Path firstPart = parts[0];
    Path rest = parts[1];
    s3.upload(firstPart, "faulty-in", "watched");
    try (FaultyS3Proxy proxy =
        FaultyS3Proxy.start(s3.endpoint())
            .inject(Fault.CUT_BODY, Kind.LIST, 3, 4)
            .inject(Fault.CUT_BODY, Kind.GET_OBJECT, 2, 6)
            .inject(Fault.SLOW_DOWN, Kind.WRITE, 4, 3)) {
      CompletableFuture<RunSummary> run =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return LandfallPipeline.run(
                      options(
                          proxy,
                          "s3://faulty-in/watched",
                          "s3://faulty-lake/watched-out",
                          "--workDir=" + dir.resolve("watch-work"),
                          "--jdbcUrl=" + postgres.jdbcUrl(),
                          "--dbSchema=s3_faults_watch",
                          "--dbUser=postgres",
                          "--watch",
                          "--pollInterval=1s",
                          "--stopAfterIdle=12s"));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      WatchScenario.await(
          "the first objects",
          180,
          () -> WatchScenario.doneFiles(postgres.jdbcUrl(), "s3_faults_watch") == 3);
      s3.upload(rest, "faulty-in", "watched");

      // Act: the run ends when the watch has been idle.
      RunSummary summary = run.get(300, TimeUnit.SECONDS);

      // Assert
      assertThat(summary.render(), summary.succeeded(), equalTo(true));
      assertThat(proxy.injected(Fault.CUT_BODY, Kind.LIST), greaterThan(0));
      assertThat(proxy.injected(Fault.CUT_BODY, Kind.GET_OBJECT), equalTo(6));
    }
    Path copy = dir.resolve("watch-copy");
    s3.download("faulty-lake", "watched-out/", copy);
    EndToEndChecks.assertBillingTables(exp, postgres.jdbcUrl(), "s3_faults_watch", copy, 0, 0);
  }

  @Test
  void anObjectTheStoreRefusesFailsThatFileWithItsReasonNotTheRun() throws Exception {
    // Arrange: every read of one object is answered 403 AccessDenied.
    Path local = dir.resolve("denied-in");
    new BillingSampleGenerator(1_200, 2, 2, 0.0, 0.0, 47).writeTo(local);
    s3.upload(local, "faulty-in", "denied");
    Path denied = WatchScenario.csvFiles(local).get(1);
    String key = "denied/" + denied.toString().replace('\\', '/');
    try (FaultyS3Proxy proxy =
        FaultyS3Proxy.start(s3.endpoint())
            // The SDK sends "date=" encoded ("date%3D"): match the rest of the key.
            .injectOn(Fault.ACCESS_DENIED, Kind.GET_OBJECT, key.substring(key.indexOf('=') + 1))) {
      // Act
      RunSummary summary =
          LandfallPipeline.run(
              options(
                  proxy,
                  "s3://faulty-in/denied",
                  "s3://faulty-lake/denied-out",
                  "--workDir=" + dir.resolve("denied-work"),
                  "--jdbcUrl=" + postgres.jdbcUrl(),
                  "--dbSchema=s3_denied",
                  "--dbUser=postgres"));

      // Assert: the run succeeded; the file is rejected with the store's reason, no row of it
      // is stored, and the other files are.
      assertThat(summary.render(), summary.succeeded(), equalTo(true));
      assertThat(proxy.injected(Fault.ACCESS_DENIED, Kind.GET_OBJECT), greaterThan(0));
      String uri = "s3://faulty-in/" + key;
      try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl());
          Statement s = c.createStatement()) {
        try (ResultSet r =
            s.executeQuery(
                "SELECT reason, message FROM s3_denied.billing_rejects"
                    + " WHERE source_file = '"
                    + uri
                    + "'")) {
          assertThat("a dead letter for " + uri, r.next(), equalTo(true));
          assertThat(r.getString(1), equalTo("file"));
          assertThat(r.getString(2), containsString("403"));
          assertThat("one dead letter", r.next(), equalTo(false));
        }
        try (ResultSet r =
            s.executeQuery(
                "SELECT count(*) FILTER (WHERE source_file = '"
                    + uri
                    + "'), count(DISTINCT source_file) FROM s3_denied.billing")) {
          r.next();
          assertThat(r.getLong(1), equalTo(0L));
          assertThat(r.getLong(2), equalTo((long) WatchScenario.csvFiles(local).size() - 1));
        }
      }
    }
  }

  @Test
  void aStoreRefusingWritesFailsTheRunWithTheReasonAndNoPartialParquet() throws Exception {
    // Arrange: the output's partition folders refuse writes (403 AccessDenied); the write probe
    // at the start of the run passes, so the job fails while it writes.
    Path local = dir.resolve("refused-in");
    new BillingSampleGenerator(600, 2, 1, 0.0, 0.0, 53).writeTo(local);
    s3.upload(local, "faulty-in", "refused");
    try (FaultyS3Proxy proxy =
        FaultyS3Proxy.start(s3.endpoint())
            // "date=" as the SDK sends it
            .injectOn(
                Fault.ACCESS_DENIED, Kind.WRITE, "/faulty-lake/refused-out/billing/date%3D")) {
      // Act
      Exception e =
          assertThrows(
              Exception.class,
              () ->
                  LandfallPipeline.run(
                      options(
                          proxy,
                          "s3://faulty-in/refused",
                          "s3://faulty-lake/refused-out",
                          "--sinks=parquet",
                          "--workDir=" + dir.resolve("refused-work"))));

      // Assert: the failure names the store's answer; no Parquet object, whole or partial.
      assertThat(proxy.injected(Fault.ACCESS_DENIED, Kind.WRITE), greaterThan(0));
      assertThat(String.valueOf(e), containsString("403"));
      assertThat(
          s3.keys("faulty-lake", "refused-out/").stream()
              .filter(k -> k.endsWith(".parquet"))
              .collect(Collectors.toList()),
          empty());
    }
  }
}
