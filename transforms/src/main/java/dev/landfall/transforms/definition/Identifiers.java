package dev.landfall.transforms.definition;

import java.util.regex.Pattern;

/**
 * Validates and quotes names that become SQL identifiers or file path parts (dataset, column and
 * schema names). Only lower-case ASCII letters, digits and underscores are accepted, starting with
 * a letter or underscore, at most 63 characters (PostgreSQL's limit).
 */
public final class Identifiers {
  private static final Pattern SAFE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private Identifiers() {}

  /** Returns {@code name} if it is a safe identifier, or throws naming {@code what} it is. */
  public static String check(String what, String name) {
    if (name == null || !SAFE.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what
              + " '"
              + name
              + "' is not a valid name: use lower-case letters, digits and '_', starting with a"
              + " letter or '_', at most 63 characters");
    }
    return name;
  }

  /**
   * A schema name: a safe identifier that does not use PostgreSQL's reserved {@code pg_} prefix.
   */
  public static String checkSchema(String what, String name) {
    check(what, name);
    if (name.startsWith("pg_")) {
      throw new IllegalArgumentException(
          what
              + " '"
              + name
              + "' is not a valid schema name: the prefix pg_ is reserved by PostgreSQL");
    }
    return name;
  }

  /** Double-quotes an identifier that {@link #check} accepted. */
  public static String quote(String name) {
    return "\"" + check("identifier", name) + "\"";
  }
}
