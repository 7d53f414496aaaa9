package dev.landfall.pipeline.logging;

import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * The full-detail log of one run: every line of every library at INFO and up, with thread names (on
 * Flink, the operator chain), written to {@code <workDir>/logs/landfall-<time>.log} while the run
 * lasts, beside the short console. The newest {@link LogbackFile#KEEP} logs are kept; each is
 * capped (it rolls over into at most two older parts). Only where logback is the logging backend,
 * as in {@code bin/landfall}'s jar; elsewhere (the slim jar under Flink's own log4j configuration,
 * whose log files already hold everything) there is none.
 */
public final class LogFile implements AutoCloseable {
  private static final LogFile NONE = new LogFile(null, () -> {});

  private final Path path;
  private final Runnable detach;

  LogFile(Path path, Runnable detach) {
    this.path = path;
    this.detach = detach;
  }

  /** Starts this run's log file under {@code workDir}, or none when logback is not in use. */
  public static LogFile start(Path workDir) {
    if (workDir == null
        || !"ch.qos.logback.classic.LoggerContext"
            .equals(LoggerFactory.getILoggerFactory().getClass().getName())) {
      return NONE;
    }
    // Only now are logback's classes loaded (LogbackFile refers to them).
    return LogbackFile.attach(workDir.resolve("logs"));
  }

  /** The log file, or null when there is none. */
  public Path path() {
    return path;
  }

  @Override
  public void close() {
    detach.run();
  }
}
