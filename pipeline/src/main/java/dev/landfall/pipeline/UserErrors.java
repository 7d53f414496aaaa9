package dev.landfall.pipeline;

import dev.landfall.pipeline.options.LandfallOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * How the command line reports a failure: one line on stderr saying what is wrong and what to do,
 * and the stack trace in {@code <workDir>/last-error.log} (on stderr too with {@code
 * LANDFALL_DEBUG=1}). landfall's own checks already throw messages written for a person (they name
 * the flag, the path or the server); this class adds the flag to Beam's parse errors and a hint to
 * the errors that come from elsewhere.
 */
final class UserErrors {
  private static final Pattern NOT_A_VALUE =
      Pattern.compile(
          "Cannot deserialize value of type `(?:java\\.lang\\.)?(\\w+)` from String \"([^\"]*)\"");
  private static final Pattern UNKNOWN_FLAG = Pattern.compile("missing a property named '([^']+)'");
  private static final Pattern UNKNOWN_RUNNER =
      Pattern.compile("Unknown 'runner' specified '([^']*)'");

  private UserErrors() {}

  /**
   * Reports {@code e} and returns the exit code: 2 for a command line that cannot be parsed, 1
   * otherwise. {@code workDir}: where the stack trace goes (null: the default folder).
   */
  static int report(Throwable e, String[] args, String workDir, PrintStream err) {
    String line = explain(e, args);
    Path log =
        Paths.get(workDir == null || workDir.isEmpty() ? "landfall-work" : workDir)
            .resolve("last-error.log");
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    String where;
    try {
      Files.createDirectories(log.getParent());
      Files.writeString(log, line + "\n\n" + trace, StandardCharsets.UTF_8);
      where = " (details: " + log.toAbsolutePath() + ")";
    } catch (IOException | RuntimeException io) {
      where = "";
    }
    err.println("landfall: " + line + where);
    if ("1".equals(System.getenv("LANDFALL_DEBUG"))) {
      err.print(trace);
    }
    return isCommandLine(e) ? 2 : 1;
  }

  /** A person's one line for {@code e}: what is wrong and what to do. */
  static String explain(Throwable e, String[] args) {
    String all = chainMessages(e);
    Matcher flag = UNKNOWN_FLAG.matcher(all);
    if (flag.find()) {
      return "unknown option --" + flag.group(1) + "; bin/landfall --help lists the options";
    }
    Matcher value = NOT_A_VALUE.matcher(all);
    if (value.find()) {
      String bad = offendingArgument(args);
      return (bad == null ? "" : bad + ": ")
          + "'"
          + value.group(2)
          + "' is not "
          + typeName(value.group(1))
          + "; bin/landfall --help lists the options";
    }
    Matcher runner = UNKNOWN_RUNNER.matcher(all);
    if (runner.find()) {
      return "--runner="
          + runner.group(1)
          + " is not a runner here; use DirectRunner or"
          + " FlinkRunner";
    }
    String message = innermostMessage(e);
    if ((all.contains("could not lock") && all.contains("epg-lock"))
        || all.contains(java.nio.channels.OverlappingFileLockException.class.getName())) {
      return "the embedded PostgreSQL is in use by another process (bin/landfall-db, or another"
          + " landfall run with the same --workDir): stop it, or pass --workDir=<another folder>";
    }
    if (message.startsWith("cannot connect to PostgreSQL")) {
      return message.replaceAll("\\s+", " ").replaceAll("\\.+$", "")
          + ". Is the server running and --jdbcUrl right? (PGPASSWORD holds the password;"
          + " without --jdbcUrl landfall starts an embedded PostgreSQL)";
    }
    return message.replaceAll("\\s+", " ");
  }

  /** Errors about the command line itself: an unknown flag or a value of the wrong type. */
  private static boolean isCommandLine(Throwable e) {
    String all = chainMessages(e);
    return UNKNOWN_FLAG.matcher(all).find()
        || NOT_A_VALUE.matcher(all).find()
        || UNKNOWN_RUNNER.matcher(all).find();
  }

  /** The messages of {@code e} and its causes, one per line. */
  private static String chainMessages(Throwable e) {
    StringBuilder sb = new StringBuilder();
    Throwable t = e;
    for (int depth = 0; t != null && depth < 20; depth++) {
      sb.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
      if (t.getCause() == t) {
        break;
      }
      t = t.getCause();
    }
    return sb.toString();
  }

  /**
   * The message a person should read: landfall's own message where one was thrown (the outermost of
   * them: it names the flag or the thing), else the innermost cause's.
   */
  static String innermostMessage(Throwable e) {
    Throwable own = null;
    Throwable t = e;
    for (int depth = 0; t != null && depth < 20; depth++, t = t.getCause()) {
      boolean landfall =
          t.getStackTrace().length > 0
              && t.getStackTrace()[0].getClassName().startsWith("dev.landfall.");
      if (landfall && t.getMessage() != null && own == null) {
        own = t; // the outermost: where landfall added what the error is about
      }
      if (t.getCause() == null || t.getCause() == t) {
        break;
      }
    }
    Throwable chosen = own != null ? own : t;
    if (chosen == null) {
      chosen = e;
    }
    String m = chosen.getMessage();
    return m == null || m.isBlank() ? chosen.getClass().getSimpleName() : m.trim();
  }

  /** The first {@code --flag=value} that Beam cannot parse on its own, if any. */
  private static String offendingArgument(String[] args) {
    if (args == null) {
      return null;
    }
    PipelineOptionsFactory.register(LandfallOptions.class);
    for (String a : args) {
      try {
        PipelineOptionsFactory.fromArgs(a).as(LandfallOptions.class);
      } catch (RuntimeException bad) {
        return a;
      }
    }
    return null;
  }

  private static String typeName(String javaType) {
    switch (javaType) {
      case "Long":
      case "Integer":
      case "long":
      case "int":
        return "a whole number";
      case "Double":
      case "double":
        return "a number";
      case "Boolean":
      case "boolean":
        return "true or false";
      default:
        return "a valid " + javaType;
    }
  }
}
