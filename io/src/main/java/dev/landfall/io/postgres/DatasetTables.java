package dev.landfall.io.postgres;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.definition.Identifiers;
import java.io.Serializable;

/**
 * A dataset's tables in PostgreSQL: its definition and the schema that holds its rows, aggregates,
 * rejects, lookups, views and file ledger. The schema name ({@code --dbSchema}) is checked once,
 * here, as a safe identifier; whatever takes a {@code DatasetTables} can quote it without checking
 * again.
 */
public final class DatasetTables implements Serializable {
  private static final long serialVersionUID = 1L;

  private final DatasetDefinition definition;
  private final String schema;

  private DatasetTables(DatasetDefinition definition, String schema) {
    this.definition = definition;
    this.schema = schema;
  }

  /**
   * The tables of {@code definition} in {@code schema}.
   *
   * @throws IllegalArgumentException naming {@code --dbSchema} when the name is not a safe
   *     identifier or is reserved
   */
  public static DatasetTables of(DatasetDefinition definition, String schema) {
    return new DatasetTables(definition, Identifiers.checkSchema("--dbSchema", schema));
  }

  public DatasetDefinition definition() {
    return definition;
  }

  /** The schema name, checked. */
  public String schema() {
    return schema;
  }

  /** {@code "schema"."table"}, quoted. */
  public String qualified(String table) {
    return Identifiers.quote(schema) + "." + Identifiers.quote(table);
  }

  /** The clean rows table. */
  public TableSpec rows() {
    return PostgresTables.rows(definition, schema);
  }

  /** The aggregates table ({@code <dataset>_agg}); only for a definition with aggregates. */
  public TableSpec aggregates() {
    return PostgresTables.aggregates(definition, schema);
  }

  /** The dead letters table ({@code <dataset>_rejects}). */
  public TableSpec rejects() {
    return PostgresTables.rejects(definition, schema);
  }
}
