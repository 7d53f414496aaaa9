package dev.landfall.transforms.metrics;

import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/**
 * The value of a counter once a job has ended, read the same way on every runner.
 *
 * <p>A runner that keeps committed values (the DirectRunner) gives the committed one: it counts
 * each successfully finished bundle exactly once, and is complete when {@code waitUntilFinish}
 * returns. The DirectRunner's attempted value is not: it folds finished bundles in on a background
 * thread, so right after the job ends it can still miss part of the last bundles (Beam issue #19816
 * is the same flake in Beam's own tests). A runner without committed values (Flink) gives the
 * attempted one, which is final there once the job has ended.
 */
public final class JobCounters {
  private JobCounters() {}

  /** The final value of one counter result; 0 when the runner reported none. */
  public static long value(MetricResult<Long> counter) {
    Long v = counter.hasCommitted() ? counter.getCommittedOrNull() : counter.getAttempted();
    return v == null ? 0 : v;
  }

  /** The sum over all steps of the counters that {@code filter} selects. */
  public static long sum(PipelineResult result, MetricsFilter filter) {
    long total = 0;
    for (MetricResult<Long> c : result.metrics().queryMetrics(filter).getCounters()) {
      total += value(c);
    }
    return total;
  }

  /** The sum over all steps of the counter {@code name} declared in {@code namespace}. */
  public static long sum(PipelineResult result, Class<?> namespace, String name) {
    return sum(
        result,
        MetricsFilter.builder().addNameFilter(MetricNameFilter.named(namespace, name)).build());
  }
}
