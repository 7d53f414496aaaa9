package dev.landfall.runners.bench;

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
        generate(Paths.get(args[1]), Long.parseLong(args[2]));
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
      default:
        System.err.println("usage: BenchTool generate DIR ROWS | pg DATADIR | duckdb IN OUT THREADS"
            + " | copy IN JDBCURL");
        System.exit(2);
    }
  }

  /** Clean data (no bad rows, no duplicates), so that COPY can load it as is. */
  static void generate(Path dir, long rows) throws Exception {
    int days = 7;
    int filesPerDay = (int) Math.max(2, (rows + days * 250_000L - 1) / (days * 250_000L));
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

  static void copy(Path in, String jdbcUrl) throws Exception {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(in)) {
      files = walk.filter(p -> p.toString().endsWith(".csv") || p.toString().endsWith(".csv.gz"))
          .sorted().collect(Collectors.toList());
    }
    try (Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS bench_copy");
      s.execute("DROP TABLE IF EXISTS bench_copy.billing");
      s.execute("CREATE TABLE bench_copy.billing (event_id text PRIMARY KEY,"
          + " event_time timestamptz NOT NULL, account_id text NOT NULL, service text NOT NULL,"
          + " region text, resource_id text, usage_quantity numeric(12,3),"
          + " unit_price numeric(12,6), cost numeric(14,4) NOT NULL, currency text NOT NULL)");
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
