package dev.landfall.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.pipeline.FlinkDefaults;
import dev.landfall.pipeline.LandfallPipeline;
import dev.landfall.pipeline.RunPlan;
import dev.landfall.pipeline.options.FlinkRunnerSettings;
import dev.landfall.pipeline.options.LandfallOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/**
 * landfall's FlinkRunner defaults, read back through Beam's own {@link FlinkPipelineOptions}: a
 * watch run checkpoints every 60 s exactly once unless told otherwise; a backfill and the
 * DirectRunner are left alone.
 */
class FlinkDefaultsTest {
  private static FlinkPipelineOptions parse(String... args) {
    PipelineOptionsFactory.register(LandfallOptions.class);
    LandfallOptions options =
        PipelineOptionsFactory.fromArgs(args).withValidation().as(LandfallOptions.class);
    FlinkDefaults.apply(options);
    return options.as(FlinkPipelineOptions.class);
  }

  @Test
  void aWatchRunOnFlinkCheckpointsEveryMinuteExactlyOnce() {
    FlinkPipelineOptions flink = parse("--runner=FlinkRunner", "--watch");
    assertThat(flink.getCheckpointingInterval(), equalTo(60_000L));
    assertThat(flink.getCheckpointingMode(), equalTo("EXACTLY_ONCE"));
    assertThat(
        "a file's last counts are not held back in a checkpoint buffer",
        flink.getFinishBundleBeforeCheckpointing(),
        equalTo(true));
    assertThat(
        "sources left to Beam's default (kept for checkpoints)",
        flink.getShutdownSourcesAfterIdleMs(),
        equalTo(-1L));
  }

  @Test
  void aGivenIntervalIsKeptAndZeroTurnsCheckpointingOff() {
    assertThat(
        parse("--runner=FlinkRunner", "--watch", "--checkpointingInterval=5000")
            .getCheckpointingInterval(),
        equalTo(5_000L));
    assertThat(
        parse("--runner=FlinkRunner", "--watch", "--checkpointingInterval=0")
            .getCheckpointingInterval(),
        equalTo(-1L));
    assertThat(
        parse("--runner=FlinkRunner", "--watch", "--checkpointingMode=AT_LEAST_ONCE")
            .getCheckpointingMode(),
        equalTo("AT_LEAST_ONCE"));
  }

  @Test
  void aWatchRunThatStopsWhenIdleCanEnd() {
    FlinkPipelineOptions flink = parse("--runner=FlinkRunner", "--watch", "--stopAfterIdle=5s");
    assertThat(flink.getCheckpointingInterval(), equalTo(60_000L));
    assertThat(flink.getShutdownSourcesAfterIdleMs(), equalTo(0L));
    assertThat(
        parse(
                "--runner=FlinkRunner",
                "--watch",
                "--stopAfterIdle=5s",
                "--shutdownSourcesAfterIdleMs=1000")
            .getShutdownSourcesAfterIdleMs(),
        equalTo(1_000L));
  }

  @Test
  void backfillsAndTheDirectRunnerAreLeftAlone() {
    assertThat(parse("--runner=FlinkRunner").getCheckpointingInterval(), equalTo(-1L));
    assertThat(parse("--runner=FlinkRunner").getFinishBundleBeforeCheckpointing(), equalTo(false));
    assertThat(parse("--watch").getCheckpointingInterval(), equalTo(-1L));
  }

  @Test
  void detachedModeIsRecognised() {
    PipelineOptionsFactory.register(LandfallOptions.class);
    LandfallOptions detached =
        PipelineOptionsFactory.fromArgs("--runner=FlinkRunner", "--attachedMode=false")
            .as(LandfallOptions.class);
    assertThat(FlinkDefaults.isDetached(detached), equalTo(true));
    LandfallOptions attached =
        PipelineOptionsFactory.fromArgs("--runner=FlinkRunner").as(LandfallOptions.class);
    assertThat(FlinkDefaults.isDetached(attached), equalTo(false));
  }

  @Test
  void aBackfillOnFlinkReusesObjectsUnlessTheCommandLineSaysOtherwise() {
    assertThat(
        LandfallPipeline.options("--runner=FlinkRunner")
            .as(FlinkPipelineOptions.class)
            .getObjectReuse(),
        equalTo(true));
    assertThat(
        LandfallPipeline.options("--runner=FlinkRunner", "--objectReuse=false")
            .as(FlinkPipelineOptions.class)
            .getObjectReuse(),
        equalTo(false));
    assertThat(
        "a watch run keeps Flink's default",
        LandfallPipeline.options("--runner=FlinkRunner", "--watch")
            .as(FlinkPipelineOptions.class)
            .getObjectReuse(),
        equalTo(false));
    assertThat(
        "the DirectRunner is left alone",
        LandfallPipeline.options().as(FlinkRunnerSettings.class).getObjectReuse(),
        equalTo(false));
  }

  @Test
  void theSecondPassIsSpreadOverFlinksParallelism() throws Exception {
    assertThat(plan("--runner=FlinkRunner", "--parallelism=3").secondPassWorkers(), equalTo(3));
    assertThat(
        "Flink picks the parallelism: files keyed by rank",
        plan("--runner=FlinkRunner").secondPassWorkers(),
        equalTo(1));
    assertThat(plan("--parallelism=3").secondPassWorkers(), equalTo(1));
    assertThat(
        "read back by the FlinkRunner",
        parse("--runner=FlinkRunner", "--parallelism=3").getParallelism(),
        equalTo(3));
  }

  private static RunPlan plan(String... args) throws Exception {
    PipelineOptionsFactory.register(LandfallOptions.class);
    return RunPlan.from(
        PipelineOptionsFactory.fromArgs(args).withValidation().as(LandfallOptions.class));
  }
}
