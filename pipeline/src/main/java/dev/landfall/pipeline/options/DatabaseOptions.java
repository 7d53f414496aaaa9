package dev.landfall.pipeline.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.DefaultValueFactory;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * The PostgreSQL the tables go to. The password is never an option: it comes from the environment
 * variable PGPASSWORD, as for psql.
 */
public interface DatabaseOptions extends PipelineOptions {
  @Description(
      "JDBC URL of PostgreSQL, e.g. jdbc:postgresql://host:5432/db?sslmode=require. Empty: start the"
          + " embedded PostgreSQL with its data under <workDir>/pgdata.")
  @Default.String("")
  String getJdbcUrl();

  void setJdbcUrl(String value);

  @Description(
      "Database user (default: $PGUSER, else postgres). The password is read from $PGPASSWORD.")
  @Default.InstanceFactory(PgUserFactory.class)
  String getDbUser();

  void setDbUser(String value);

  @Description("Schema the tables are created in.")
  @Default.String("public")
  String getDbSchema();

  void setDbSchema(String value);

  @Description("Rows per COPY batch written to PostgreSQL.")
  @Default.Integer(10_000)
  Integer getDbBatchSize();

  void setDbBatchSize(Integer value);

  @Description(
      "How long the job's steps ride out a database outage (connections refused or"
          + " lost, the server restarting or failing over) before the run fails, e.g. 10m, 90s:"
          + " retries 1, 2, 4 ... up to 30 s apart. Checks before the job starts give up after about"
          + " 30 s.")
  @Default.String("10m")
  String getDbMaxOutage();

  void setDbMaxOutage(String value);

  @Description(
      "Port of the embedded PostgreSQL (used when --jdbcUrl is empty); 0 picks a free one.")
  @Default.Integer(54329)
  Integer getEmbeddedPgPort();

  void setEmbeddedPgPort(Integer value);

  /** $PGUSER, else postgres. */
  class PgUserFactory implements DefaultValueFactory<String> {
    @Override
    public String create(PipelineOptions options) {
      String user = System.getenv("PGUSER");
      return user == null || user.isEmpty() ? "postgres" : user;
    }
  }
}
