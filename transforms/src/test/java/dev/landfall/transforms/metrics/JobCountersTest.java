package dev.landfall.transforms.metrics;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.junit.jupiter.api.Test;

/** A finished DirectRunner job's counters are read from committed values, and are exact. */
class JobCountersTest {
  static class CountFn extends DoFn<Integer, Integer> {
    private final Counter seen = Metrics.counter(JobCountersTest.class, "seen");

    @ProcessElement
    public void process(@Element Integer i, OutputReceiver<Integer> out) {
      seen.inc();
      out.output(i);
    }
  }

  @Test
  void directRunnerCountersAreCommittedAndExactWhenTheJobEnds() {
    for (int run = 0; run < 5; run++) {
      Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
      java.util.List<Integer> values = new java.util.ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        values.add(i);
      }
      p.apply(Create.of(values)).apply(ParDo.of(new CountFn()));
      PipelineResult result = p.run();
      result.waitUntilFinish();
      MetricsFilter filter =
          MetricsFilter.builder()
              .addNameFilter(MetricNameFilter.named(JobCountersTest.class, "seen"))
              .build();
      for (MetricResult<Long> c : result.metrics().queryMetrics(filter).getCounters()) {
        assertThat(c.hasCommitted(), equalTo(true));
      }
      assertThat(JobCounters.sum(result, JobCountersTest.class, "seen"), equalTo(2_000L));
    }
  }
}
