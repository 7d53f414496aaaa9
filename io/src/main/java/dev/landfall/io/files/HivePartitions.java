package dev.landfall.io.files;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.ValueParser;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Hive-style partition values in paths: {@code .../date=2024-01-01/part-0.csv}. Values are read
 * from the file's folders (the last folder with {@code name=} wins) and %-decoded; values written
 * back into output paths are %-encoded the same way.
 */
public final class HivePartitions {
  private HivePartitions() {}

  /** A path that lacks a partition folder or whose value is unsafe. */
  public static final class MissingPartition extends Exception {
    private static final long serialVersionUID = 1L;

    public MissingPartition(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * The raw (decoded, untyped) value of partition {@code name} in {@code path}: from the last of
   * its folders named {@code name=<value>} (the file name is not a folder), %-decoded; null when it
   * has none.
   */
  public static String valueOf(String path, String name) {
    String prefix = name + "=";
    String[] segments = path.split("/");
    for (int i = segments.length - 2; i >= 0; i--) {
      if (segments[i].startsWith(prefix)) {
        return URLDecoder.decode(segments[i].substring(prefix.length()), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  /** The raw (decoded, untyped) partition values of {@code path}, in definition order. */
  public static List<String> valuesOf(String path, List<DatasetDefinition.Partition> partitions)
      throws MissingPartition {
    List<String> values = new ArrayList<>(partitions.size());
    for (DatasetDefinition.Partition p : partitions) {
      String prefix = p.name + "=";
      String value = valueOf(path, p.name);
      if (value == null) {
        throw new MissingPartition("path has no folder '" + prefix + "<value>'");
      }
      if (value.isEmpty()
          || value.equals("..")
          || value.equals(".")
          || value.contains("/")
          || value.equals("__HIVE_DEFAULT_PARTITION__")) {
        throw new MissingPartition("partition '" + p.name + "' has an unusable value");
      }
      values.add(value);
    }
    return values;
  }

  /**
   * {@link #valuesOf}, each value also checked by its partition's parser ({@code parsers[i]} for
   * {@code partitions.get(i)}); the values stay text.
   */
  public static List<String> checkedValuesOf(
      String path, List<DatasetDefinition.Partition> partitions, ValueParser[] parsers)
      throws MissingPartition {
    List<String> values = valuesOf(path, partitions);
    for (int i = 0; i < values.size(); i++) {
      try {
        parsers[i].parse(values.get(i));
      } catch (ValueParser.BadValue e) {
        throw new MissingPartition(
            "partition '" + partitions.get(i).name + "' value " + e.getMessage());
      }
    }
    return values;
  }

  /** Encodes a partition value for use as a path segment. */
  public static String encode(String value) {
    StringBuilder sb = new StringBuilder(value.length());
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '.') {
        sb.append(c);
      } else {
        sb.append('%')
            .append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return sb.toString();
  }
}
