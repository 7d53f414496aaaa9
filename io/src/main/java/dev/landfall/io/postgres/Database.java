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

  /** The URL with any {@code password=} parameter masked. */
  public String safeUrl() {
    return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
  }
}
