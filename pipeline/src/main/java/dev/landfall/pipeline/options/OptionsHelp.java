package dev.landfall.pipeline.options;

import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/**
 * {@code bin/landfall --help}: landfall's own options, grouped by concern, each with its default
 * and description, read from the annotations of the options interfaces (so the help cannot drift
 * from the options). Beam's {@code --help=<OptionsClass>} still prints any other class.
 */
public final class OptionsHelp {
  private static final int WIDTH = 100;

  private OptionsHelp() {}

  /** One group of options: a heading and the interface that declares them. */
  private static final class Group {
    final String title;
    final Class<?> options;

    Group(String title, Class<?> options) {
      this.title = title;
      this.options = options;
    }
  }

  private static final List<Group> GROUPS =
      List.of(
          new Group("Input", InputOptions.class),
          new Group("Outputs", OutputOptions.class),
          new Group("PostgreSQL", DatabaseOptions.class),
          new Group("Watch mode and the file ledger", WatchOptions.class),
          new Group("S3", S3Settings.class),
          new Group("Flink runner settings landfall sets defaults for", FlinkRunnerSettings.class));

  /** True when the command line asks for landfall's help ({@code --help} or {@code -h}). */
  public static boolean requested(String... args) {
    for (String a : args) {
      if (a.equals("--help") || a.equals("-h")) {
        return true;
      }
    }
    return false;
  }

  public static void print(PrintStream out) {
    out.println("Usage: bin/landfall [--option=value ...]");
    out.println();
    out.println("Runs the landfall job: Hive-partitioned CSV files under --input become clean,");
    out.println("de-duplicated Parquet and PostgreSQL tables. With no --input it generates sample");
    out.println("data; with no --jdbcUrl it starts an embedded PostgreSQL under --workDir.");
    for (Group g : GROUPS) {
      out.println();
      out.println(g.title + ":");
      for (Method m : getters(g.options)) {
        String name = property(m);
        String flag = "--" + name + defaultText(m);
        out.println("  " + flag);
        Description d = m.getAnnotation(Description.class);
        if (d != null) {
          for (String line : wrap(d.value(), WIDTH - 6)) {
            out.println("      " + line);
          }
        }
      }
    }
    out.println();
    out.println("Runner:");
    out.println("  --runner=DirectRunner");
    out.println(
        "      DirectRunner (development, the default) or FlinkRunner (an embedded local Flink,");
    out.println(
        "      or a cluster with --flinkMaster=host:8081). With FlinkRunner: --parallelism=N.");
    out.println();
    out.println("Other classes of options (Beam's): bin/landfall --help=FlinkPipelineOptions,");
    out.println("--help=S3Options, --help=PipelineOptions. Environment: PGPASSWORD (database");
    out.println(
        "password), AWS_* (S3 credentials), LANDFALL_JAVA_OPTS (JVM options), LANDFALL_DEBUG=1");
    out.println("(print the stack trace of an error). More: README.md and docs/options.md.");
  }

  private static List<Method> getters(Class<?> options) {
    List<Method> getters = new ArrayList<>();
    for (Method m : options.getDeclaredMethods()) {
      if (m.getParameterCount() == 0
          && (m.getName().startsWith("get") || m.getName().startsWith("is"))
          && m.isAnnotationPresent(Description.class)) {
        getters.add(m);
      }
    }
    getters.sort(Comparator.comparing(OptionsHelp::property));
    return getters;
  }

  private static String property(Method m) {
    String n = m.getName().startsWith("is") ? m.getName().substring(2) : m.getName().substring(3);
    return Character.toLowerCase(n.charAt(0)) + n.substring(1);
  }

  /** "=value" for the default, "" for a boolean that is off or a value without default. */
  static String defaultText(Method m) {
    if (m.isAnnotationPresent(Default.Boolean.class)) {
      return m.getAnnotation(Default.Boolean.class).value() ? "=true" : "  (off by default)";
    }
    String value = null;
    if (m.isAnnotationPresent(Default.String.class)) {
      value = m.getAnnotation(Default.String.class).value();
      if (value.isEmpty()) {
        return "=...  (no default)";
      }
    } else if (m.isAnnotationPresent(Default.Integer.class)) {
      value = Integer.toString(m.getAnnotation(Default.Integer.class).value());
    } else if (m.isAnnotationPresent(Default.Long.class)) {
      value = Long.toString(m.getAnnotation(Default.Long.class).value());
    } else if (m.isAnnotationPresent(Default.Double.class)) {
      value = Double.toString(m.getAnnotation(Default.Double.class).value());
    } else if (m.isAnnotationPresent(Default.Enum.class)) {
      value = m.getAnnotation(Default.Enum.class).value();
    } else if (m.isAnnotationPresent(Default.InstanceFactory.class)) {
      return "=...  (default computed at run time)";
    }
    return value == null ? "=..." : "=" + value;
  }

  static List<String> wrap(String text, int width) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder();
    for (String word : text.split("\\s+")) {
      if (line.length() > 0 && line.length() + 1 + word.length() > width) {
        lines.add(line.toString());
        line.setLength(0);
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(word);
    }
    if (line.length() > 0) {
      lines.add(line.toString());
    }
    return lines;
  }
}
