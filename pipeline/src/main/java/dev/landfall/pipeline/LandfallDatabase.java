package dev.landfall.pipeline;

import dev.landfall.io.postgres.EmbeddedPostgresServer;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CountDownLatch;

/**
 * Starts the embedded PostgreSQL of an earlier run again, just to query it, and keeps it running
 * until Ctrl-C. Arguments: {@code [workDir] [port]} (defaults {@code landfall-work 54329}).
 */
public final class LandfallDatabase {
  private LandfallDatabase() {}

  public static void main(String[] args) throws Exception {
    Path workDir = Paths.get(args.length > 0 ? args[0] : "landfall-work").toAbsolutePath();
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 54329;
    Path data = workDir.resolve("pgdata");
    if (!data.resolve("PG_VERSION").toFile().exists()) {
      System.err.println("no embedded database under " + data + ": run landfall first");
      System.exit(2);
    }
    EmbeddedPostgresServer server = EmbeddedPostgresServer.start(data, port);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        System.err.println("stopping PostgreSQL: " + e.getMessage());
      }
      stop.countDown();
    }));
    System.out.println("PostgreSQL is running (Ctrl-C stops it): " + server.psqlCommand());
    System.out.println("JDBC: " + server.jdbcUrl() + " (user postgres, no password)");
    stop.await();
  }
}
