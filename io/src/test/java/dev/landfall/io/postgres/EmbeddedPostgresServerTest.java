package dev.landfall.io.postgres;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The embedded server's database: the C collation, whatever the machine's locale. */
class EmbeddedPostgresServerTest extends PostgresTestBase {
  @Test
  void textIsComparedInCodePointOrderWhateverTheLocale() throws Exception {
    try (Connection c = new Database(postgres.jdbcUrl(), postgres.user()).connect();
        Statement s = c.createStatement()) {
      try (ResultSet r =
          s.executeQuery("SELECT datcollate FROM pg_database WHERE datname = current_database()")) {
        r.next();
        assertThat(r.getString(1), equalTo("C"));
      }
      try (ResultSet r =
          s.executeQuery(
              "SELECT string_agg(t, ' ' ORDER BY t) FROM"
                  + " (VALUES ('b'), ('B'), ('a'), ('é'), ('A'), ('z')) v(t)")) {
        r.next();
        assertThat(r.getString(1), equalTo("A B a b z é"));
      }
    }
  }
}
