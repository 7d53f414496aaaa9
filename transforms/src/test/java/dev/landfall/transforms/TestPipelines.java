package dev.landfall.transforms;

import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/** A DirectRunner pipeline for JUnit 5 tests (Beam's TestPipeline is a JUnit 4 rule). */
public final class TestPipelines {
  private TestPipelines() {}

  public static Pipeline direct() {
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(DirectRunner.class);
    options.setStableUniqueNames(PipelineOptions.CheckEnabled.ERROR);
    return Pipeline.create(options);
  }
}
