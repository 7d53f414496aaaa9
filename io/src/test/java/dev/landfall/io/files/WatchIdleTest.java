package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.concurrent.atomic.AtomicReference;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * {@code --stopAfterIdle} means idle: no new file and no file in flight for that long. The clock is
 * given to the condition, so these checks do not depend on how fast the machine is.
 */
class WatchIdleTest {
  private static final Instant START = new Instant(1_000_000L);
  private static final Duration IDLE = Duration.standardSeconds(8);

  private static Instant at(long seconds) {
    return START.plus(Duration.standardSeconds(seconds));
  }

  @Test
  void anEmptyInputStopsOnceIdleSinceTheStart() {
    WatchForStableFiles.Idle idle = new WatchForStableFiles.Idle(IDLE, since -> null);
    assertThat(idle.canStopPolling(at(7), START, START), equalTo(false));
    assertThat(idle.canStopPolling(at(9), START, START), equalTo(true));
  }

  @Test
  void aNewFileRestartsTheClock() {
    WatchForStableFiles.Idle idle = new WatchForStableFiles.Idle(IDLE, null);
    assertThat(idle.canStopPolling(at(12), START, at(5)), equalTo(false));
    assertThat(idle.canStopPolling(at(14), START, at(5)), equalTo(true));
  }

  @Test
  void aFileInFlightKeepsTheWatchGoingHoweverLongItTakes() {
    AtomicReference<java.time.Duration> quiet = new AtomicReference<>(java.time.Duration.ZERO);
    WatchForStableFiles.Idle idle = new WatchForStableFiles.Idle(IDLE, since -> quiet.get());
    assertThat(
        "still processing long after the last new file",
        idle.canStopPolling(at(600), START, at(1)),
        equalTo(false));
    quiet.set(java.time.Duration.ofSeconds(3));
    assertThat(
        "finished, but only 3 s ago", idle.canStopPolling(at(603), START, at(1)), equalTo(false));
    quiet.set(java.time.Duration.ofSeconds(9));
    assertThat(idle.canStopPolling(at(609), START, at(1)), equalTo(true));
  }

  @Test
  void notKnowingWhetherFilesAreInFlightIsNotIdle() {
    WatchForStableFiles.Idle idle =
        new WatchForStableFiles.Idle(
            IDLE,
            since -> {
              throw new java.sql.SQLException("connection refused");
            });
    assertThat(idle.canStopPolling(at(60), START, START), equalTo(false));
  }

  @Test
  void theLedgerIsAskedAboutFilesTakenSinceTheWatchStarted() {
    AtomicReference<java.time.Instant> asked = new AtomicReference<>();
    WatchForStableFiles.Idle idle =
        new WatchForStableFiles.Idle(
            IDLE,
            since -> {
              asked.set(since);
              return null;
            });
    idle.canStopPolling(at(60), START, at(2));
    assertThat(asked.get().toEpochMilli(), equalTo(START.getMillis()));
  }
}
