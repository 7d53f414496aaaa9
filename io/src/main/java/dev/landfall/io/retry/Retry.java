package dev.landfall.io.retry;

import java.io.Serializable;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one retry policy of landfall's I/O: a piece of work is attempted up to {@code attempts}
 * times; after a failure the caller judges transient it is attempted again after an exponential
 * backoff (the first delay, doubled each time, never more than the max delay), with one WARN line
 * per retry naming what failed, the attempt, the delay and the reason. A failure that is not
 * transient, or the last attempt's, is rethrown as it is. Database work, the PostgreSQL writer's
 * batches and the status webhook all retry through it, so they back off the same way.
 *
 * <p>Immutable and serializable, so a transform may carry one.
 */
public final class Retry implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(Retry.class);

  /** One attempt of the work; it must be safe to repeat. */
  @FunctionalInterface
  public interface Attempt<T, X extends Exception> {
    T run() throws X;
  }

  /** Waits between attempts; replaced in tests so that they do not sleep for real. */
  @FunctionalInterface
  interface Sleeper extends Serializable {
    void sleep(long millis) throws InterruptedException;
  }

  private static final Sleeper THREAD_SLEEP = Thread::sleep;

  private final int attempts;
  private final long firstDelayMillis;
  private final long maxDelayMillis;
  private final Sleeper sleeper;

  /**
   * @param attempts how many times the work is run at most (1: never retried)
   * @param firstDelay the wait before the second attempt; doubled before each next one
   * @param maxDelay the longest wait between two attempts
   */
  public Retry(int attempts, Duration firstDelay, Duration maxDelay) {
    this(attempts, firstDelay, maxDelay, THREAD_SLEEP);
  }

  Retry(int attempts, Duration firstDelay, Duration maxDelay, Sleeper sleeper) {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1, not " + attempts);
    }
    if (firstDelay.isNegative() || maxDelay.compareTo(firstDelay) < 0) {
      throw new IllegalArgumentException(
          "delays must satisfy 0 <= first <= max, not " + firstDelay + " and " + maxDelay);
    }
    this.attempts = attempts;
    this.firstDelayMillis = firstDelay.toMillis();
    this.maxDelayMillis = maxDelay.toMillis();
    this.sleeper = sleeper;
  }

  /**
   * A policy that keeps trying for at least {@code total}: the first delay, doubled each time up to
   * {@code maxDelay}, with as many attempts as it takes for the waits to add up to {@code total} (a
   * database down for minutes, ridden out).
   */
  public static Retry lasting(Duration total, Duration firstDelay, Duration maxDelay) {
    Retry probe = new Retry(Integer.MAX_VALUE, firstDelay, maxDelay);
    long waited = 0;
    int attempts = 1;
    while (waited < total.toMillis() && attempts < 10_000) {
      waited += Math.max(1, probe.delayMillis(attempts));
      attempts++;
    }
    return new Retry(attempts, firstDelay, maxDelay);
  }

  /** How many times the work is run at most. */
  public int attempts() {
    return attempts;
  }

  /** The wait after failed attempt {@code attempt} (1-based): doubling, capped at the max. */
  public long delayMillis(int attempt) {
    long delay = firstDelayMillis;
    for (int i = 1; i < attempt && delay < maxDelayMillis; i++) {
      delay *= 2;
    }
    return Math.min(delay, maxDelayMillis);
  }

  /**
   * Runs {@code work}, again after each failure {@code isTransient} accepts, until it succeeds or
   * the attempts are used up; then the last failure is rethrown. If the thread is interrupted while
   * waiting, the interrupt is kept and the last failure rethrown.
   *
   * @param what what is being done, for the log: "{what} failed (attempt i/n), ..."
   * @param isTransient whether a failure is worth another attempt
   * @param reason the failure as the log line shows it (never a secret)
   */
  public <T, X extends Exception> T run(
      String what,
      Attempt<T, X> work,
      Predicate<? super Exception> isTransient,
      Function<? super Exception, String> reason)
      throws X {
    for (int attempt = 1; ; attempt++) {
      try {
        return work.run();
      } catch (Exception e) {
        if (attempt >= attempts || !isTransient.test(e)) {
          throw e;
        }
        long delay = delayMillis(attempt);
        LOG.warn(
            "{} failed (attempt {}/{}), retrying in {} ms: {}",
            what,
            attempt,
            attempts,
            delay,
            reason.apply(e));
        try {
          sleeper.sleep(delay);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }
}
