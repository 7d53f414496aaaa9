package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

import dev.landfall.io.testing.S3ProxyServer;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Backfill from and to S3 (S3Proxy on loopback, signature-checked) on the DirectRunner: the same
 * generated data read from a bucket gives exactly the local-folder run's tables and Parquet rows,
 * and the Parquet objects under their final names are complete files with a _SUCCESS per partition.
 * Credentials reach the job only through the default provider chain (system properties here);
 * network faults are {@link S3FaultsTest}'s.
 */
class S3BackfillTest extends S3TestBase {
  @BeforeAll
  static void createBuckets() {
    s3.createBucket("billing-in");
    s3.createBucket("lake");
  }

  /** Options of a run, with landfall's S3 flags pointing at the test server. */
  static LandfallOptions options(S3ProxyServer s3, String input, String output, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--input=" + input,
                "--output=" + output,
                "--s3Endpoint=" + s3.endpoint(),
                "--s3PathStyle=true",
                "--awsRegion=" + S3ProxyServer.REGION));
    args.addAll(List.of(extra));
    PipelineOptionsFactory.register(LandfallOptions.class);
    return PipelineOptionsFactory.fromArgs(args.toArray(new String[0]))
        .withValidation()
        .as(LandfallOptions.class);
  }

  @Test
  void bucketBackfillEqualsTheLocalFolderRun() throws Exception {
    // Arrange: one generated dataset, kept locally and uploaded to s3://billing-in/billing.
    Path local = dir.resolve("in");
    BillingSampleGenerator.Expected exp = BillingSampleGenerator.standard(4_000, 23).writeTo(local);
    s3.upload(local, "billing-in", "billing");

    // Act: the same job over the local folder and over the bucket.
    RunSummary fromFolder =
        LandfallPipeline.run(
            EndToEndChecks.options(
                local, dir.resolve("local-work"), postgres.jdbcUrl(), "--dbSchema=s3_ref"));
    RunSummary fromBucket =
        LandfallPipeline.run(
            options(
                s3,
                "s3://billing-in/billing",
                "s3://lake/curated",
                "--workDir=" + dir.resolve("s3-work"),
                "--jdbcUrl=" + postgres.jdbcUrl(),
                "--dbSchema=s3_e2e",
                "--dbUser=postgres",
                "--dbBatchSize=2000"));

    // Assert: the bucket run is correct on its own ...
    Path copy = dir.resolve("s3-copy");
    s3.download("lake", "curated/", copy);
    EndToEndChecks.assertBillingOutputs(fromBucket, exp, postgres.jdbcUrl(), "s3_e2e", copy);
    // ... and holds exactly the local run's data, up to the source_file prefix.
    assertThat(
        fingerprint("s3_e2e", copy, "s3://billing-in/billing"),
        equalTo(fingerprint("s3_ref", dir.resolve("local-work/parquet"), local.toString())));
    assertThat(fromBucket.filesRead, equalTo(fromFolder.filesRead));
    assertThat(fromBucket.bytesRead, equalTo(fromFolder.bytesRead));
    // Only complete Parquet files under final names and the markers; no temporary objects left.
    List<String> keys = s3.keys("lake", "curated/");
    assertThat(keys, not(empty()));
    assertThat(
        keys,
        everyItem(
            matchesPattern(
                "curated/billing/date=\\d{4}-\\d\\d-\\d\\d/(compact-[0-9a-f]{16}\\.parquet"
                    + "|_compact-[0-9a-f]{16}\\.parquet\\.members|_SUCCESS)")));
  }

  @Test
  void aWatchAfterABackfillOfTheSameObjectsReadsNothingAndMarksNothingChanged() throws Exception {
    Path local = dir.resolve("then-watch-in");
    new BillingSampleGenerator(1_500, 2, 2, 0.01, 0.02, 17).writeTo(local);
    s3.upload(local, "billing-in", "then-watch");
    String[] common = {
      "--workDir=" + dir.resolve("then-watch-work"),
      "--jdbcUrl=" + postgres.jdbcUrl(),
      "--dbSchema=s3_then_watch",
      "--dbUser=postgres"
    };
    RunSummary backfill =
        LandfallPipeline.run(
            options(s3, "s3://billing-in/then-watch", "s3://lake/then-watch-out", common));
    assertThat(backfill.render(), backfill.succeeded(), equalTo(true));
    assertThat(
        BackfillThenWatchTest.ledger(
            "s3_then_watch", "count(*) FILTER (WHERE modified_at IS NULL)"),
        equalTo("0"));
    // The listing gives each object's ETag, and the ledger keeps it.
    assertThat(
        BackfillThenWatchTest.ledger(
            "s3_then_watch", "count(*) FILTER (WHERE etag IS NULL OR etag !~ '^[0-9a-f]{32}$')"),
        equalTo("0"));

    List<String> watchArgs = new ArrayList<>(List.of(common));
    watchArgs.addAll(
        List.of("--watch", "--pollInterval=1s", "--stopAfterIdle=3s", "--reingestChanged"));
    RunSummary watch =
        LandfallPipeline.run(
            options(
                s3,
                "s3://billing-in/then-watch",
                "s3://lake/then-watch-out",
                watchArgs.toArray(new String[0])));

    assertThat(watch.render(), watch.succeeded(), equalTo(true));
    assertThat("changed", watch.filesChanged, equalTo(0L));
    assertThat("read", watch.filesClaimed, equalTo(0L));
    assertThat(watch.filesAlreadyDone, equalTo(backfill.filesFinished));
  }

  @Test
  void watchModePicksUpObjectsAddedToTheBucketDuringTheRun() throws Exception {
    Path local = dir.resolve("watch-in");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(2_000, 3, 2, 0.01, 0.02, 13).writeTo(local);
    Path[] parts = splitFiles(local, 3, "watch");
    Path firstPart = parts[0];
    Path rest = parts[1];
    s3.upload(firstPart, "billing-in", "watched");
    CompletableFuture<RunSummary> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return LandfallPipeline.run(
                    options(
                        s3,
                        "s3://billing-in/watched",
                        "s3://lake/watched-out",
                        "--workDir=" + dir.resolve("watch-work"),
                        "--jdbcUrl=" + postgres.jdbcUrl(),
                        "--dbSchema=s3_watch",
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
        120,
        () -> WatchScenario.doneFiles(postgres.jdbcUrl(), "s3_watch") == 3);
    s3.upload(rest, "billing-in", "watched");
    RunSummary summary = run.get(180, TimeUnit.SECONDS);
    assertThat(summary.render(), summary.succeeded(), equalTo(true));
    Path copy = dir.resolve("watch-copy");
    s3.download("lake", "watched-out/", copy);
    EndToEndChecks.assertBillingTables(exp, postgres.jdbcUrl(), "s3_watch", copy, 0, 0);
  }

  /** Tables and Parquet rows with {@code prefix} removed from source_file. */
  private static String fingerprint(String schema, Path parquet, String prefix) throws Exception {
    StringBuilder sb = new StringBuilder();
    String p = prefix.replace("'", "''");
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl());
        Statement s = c.createStatement()) {
      for (String q :
          List.of(
              "SELECT replace(x::text, '" + p + "', '') FROM " + schema + ".billing x",
              "SELECT replace((source_file, line_number, reason, column_name, message, raw)::text, '"
                  + p
                  + "', '') FROM "
                  + schema
                  + ".billing_rejects",
              "SELECT (date, service, currency, row_count, cost_count, cost_sum, cost_avg, cost_min,"
                  + " cost_max, cost_p90)::text FROM "
                  + schema
                  + ".billing_agg")) {
        try (ResultSet r =
            s.executeQuery(
                "SELECT count(*), md5(string_agg(t, '|' ORDER BY t))"
                    + " FROM ("
                    + q
                    + ") AS q(t)")) {
          r.next();
          sb.append(r.getLong(1)).append(':').append(r.getString(2)).append('\n');
        }
      }
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), sum(hash(event_id, cost, event_time,"
                    + " source_line, replace(source_file, '"
                    + p
                    + "', ''), date))::hugeint FROM"
                    + " read_parquet('"
                    + parquet
                    + "/billing/**/*.parquet', hive_partitioning = true)")) {
      r.next();
      sb.append(r.getLong(1)).append(':').append(r.getString(2));
    }
    return sb.toString();
  }
}
