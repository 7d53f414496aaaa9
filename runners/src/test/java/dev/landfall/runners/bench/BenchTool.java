package dev.landfall.runners.bench;

import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.EmbeddedPostgresServer;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.postgresql.PGConnection;

/**
 * The helper steps of {@code deploy/bench/run.sh}: generate clean billing data, start a PostgreSQL
 * for the runs, and the two baselines on the same files: DuckDB converting the CSVs to partitioned
 * zstd Parquet, and PostgreSQL {@code COPY} into a table with the same primary key. DuckDB is a
 * benchmark-only dependency, which is why this lives with the tests and not in the job jar.
 */
public final class BenchTool {
  private BenchTool() {}

  public static void main(String[] args) throws Exception {
    switch (args.length == 0 ? "" : args[0]) {
      case "generate":
        generate(
            Paths.get(args[1]),
            Long.parseLong(args[2]),
            args.length > 3 ? Integer.parseInt(args[3]) : 0);
        break;
      case "pg":
        postgres(Paths.get(args[1]));
        break;
      case "duckdb":
        duckdb(Paths.get(args[1]), Paths.get(args[2]), Integer.parseInt(args[3]));
        break;
      case "copy":
        copy(Paths.get(args[1]), args[2]);
        break;
      case "copymerge":
        copyMerge(Paths.get(args[1]), args[2], Integer.parseInt(args[3]), false);
        break;
      case "copyfirst":
        copyMerge(Paths.get(args[1]), args[2], Integer.parseInt(args[3]), true);
        break;
      case "evolve":
        evolve(args[1], Long.parseLong(args[2]));
        break;
      case "ledger":
        ledger(args[1], Long.parseLong(args[2]));
        break;
      case "s3list":
        s3List(Paths.get(args[1]), Integer.parseInt(args[2]));
        break;
      default:
        System.err.println(
            "usage: BenchTool generate DIR ROWS | pg DATADIR | duckdb IN OUT THREADS"
                + " | copy IN JDBCURL | copymerge|copyfirst IN JDBCURL BATCH | evolve JDBCURL ROWS"
                + " | ledger JDBCURL FILES | s3list DIR OBJECTS");
        System.exit(2);
    }
  }

  /** The sample billing definition, as JSON. */
  private static String billingJson() throws java.io.IOException {
    try (InputStream in = BenchTool.class.getResourceAsStream("/datasets/billing.json")) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /**
   * What a definition change costs on a rows table of {@code rows} billing rows (filled by SQL):
   * adding a field, widening a decimal (PostgreSQL rewrites the table) and changing a measure (the
   * aggregate table is rebuilt from the rows). Prints each step's time.
   */
  static void evolve(String jdbcUrl, long rows) throws Exception {
    dev.landfall.io.postgres.Database db =
        new dev.landfall.io.postgres.Database(jdbcUrl, "postgres");
    String json = billingJson();
    dev.landfall.transforms.definition.DatasetDefinition v1 =
        dev.landfall.transforms.definition.DatasetDefinition.fromJson(json);
    dev.landfall.io.postgres.PostgresTables.createAll(
        db, DatasetTables.of(v1, "evolve"), dev.landfall.io.ledger.FileLedger::createTables);
    long t0 = System.nanoTime();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO evolve.billing (date, event_id, event_time, account_id, service,"
              + " region, resource_id, usage_quantity, unit_price, cost, currency, event_hour,"
              + " source_file, source_line) SELECT d, 'e' || i, d + (i % 86400) * interval '1 s',"
              + " 'acct-' || (i % 50), (ARRAY['compute','storage','network','db'])[1 + i % 4],"
              + " 'eu-west-1', 'r-' || (i % 1000), (i % 1000) / 10.0, 0.05, (i % 1000) / 200.0, 'USD',"
              + " (i % 86400) / 3600, 'f' || (i / 250000), i FROM generate_series(1, "
              + rows
              + ") i,"
              + " LATERAL (SELECT date '2024-01-01' + (i % 7)::int AS d) x");
      s.execute("ANALYZE evolve.billing");
    }
    System.out.printf("loaded %d rows in %.1f s%n", rows, (System.nanoTime() - t0) / 1e9);
    String added =
        json.replace(
            "{\"name\": \"currency\"",
            "{\"name\": \"discount\"," + " \"type\": \"decimal(14,4)\"}, {\"name\": \"currency\"");
    String widened =
        added.replace(
            "\"decimal(14,4)\", \"required\": true", "\"decimal(18,4)\", \"required\": true");
    String measured =
        widened.replace(
            "[\"count\", \"sum\", \"avg\", \"min\", \"max\", \"p90\"]",
            "[\"count\", \"sum\", \"avg\", \"min\", \"max\", \"p50\", \"p90\"]");
    String[][] steps = {
      {"add a field", added},
      {"widen cost to decimal(18,4)", widened},
      {"add a measure (p50 of cost)", measured}
    };
    for (String[] step : steps) {
      long t = System.nanoTime();
      List<dev.landfall.io.postgres.SchemaEvolution.Change> changes =
          dev.landfall.io.postgres.PostgresTables.createAll(
              db,
              DatasetTables.of(
                  dev.landfall.transforms.definition.DatasetDefinition.fromJson(step[1]), "evolve"),
              dev.landfall.io.ledger.FileLedger::createTables);
      System.out.printf("%-30s %7.1f s  %s%n", step[0], (System.nanoTime() - t) / 1e9, changes);
      if (changes.isEmpty()) {
        throw new IllegalStateException(step[0] + ": nothing changed");
      }
    }
  }

