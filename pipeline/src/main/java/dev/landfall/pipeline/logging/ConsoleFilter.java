package dev.landfall.pipeline.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the console to what a person running landfall acts on: every line of landfall's own and of
 * the libraries not listed, but from the loggers listed as {@code quiet} (Flink's and Beam's
 * runner, Parquet, Hadoop, ...) only warnings and errors, and from those listed as {@code mute}
 * (start-up notices that recur on every run and need nothing done) only errors. The log file under
 * {@code --workDir} gets every line ({@link LogFile}). Configured in {@code logback.xml}.
 */
public class ConsoleFilter extends Filter<ILoggingEvent> {
  private final List<String> quiet = new ArrayList<>();
  private final List<String> mute = new ArrayList<>();

  /** A logger name, or the prefix of a package's loggers, shown from WARN up. */
  public void addQuiet(String logger) {
    quiet.add(logger.trim());
  }

  /** A logger name, or the prefix of a package's loggers, shown from ERROR up. */
  public void addMute(String logger) {
    mute.add(logger.trim());
  }

  @Override
  public FilterReply decide(ILoggingEvent event) {
    Level level = event.getLevel();
    if (level.isGreaterOrEqual(Level.ERROR)) {
      return FilterReply.NEUTRAL;
    }
    String name = event.getLoggerName();
    if (matches(mute, name)) {
      return FilterReply.DENY;
    }
    if (level.isGreaterOrEqual(Level.WARN)) {
      return FilterReply.NEUTRAL;
    }
    return matches(quiet, name) ? FilterReply.DENY : FilterReply.NEUTRAL;
  }

  private static boolean matches(List<String> prefixes, String name) {
    for (String p : prefixes) {
      if (name.equals(p) || name.startsWith(p) && name.charAt(p.length()) == '.') {
        return true;
      }
    }
    return false;
  }
}
