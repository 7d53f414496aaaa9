package dev.landfall.io.postgres;

import dev.landfall.io.retry.Retry;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * How to reach PostgreSQL: a JDBC URL and a user. The password is never stored here (so it never
 * reaches pipeline options, logs or a runner's UI): it is read from the environment variable {@code
 * PGPASSWORD} on the machine that opens the connection, as psql does.
 */
public final class Database implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String jdbcUrl;
  private final String user;

  /** How its work is retried: {@link #RETRY}, or longer for a job's steps. */
  private final Retry retry;

  public Database(String jdbcUrl, String user) {
    this(jdbcUrl, user, RETRY);
  }

  private Database(String jdbcUrl, String user, Retry retry) {
    if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("--jdbcUrl must start with jdbc:postgresql:");
    }
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.retry = retry;
  }

  /**
   * The same database, its transient failures retried for at least {@code outage} (waits of 1, 2, 4
   * ... up to 30 s): what a job's steps use, so that a database restarted or unreachable for
   * minutes holds files back instead of failing them or the run. Checks before a job keep the short
   * policy, so a wrong host fails fast.
   */
  public Database toleratingOutages(Duration outage) {
    return new Database(
        jdbcUrl, user, Retry.lasting(outage, Duration.ofSeconds(1), Duration.ofSeconds(30)));
  }

  /** How this database's work is retried. */
  public Retry retry() {
    return retry;
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
          "cannot connect to PostgreSQL at "
              + safeUrl()
              + " as user '"
              + user
              + "': "
              + e.getMessage(),
          e.getSQLState(),
          e);
    }
  }

  /** Work on one connection, retried as a whole by {@link #retrying}. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Connection c) throws SQLException, IOException;
  }

  /**
   * How database work is retried: 6 attempts, waiting 1, 2, 4, 8 and 16 s between them (about 30 s
   * in all, enough for a database restart).
   */
  static final Retry RETRY = new Retry(6, Duration.ofSeconds(1), Duration.ofSeconds(30));

  /** An I/O failure of the work, carried through {@link #RETRY} unretried. */
  private static final class NotRetried extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotRetried(IOException cause) {
      super(cause);
    }
  }

  /**
   * Runs {@code work} on a fresh connection, retrying it from the start (new connection) with
   * exponential backoff when the failure is transient: connection lost or refused (SQLState 08xxx),
   * server shutting down (57Pxx), serialization failure or deadlock. About 30 s in all, enough for
   * a database restart. {@code work} must be safe to repeat (one transaction).
   */
  public <T> T retrying(String what, Work<T> work) throws SQLException, IOException {
    try {
      return retry.run(
          what,
          () -> {
            try (Connection c = connect()) {
              return work.run(c);
            } catch (IOException e) {
              throw new NotRetried(e);
            }
          },
          Database::isTransientFailure,
          Database::reason);
    } catch (NotRetried e) {
      throw (IOException) e.getCause();
    }
  }

  /** Whether a failure is an {@link SQLException} that {@link #isTransient(SQLException)}. */
  static boolean isTransientFailure(Exception e) {
    return e instanceof SQLException && isTransient((SQLException) e);
  }

  /** A failure as a retry's log line shows it: its SQLState and message. */
  static String reason(Exception e) {
    return e instanceof SQLException
        ? "SQLState " + ((SQLException) e).getSQLState() + ": " + e.getMessage()
        : e.toString();
  }

  /** Whether every table named (quoted, schema-qualified) exists, asked on {@code c}. */
  public static boolean tablesExist(Connection c, String... qualifiedTables) throws SQLException {
    for (String t : qualifiedTables) {
      try (java.sql.PreparedStatement s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
        s.setString(1, t);
        try (java.sql.ResultSet r = s.executeQuery()) {
          r.next();
          if (!r.getBoolean(1)) {
            return false;
          }
        }
      }
    }
    return true;
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