  /**
   * What the ledger's work costs when it holds {@code files} finished files (filled by SQL): a
   * claim of 1,000 new files and of 1,000 finished unchanged ones (each one transaction, as a
   * bundle's claim is), closing 1,000 files, the finished files' keys a watch reads at its first
   * poll, and the count a watch starts with. Prints each step's time.
   */
  static void ledger(String jdbcUrl, long files) throws Exception {
    dev.landfall.io.postgres.Database db =
        new dev.landfall.io.postgres.Database(jdbcUrl, "postgres");
    String json = billingJson();
    DatasetTables tables =
        DatasetTables.of(
            dev.landfall.transforms.definition.DatasetDefinition.fromJson(json), "ledger_bench");
    dev.landfall.io.postgres.PostgresTables.createAll(
        db, tables, dev.landfall.io.ledger.FileLedger::createTables);
    long t0 = System.nanoTime();
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("TRUNCATE ledger_bench.landfall_files");
      s.execute(
          "INSERT INTO ledger_bench.landfall_files (dataset, path, size_bytes, modified_at,"
              + " status, rows_read, rows_valid, rows_duplicate, rows_rejected, started_at,"
              + " finished_at) SELECT 'billing', 's3://bucket/billing/date=2024-01-' || (1 + i % 28)"
              + " || '/part-' || i || '.csv', 20000 + i % 1000, timestamptz '2024-01-01' + i * interval"
              + " '1 s', 'done', 100, 100, 0, 0, now() - interval '1 day', now() - interval '1 day'"
              + " FROM generate_series(1, "
              + files
              + ") i");
      s.execute("ANALYZE ledger_bench.landfall_files");
    }
    System.out.printf(
        "ledger of %d finished files filled in %.1f s%n", files, (System.nanoTime() - t0) / 1e9);
    dev.landfall.io.ledger.FileLedger ledger = new dev.landfall.io.ledger.FileLedger(db, tables);
    List<dev.landfall.io.ledger.FileLedger.FileFacts> fresh = new ArrayList<>();
    List<dev.landfall.io.ledger.FileLedger.FileFacts> old = new ArrayList<>();
    java.time.Instant base = java.time.Instant.parse("2024-01-01T00:00:00Z");
    for (long i = 1; i <= 1000; i++) {
      fresh.add(
          new dev.landfall.io.ledger.FileLedger.FileFacts(
              "s3://bucket/billing/date=2024-02-01/new-" + i + ".csv", 20_000, base, null));
      long j = i * (files / 1000);
      old.add(
          new dev.landfall.io.ledger.FileLedger.FileFacts(
              "s3://bucket/billing/date=2024-01-" + (1 + j % 28) + "/part-" + j + ".csv",
              20_000 + j % 1000,
              base.plusSeconds(j),
              null));
    }
    long t = System.nanoTime();
    int claimed = ledger.claimAll(fresh, false, false).size();
    System.out.printf(
        "claim 1,000 new files: %.0f ms (%d claims)%n", (System.nanoTime() - t) / 1e6, claimed);
    t = System.nanoTime();
    ledger.claimAll(old, false, false);
    System.out.printf(
        "claim 1,000 finished unchanged files: %.0f ms%n", (System.nanoTime() - t) / 1e6);
    List<String> paths = new ArrayList<>();
    List<Long> items = new ArrayList<>();
    for (dev.landfall.io.ledger.FileLedger.FileFacts f : fresh) {
      paths.add(f.path());
      items.add(0L);
    }
    t = System.nanoTime();
    ledger.finishAll(paths, items, false);
    System.out.printf("close 1,000 files: %.0f ms%n", (System.nanoTime() - t) / 1e6);
    t = System.nanoTime();
    int keys = ledger.finishedSince(null).getValue().size();
    System.out.printf(
        "finished files' keys (a watch's first poll): %.0f ms, %d keys%n",
        (System.nanoTime() - t) / 1e6, keys);
    t = System.nanoTime();
    long n = ledger.countFinished();
    System.out.printf("count finished files: %.0f ms (%d)%n", (System.nanoTime() - t) / 1e6, n);
  }

  /**
   * What a listing of {@code objects} objects costs through Beam's S3 file system (a listing, then
   * a HEAD per object) and through landfall's {@code S3Listing} (the listing alone, as the watch's
   * polls and a backfill's discovery list), against S3Proxy on loopback started under {@code dir}
   * (-Ds3proxy.jar names its jar): the wall time and this process's CPU time of three listings
   * each, alternating. S3Proxy is not S3: its answers take no network round trip, so this is the
   * client's share plus a local server's.
   */
  static void s3List(Path dir, int objects) throws Exception {
    try (dev.landfall.io.testing.S3ProxyServer s3 =
        dev.landfall.io.testing.S3ProxyServer.start(dir)) {
      System.setProperty("aws.accessKeyId", s3.identity());
      System.setProperty("aws.secretAccessKey", s3.credential());
      s3.createBucket("listing");
      long t0 = System.nanoTime();
      for (int i = 0; i < objects; i++) {
        String key = String.format("billing/date=2024-01-%02d/part-%06d.csv", 1 + i % 28, i);
        s3.client()
            .putObject(
                b -> b.bucket("listing").key(key),
                software.amazon.awssdk.core.sync.RequestBody.fromString("a,b\n1,2\n"));
      }
      System.out.printf("%d objects put in %.1f s%n", objects, (System.nanoTime() - t0) / 1e9);
      org.apache.beam.sdk.io.aws2.options.S3Options o =
          org.apache.beam.sdk.options.PipelineOptionsFactory.fromArgs(
                  "--endpoint=" + s3.endpoint(), "--awsRegion=us-east-1")
              .as(org.apache.beam.sdk.io.aws2.options.S3Options.class);
      o.setS3ClientFactoryClass(dev.landfall.io.s3.LandfallS3ClientBuilderFactory.PathStyle.class);
      org.apache.beam.sdk.io.FileSystems.setDefaultPipelineOptions(o);
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean)
              java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      try (software.amazon.awssdk.services.s3.S3Client client =
          dev.landfall.io.s3.S3Listing.client(o)) {
        for (int round = 1; round <= 6; round++) {
          // Odd rounds: Beam's S3 file system; even rounds: landfall's S3Listing.
          boolean beam = round % 2 == 1;
          long cpu = os.getProcessCpuTime();
          long t = System.nanoTime();
          int n =
              dev.landfall.io.files.Listings.match(
                      "s3://listing/billing/**/*.csv", beam ? null : client)
                  .size();
          double ms = (System.nanoTime() - t) / 1e6;
          System.out.printf(
              "%-10s %d objects in %.0f ms (%.0f ms per 1,000), client CPU" + " %.0f ms%n",
              beam ? "Beam" : "S3Listing",
              n,
              ms,
              ms * 1000 / n,
              (os.getProcessCpuTime() - cpu) / 1e6);
        }
      }
    }
  }

  /** Clean data (no bad rows, no duplicates), so that COPY can load it as is. */
  /**
   * Generates {@code rows} clean billing rows over 7 days; {@code files} > 0: about that many files
   * in all (the same rows as many small files), else files of at most ~250,000 rows.
   */
  static void generate(Path dir, long rows, int files) throws Exception {
    int days = 7;
    int filesPerDay =
        files > 0
            ? Math.max(1, files / days)
            : (int) Math.max(2, (rows + days * 250_000L - 1) / (days * 250_000L));
    BillingSampleGenerator.Expected e =
        new BillingSampleGenerator(rows, days, filesPerDay, 0, 0, 42).writeTo(dir);
    System.out.println("generated " + e.rowsRead + " rows in " + e.files + " files");
  }

  static void postgres(Path dataDir) throws Exception {
    EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dataDir, 0);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    pg.close();
                  } catch (Exception e) {
                    System.err.println(e.getMessage());
                  }
                }));
    System.out.println("ready " + pg.jdbcUrl());
    System.out.flush();
    new CountDownLatch(1).await();
  }

  static void duckdb(Path in, Path out, int threads) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute("SET threads = " + threads);
      s.execute(
          "COPY (SELECT * FROM read_csv('"
              + in
              + "/**/*.csv*', hive_partitioning = true,"
              + " header = true)) TO '"
              + out
              + "' (FORMAT parquet, COMPRESSION zstd,"
              + " PARTITION_BY (date), OVERWRITE_OR_IGNORE true)");
      try (ResultSet r =
          s.executeQuery(
              "SELECT count(*) FROM read_parquet('"
                  + out
                  + "/**/*.parquet', hive_partitioning = true)")) {
        r.next();
        System.out.println("duckdb wrote " + r.getLong(1) + " rows");
      }
    }
  }

  static List<Path> csvFiles(Path in) throws Exception {
    try (Stream<Path> walk = Files.walk(in)) {
      return walk.filter(p -> p.toString().endsWith(".csv") || p.toString().endsWith(".csv.gz"))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  /** The baseline table: the CSV's columns, the same primary key as landfall's rows table. */
  static void createTable(Statement s, String schema) throws Exception {
    s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
    s.execute("DROP TABLE IF EXISTS " + schema + ".billing");
    s.execute(
        "CREATE TABLE "
            + schema
            + ".billing (event_id text PRIMARY KEY,"
            + " event_time timestamptz NOT NULL, account_id text NOT NULL, service text NOT NULL,"
            + " region text, resource_id text, usage_quantity numeric(12,3),"
            + " unit_price numeric(12,6), cost numeric(14,4) NOT NULL, currency text NOT NULL)");
  }

  /**
   * The database side of landfall's idempotent sink, without the pipeline: each file goes in
   * batches of {@code batch} lines through COPY into a temporary staging table and then {@code
   * INSERT ... ON CONFLICT DO NOTHING} into the table, one transaction per batch. Its time over
   * plain COPY's is what any retry-safe staging-and-merge sink pays on this server. With {@code
   * copyFirst}, each batch is first copied straight into the table and merged only if a key is
   * already there, as {@code WriteToPostgres} does.
   */
  static void copyMerge(Path in, String jdbcUrl, int batch, boolean copyFirst) throws Exception {
    List<Path> files = csvFiles(in);
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement()) {
      createTable(s, "bench_merge");
      c.setAutoCommit(false);
      s.execute("CREATE TEMP TABLE stage (LIKE bench_merge.billing) ON COMMIT DELETE ROWS");
      c.commit();
      long rows = 0;
      byte[] buf = new byte[1 << 22];
      int size = 0;
      for (Path f : files) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(f), 1 << 16);
            InputStream data =
                new BufferedInputStream(
                    f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw, 1 << 16)) {
          // Records end at a line break outside quotes (quoted cells may hold line breaks).
          boolean header = true;
          boolean quoted = false;
          int n = 0;
          for (int ch = data.read(); ; ch = data.read()) {
            if (ch < 0 && size > 0 && buf[size - 1] != '\n') {
              ch = '\n'; // a last record without a line break
            }
            if (ch >= 0) {
              if (!header) {
                if (size == buf.length) {
                  buf = java.util.Arrays.copyOf(buf, buf.length * 2);
                }
                buf[size++] = (byte) ch;
              }
              if (ch == '"') {
                quoted = !quoted;
              } else if (ch == '\n' && !quoted) {
                if (header) {
                  header = false;
                } else {
                  n++;
                }
              }
            }
            if ((ch < 0 && n > 0) || n == batch) {
              boolean copied = false;
              if (copyFirst) {
                try {
                  c.unwrap(PGConnection.class)
                      .getCopyAPI()
                      .copyIn(
                          "COPY bench_merge.billing FROM STDIN WITH (FORMAT csv)",
                          new java.io.ByteArrayInputStream(buf, 0, size));
                  c.commit();
                  copied = true;
                } catch (java.sql.SQLException e) {
                  if (!"23505".equals(e.getSQLState())) {
                    throw e;
                  }
                  c.rollback();
                }
              }
              if (!copied) {
                c.unwrap(PGConnection.class)
                    .getCopyAPI()
                    .copyIn(
                        "COPY stage FROM STDIN WITH (FORMAT csv)",
                        new java.io.ByteArrayInputStream(buf, 0, size));
                s.executeUpdate(
                    "INSERT INTO bench_merge.billing SELECT * FROM stage"
                        + " ON CONFLICT (event_id) DO NOTHING");
                c.commit();
              }
              rows += n;
              n = 0;
              size = 0;
            }
            if (ch < 0) {
              break;
            }
          }
        }
      }
      System.out.println(
          (copyFirst ? "copy-first" : "copy+merge")
              + " loaded "
              + rows
              + " rows in batches of "
              + batch);
    }
  }

  static void copy(Path in, String jdbcUrl) throws Exception {
    List<Path> files = csvFiles(in);
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement()) {
      createTable(s, "bench_copy");
      long rows = 0;
      for (Path f : files) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(f), 1 << 16);
            InputStream data = f.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
          rows +=
              c.unwrap(PGConnection.class)
                  .getCopyAPI()
                  .copyIn(
                      "COPY bench_copy.billing FROM STDIN WITH (FORMAT csv, HEADER true)", data);
        }
      }
      System.out.println("copy loaded " + rows + " rows");
    }
  }
}
