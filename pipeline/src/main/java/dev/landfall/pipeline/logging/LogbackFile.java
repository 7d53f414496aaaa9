package dev.landfall.pipeline.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/** {@link LogFile} with logback: a rolling file appender on the root logger. */
final class LogbackFile {
  /** How many runs' logs are kept in {@code <workDir>/logs}. */
  static final int KEEP = 20;

  /** The size at which a run's log rolls over (a long watch), and how many older parts stay. */
  static final String MAX_SIZE = "50MB";

  static final int OLDER_PARTS = 2;

  private LogbackFile() {}

  static LogFile attach(Path folder) {
    try {
      Files.createDirectories(folder);
      pruneOldLogs(folder);
    } catch (IOException e) {
      LoggerFactory.getLogger(LogFile.class)
          .warn("no log file: cannot use {}: {}", folder, e.getMessage());
      return new LogFile(null, () -> {});
    }
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path file = folder.resolve("landfall-" + stamp + "-" + ProcessHandle.current().pid() + ".log");
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger - %msg%n");
    encoder.start();

    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(context);
    appender.setName("landfall-run-log");
    appender.setFile(file.toString());
    appender.setEncoder(encoder);
    FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
    rolling.setContext(context);
    rolling.setParent(appender);
    rolling.setFileNamePattern(file + ".%i");
    rolling.setMinIndex(1);
    rolling.setMaxIndex(OLDER_PARTS);
    rolling.start();
    SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
    trigger.setContext(context);
    trigger.setMaxFileSize(FileSize.valueOf(MAX_SIZE));
    trigger.start();
    appender.setRollingPolicy(rolling);
    appender.setTriggeringPolicy(trigger);
    appender.start();

    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(appender);
    return new LogFile(
        file,
        () -> {
          root.detachAppender(appender);
          appender.stop();
        });
  }

  /** Deletes all but the newest {@code KEEP - 1} run logs (and their older parts). */
  private static void pruneOldLogs(Path folder) throws IOException {
    List<Path> logs = new ArrayList<>();
    try (Stream<Path> s = Files.list(folder)) {
      s.filter(p -> p.getFileName().toString().matches("landfall-\\d{8}-\\d{6}-\\d+\\.log"))
          .forEach(logs::add);
    }
    // The names start with the time: newest last.
    logs.sort(Comparator.comparing(p -> p.getFileName().toString()));
    for (int i = 0; i < logs.size() - (KEEP - 1); i++) {
      Files.deleteIfExists(logs.get(i));
      for (int part = 1; part <= OLDER_PARTS; part++) {
        Files.deleteIfExists(logs.get(i).resolveSibling(logs.get(i).getFileName() + "." + part));
      }
    }
  }
}
