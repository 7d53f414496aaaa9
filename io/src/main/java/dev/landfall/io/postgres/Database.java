package dev.landfall.io.postgres;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * How to reach PostgreSQL: a JDBC URL and a user. The password is never stored here (so it never
 * reaches pipeline options, logs or a runner's UI): it is read from the environment variable
 * {@code PGPASSWORD} on the machine that opens the connection, as psql does.
 */
public final class Database implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String jdbcUrl;
  private final String user;

  public Database(String jdbcUrl, String user) {
    if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("--jdbcUrl must start with jdbc:postgresql:");
    }
    this.jdbcUrl = jdbcUrl;
    this.user = user;
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String user() {
    return user;
  }

  /** Opens a connection; the error names the URL (without secrets) and never the password. */
  public Connection connect() throws SQLException {
    Properties props = new Properties();
    if (user != null && !user.isEmpty()) {
      props.setProperty("user", user);
    }
    String password = System.getenv("PGPASSWORD");
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("ApplicationName", "landfall");
    props.setProperty("connectTimeout", "10");
    try {
      return DriverManager.getConnection(jdbcUrl, props);
    } catch (SQLException e) {
      throw new SQLException(
          "cannot connect to PostgreSQL at " + safeUrl() + " as user '" + user + "': "
              + e.getMessage(), e.getSQLState(), e);
    }
  }

  /** Work on one connection, retried as a whole by {@link #retrying}. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException, java.io.IOException;
  }

  private static final int MAX_ATTEMPTS = 6;

  /**
   * Runs {@code work} on a fresh connection, retrying it from the start (new connection) with
   * exponential backoff when the failure is transient: connection lost or refused (SQLState
   * 08xxx), server shutting down (57Pxx), serialization failure or deadlock. About 30 s in all,
   * enough for a database restart. {@code work} must be safe to repeat (one transaction).
   */
  public <T> T retrying(String what, Work<T> work) throws SQLException, java.io.IOException {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = connect()) {
        return work.run(c);
      } catch (SQLException e) {
        if (!isTransient(e) || attempt >= MAX_ATTEMPTS) {
          throw e;
        }
        long sleep = Math.min(30_000L, 500L << attempt);
        org.slf4j.LoggerFactory.getLogger(Database.class).warn(
            "{} failed (attempt {}/{}, SQLState {}), retrying in {} ms: {}", what, attempt,
            MAX_ATTEMPTS, e.getSQLState(), sleep, e.getMessage());
        try {
          Thread.sleep(sleep);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Connection problems (08xxx), serialization failures and deadlocks, server shutdown. */
  public static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    return state == null
        || state.startsWith("08")
        || state.equals("40001")
        || state.equals("40P01")
        || state.startsWith("57P");
  }

  /** The URL with any {@code password=} parameter masked. */
  public String safeUrl() {
    return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
  }
}
