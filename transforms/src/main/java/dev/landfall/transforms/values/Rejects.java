package dev.landfall.transforms.values;

import java.util.List;
import org.apache.beam.sdk.values.Row;

/**
 * Builds dead-letter rows ({@link DatasetSchemas#REJECT}). A dead letter keeps the file, the line
 * where the record starts, a reason code, the column, a message and the raw record text.
 */
public final class Rejects {
  private Rejects() {}

  /** Wrong number of cells for the header. */
  public static final String COLUMN_COUNT = "column_count";

  /** A value that does not parse as its type. */
  public static final String TYPE = "type";

  /** An empty required value. */
  public static final String REQUIRED = "required";

  /** min, max or allowed violated. */
  public static final String CONSTRAINT = "constraint";

  /** A file whose header lacks a required column, or has no header. */
  public static final String HEADER = "header";

  /** A file whose path lacks a partition or has a partition value that does not parse. */
  public static final String PARTITION = "partition";

  /** A file that cannot be read as CSV (corrupt compression, broken quoting, not text). */
  public static final String FILE = "file";

  /**
   * A valid record of a file that failed the definition's quality rules: the file is quarantined
   * and none of its rows is stored (its other records keep their own reasons).
   */
  public static final String QUARANTINED = "quarantined";

  public static Row of(
      String file, long line, String reason, String column, String message, String raw) {
    return Row.withSchema(DatasetSchemas.REJECT)
        .attachValues(file, line, reason, column, message, raw);
  }

  /** The longest {@code raw} text a dead letter keeps; longer records are cut, saying so. */
  public static final int MAX_RAW_CHARS = 65_536;

  /**
   * Re-encodes cells as one CSV record, quoting cells that need it. A record longer than {@link
   * #MAX_RAW_CHARS} is cut there and ends with a note of its full length.
   */
  public static String toCsv(List<String> cells, char delimiter, char quote) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        sb.append(delimiter);
      }
      String c = cells.get(i);
      if (c == null) {
        continue;
      }
      boolean needs =
          c.indexOf(delimiter) >= 0
              || c.indexOf(quote) >= 0
              || c.indexOf('\n') >= 0
              || c.indexOf('\r') >= 0;
      if (needs) {
        String q = String.valueOf(quote);
        sb.append(quote).append(c.replace(q, q + q)).append(quote);
      } else {
        sb.append(c);
      }
    }
    if (sb.length() > MAX_RAW_CHARS) {
      int length = sb.length();
      sb.setLength(MAX_RAW_CHARS);
      sb.append("... [cut: the record has ").append(length).append(" characters]");
    }
    return sb.toString();
  }
}
