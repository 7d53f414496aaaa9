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
        generate(Paths.get(args[1]), Long.parseLong(args[2]),
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
      default:
        System.err.println("usage: BenchTool generate DIR ROWS | pg DATADIR | duckdb IN OUT THREADS"
            + " | copy IN JDBCURL | copymerge|copyfirst IN JDBCURL BATCH | evolve JDBCURL ROWS");
        System.exit(2);
    }
  }

  /**
   * What a definition change costs on a rows table of {@code rows} billing rows (filled by SQL):
   * adding a field, widening a decimal (PostgreSQL rewrites the table) and changing a measure
   * (the aggregate table is rebuilt from the rows). Prints each step's time.
   */
  static void evolve(String jdbcUrl, long rows) throws Exception {
    dev.landfall.io.postgres.Database db = new dev.landfall.io.postgres.Database(jdbcUrl,
        "postgres");
    String json;
    try (InputStream in = BenchTool.class.getResourceAsStream("/datasets/billing.json")) {
      json = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    dev.landfall.transforms.definition.DatasetDefinition v1 =
        dev.landfall.transforms.definition.DatasetDefinition.fromJson(json);
    dev.landfall.io.postgres.PostgresTables.createAll(db, DatasetTables.of(v1, "evolve"),
        dev.landfall.io.ledger.FileLedger::createTables);
    long t0 = System.nanoTime();
    try (Connection c = db.connect(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO evolve.billing (date, event_id, event_time, account_id, service,"
          + " region, resource_id, usage_quantity, unit_price, cost, currency, event_hour,"
          + " source_file, source_line) SELECT d, 'e' || i, d + (i % 86400) * interval '1 s',"
          + " 'acct-' || (i % 50), (ARRAY['compute','storage','network','db'])[1 + i % 4],"
          + " 'eu-west-1', 'r-' || (i % 1000), (i % 1000) / 10.0, 0.05, (i % 1000) / 200.0, 'USD',"
          + " (i % 86400) / 3600, 'f' || (i / 250000), i FROM generate_series(1, " + rows + ") i,"
          + " LATERAL (SELECT date '2024-01-01' + (i % 7)::int AS d) x");
      s.execute("ANALYZE evolve.billing");
    }
    System.out.printf("loaded %d rows in %.1f s%n", rows, (System.nanoTime() - t0) / 1e9);
    String added = json.replace("{\"name\": \"currency\"", "{\"name\": \"discount\","
        + " \"type\": \"decimal(14,4)\"}, {\"name\": \"currency\"");
    String widened = added.replace("\"decimal(14,4)\", \"required\": true",
        "\"decimal(18,4)\", \"required\": true");
    String measured = widened.replace("[\"count\", \"sum\", \"avg\", \"min\", \"max\", \"p90\"]",
        "[\"count\", \"sum\", \"avg\", \"min\", \"max\", \"p50\", \"p90\"]");
    String[][] steps = {{"add a field", added}, {"widen cost to decimal(18,4)", widened},
        {"add a measure (p50 of cost)", measured}};
    for (String[] step : steps) {
      long t = System.nanoTime();
      List<dev.landfall.io.postgres.SchemaEvolution.Change> changes =
          dev.landfall.io.postgres.PostgresTables.createAll(db,
              DatasetTables.of(
                  dev.landfall.transforms.definition.DatasetDefinition.fromJson(step[1]), "evolve"),
              dev.landfall.io.ledger.FileLedger::createTables);
      System.out.printf("%-30s %7.1f s  %s%n", step[0], (System.nanoTime() - t) / 1e9, changes);
      if (changes.isEmpty()) {
        throw new IllegalStateException(step[0] + ": nothing changed");
      }
    }
  }

  /** Clean data (no bad rows, no duplicates), so that COPY can load it as is. */
  /**
   * Generates {@code rows} clean billing rows over 7 days; {@code files} > 0: about that many
   * files in all (the same rows as many small files), else files of at most ~250,000 rows.
   */
  static void generate(Path dir, long rows, int files) throws Exception {
    int days = 7;
    int filesPerDay = files > 0 ? Math.max(1, files / days)
        : (int) Math.max(2, (rows + days * 250_000L - 1) / (days * 250_000L));
    BillingSampleGenerator.Expected e =
        new BillingSampleGenerator(rows, days, filesPerDay, 0, 0, 42).writeTo(dir);
    System.out.println("generated " + e.rowsRead + " rows in " + e.files + " files");
  }

  static void postgres(Path dataDir) throws Exception {
    EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dataDir, 0);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
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
      s.execute("COPY (SELECT * FROM read_csv('" + in + "/**/*.csv*', hive_partitioning = true,"
          + " header = true)) TO '" + out + "' (FORMAT parquet, COMPRESSION zstd,"
          + " PARTITION_BY (date), OVERWRITE_OR_IGNORE true)");
      try (ResultSet r = s.executeQuery("SELECT count(*) FROM read_parquet('" + out
          + "/**/*.parquet', hive_partitioning = true)")) {
        r.next();
        System.out.println("duckdb wrote " + r.getLong(1) + " rows");
      }
    }
  }

  static List<Path> csvFiles(Path in) throws Exception {
    try (Stream<Path> walk = Files.walk(in)) {
      return walk.filter(p -> p.toString().endsWith(".csv") || p.toString().endsWith(".csv.gz"))
          .sorted().collect(Collectors.toList());
    }
  }

  /** The baseline table: the CSV's columns, the same primary key as landfall's rows table. */
  static void createTable(Statement s, String schema) throws Exception {
    s.execute("CREATE SCHEMA IF NOT EXISTS " + schema);
    s.execute("DROP TABLE IF EXISTS " + schema + ".billing");
    s.execute("CREATE TABLE " + schema + ".billing (event_id text PRIMARY KEY,"
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
            InputStream data = new BufferedInputStream(
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
                  c.unwrap(PGConnection.class).getCopyAPI().copyIn(
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
                c.unwrap(PGConnection.class).getCopyAPI().copyIn(
                    "COPY stage FROM STDIN WITH (FORMAT csv)",
                    new java.io.ByteArrayInputStream(buf, 0, size));
                s.executeUpdate("INSERT INTO bench_merge.billing SELECT * FROM stage"
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
      System.out.println((copyFirst ? "copy-first" : "copy+merge") + " loaded " + rows
          + " rows in batches of " + batch);
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
          rows += c.unwrap(PGConnection.class).getCopyAPI().copyIn(
              "COPY bench_copy.billing FROM STDIN WITH (FORMAT csv, HEADER true)", data);
        }
      }
      System.out.println("copy loaded " + rows + " rows");
    }
  }
}
