package dev.landfall.pipeline.logging;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

class ConsoleFilterTest {
  private static FilterReply decide(ConsoleFilter f, String logger, Level level) {
    LoggingEvent e = new LoggingEvent();
    e.setLoggerName(logger);
    e.setLevel(level);
    e.setMessage("m");
    return f.decide(e);
  }

  @Test
  void quietLoggersWarnMutedOnesOnlyErrLandfallsOwnAlwaysShow() {
    ConsoleFilter f = new ConsoleFilter();
    f.addQuiet("org.apache.flink");
    f.addMute("org.apache.flink.runtime.util.HadoopUtils");
    f.start();
    assertThat(
        decide(f, "org.apache.flink.runtime.taskexecutor.TaskExecutor", Level.INFO),
        equalTo(FilterReply.DENY));
    assertThat(
        decide(f, "org.apache.flink.runtime.taskexecutor.TaskExecutor", Level.WARN),
        equalTo(FilterReply.NEUTRAL));
    assertThat(decide(f, "org.apache.flink", Level.INFO), equalTo(FilterReply.DENY));
    assertThat(
        "a prefix is a package, not any name that starts with it",
        decide(f, "org.apache.flinkish.Thing", Level.INFO),
        equalTo(FilterReply.NEUTRAL));
    assertThat(
        decide(f, "org.apache.flink.runtime.util.HadoopUtils", Level.WARN),
        equalTo(FilterReply.DENY));
    assertThat(
        decide(f, "org.apache.flink.runtime.util.HadoopUtils", Level.ERROR),
        equalTo(FilterReply.NEUTRAL));
    assertThat(
        decide(f, "dev.landfall.io.csv.ReadCsvFiles", Level.INFO), equalTo(FilterReply.NEUTRAL));
  }
}
