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

  /**
   * For the generated billing sample: fills the {@code accounts} lookup with names, teams and cost
   * centres for most sample accounts (acct-45 to acct-49 are left out, to show how unknown keys are
   * counted). Existing rows are kept.
   */
  static void fillSampleLookups(
      dev.landfall.io.postgres.Database db, dev.landfall.io.postgres.DatasetTables tables)
      throws java.sql.SQLException {
    dev.landfall.transforms.definition.DatasetDefinition def = tables.definition();
    String schema = tables.schema();
    for (dev.landfall.transforms.definition.DatasetDefinition.Lookup l : def.lookups) {
      if (!l.table.equals("accounts") || l.columns.size() != 3) {
        continue;
      }
      String[] teams = {"platform", "data", "web", "mobile", "research"};
      try (java.sql.Connection c = db.connect();
          java.sql.PreparedStatement s =
              c.prepareStatement(
                  "INSERT INTO "
                      + dev.landfall.transforms.definition.Identifiers.quote(schema)
                      + ".accounts"
                      + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        for (int i = 0; i < 45; i++) {
          s.setString(1, "acct-" + i);
          s.setString(2, "Account " + i);
          s.setString(3, teams[i % teams.length]);
          s.setString(4, "CC-" + (1000 + i % 9));
          s.addBatch();
        }
        s.executeBatch();
      }
    }
  }

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
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
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
