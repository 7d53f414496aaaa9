package dev.landfall.io.retry;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The retry policy, with the waits recorded instead of slept. */
class RetryTest {
  private final List<Long> slept = new ArrayList<>();
  private final AtomicInteger calls = new AtomicInteger();

  private Retry retry(int attempts, long firstMillis, long maxMillis) {
    return new Retry(
        attempts, Duration.ofMillis(firstMillis), Duration.ofMillis(maxMillis), slept::add);
  }

  /** Transient: an IOException whose message says so. */
  private static boolean isTransient(Exception e) {
    return e instanceof IOException && e.getMessage().startsWith("transient");
  }

  @AfterEach
  void clearInterrupt() {
    Thread.interrupted();
  }

  @Test
  void aLastingPolicyWaitsAtLeastItsTotalAndNoMore() {
    Retry r =
        Retry.lasting(
            java.time.Duration.ofMinutes(10),
            java.time.Duration.ofSeconds(1),
            java.time.Duration.ofSeconds(30));
    long waits = 0;
    for (int attempt = 1; attempt < r.attempts(); attempt++) {
      waits += r.delayMillis(attempt);
    }
    // 1+2+4+8+16 s, then 30 s at a time: 10 min is reached after 25 waits.
    assertThat(waits >= 600_000, equalTo(true));
    assertThat(waits - r.delayMillis(r.attempts() - 1) < 600_000, equalTo(true));
    assertThat(r.attempts(), equalTo(25));
  }

  @Test
  void workThatSucceedsAtOnceRunsOnceWithoutWaiting() throws IOException {
    String result =
        retry(6, 1000, 30_000)
            .run(
                "reading",
                () -> {
                  calls.incrementAndGet();
                  return "ok";
                },
                RetryTest::isTransient,
                Exception::getMessage);
    assertThat(result, equalTo("ok"));
    assertThat(calls.get(), equalTo(1));
    assertThat(slept, empty());
  }

  @Test
  void transientFailuresAreRetriedWithDoublingDelays() throws IOException {
    String result =
        retry(6, 1000, 30_000)
            .run(
                "reading",
                () -> {
                  if (calls.incrementAndGet() < 4) {
                    throw new IOException("transient " + calls.get());
                  }
                  return "ok after " + calls.get();
                },
                RetryTest::isTransient,
                Exception::getMessage);
    assertThat(result, equalTo("ok after 4"));
    assertThat(slept, contains(1000L, 2000L, 4000L));
  }

  @Test
  void aFailureThatIsNotTransientIsRethrownAtOnce() {
    IOException fatal = new IOException("fatal");
    IOException thrown =
        assertThrows(
            IOException.class,
            () ->
                retry(6, 1000, 30_000)
                    .run(
                        "reading",
                        () -> {
                          calls.incrementAndGet();
                          throw fatal;
                        },
                        RetryTest::isTransient,
                        Exception::getMessage));
    assertThat(thrown, sameInstance(fatal));
    assertThat(calls.get(), equalTo(1));
    assertThat(slept, empty());
  }

  @Test
  void uncheckedFailuresAreJudgedByThePredicateToo() {
    IllegalStateException bug = new IllegalStateException("bug");
    IllegalStateException thrown =
        assertThrows(
            IllegalStateException.class,
            () ->
                retry(3, 10, 100)
                    .run(
                        "reading",
                        () -> {
                          calls.incrementAndGet();
                          throw bug;
                        },
                        RetryTest::isTransient,
                        Exception::getMessage));
    assertThat(thrown, sameInstance(bug));
    assertThat(calls.get(), equalTo(1));
  }

  @Test
  void afterTheLastAttemptTheLastFailureIsRethrown() {
    IOException thrown =
        assertThrows(
            IOException.class,
            () ->
                retry(5, 2000, 30_000)
                    .run(
                        "posting",
                        () -> {
                          throw new IOException("transient " + calls.incrementAndGet());
                        },
                        RetryTest::isTransient,
                        Exception::getMessage));
    assertThat(thrown.getMessage(), equalTo("transient 5"));
    assertThat(calls.get(), equalTo(5));
    // No wait after the last attempt: 4 waits for 5 attempts.
    assertThat(slept, contains(2000L, 4000L, 8000L, 16_000L));
  }

  @Test
  void delaysAreCappedAtTheMax() {
    assertThrows(
        IOException.class,
        () ->
            retry(7, 1000, 5000)
                .run(
                    "reading",
                    () -> {
                      throw new IOException("transient " + calls.incrementAndGet());
                    },
                    RetryTest::isTransient,
                    Exception::getMessage));
    assertThat(slept, contains(1000L, 2000L, 4000L, 5000L, 5000L, 5000L));
    assertThat(retry(100, 1000, 30_000).delayMillis(99), equalTo(30_000L));
  }

  @Test
  void anInterruptedWaitKeepsTheInterruptAndRethrowsTheFailure() {
    Retry interrupted =
        new Retry(
            6,
            Duration.ofMillis(1000),
            Duration.ofMillis(30_000),
            millis -> {
              throw new InterruptedException();
            });
    IOException thrown =
        assertThrows(
            IOException.class,
            () ->
                interrupted.run(
                    "reading",
                    () -> {
                      throw new IOException("transient " + calls.incrementAndGet());
                    },
                    RetryTest::isTransient,
                    Exception::getMessage));
    assertThat(thrown.getMessage(), equalTo("transient 1"));
    assertThat(Thread.currentThread().isInterrupted(), equalTo(true));
  }

  @Test
  void aRetryOfOneAttemptNeverRetries() {
    assertThrows(
        IOException.class,
        () ->
            retry(1, 1000, 30_000)
                .run(
                    "reading",
                    () -> {
                      throw new IOException("transient " + calls.incrementAndGet());
                    },
                    RetryTest::isTransient,
                    Exception::getMessage));
    assertThat(calls.get(), equalTo(1));
    assertThat(slept, empty());
  }

  @Test
  void survivesSerialization() throws Exception {
    Retry original = new Retry(6, Duration.ofSeconds(1), Duration.ofSeconds(30));
    Retry copy = org.apache.beam.sdk.util.SerializableUtils.clone(original);
    assertThat(copy.attempts(), equalTo(6));
    assertThat(copy.delayMillis(5), equalTo(16_000L));
  }
}
