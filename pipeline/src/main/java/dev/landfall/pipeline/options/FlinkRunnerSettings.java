package dev.landfall.pipeline.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * The few FlinkRunner options landfall gives its own defaults (see {@code FlinkDefaults}). They are
 * the same properties as in Beam's {@code FlinkPipelineOptions}, with the same types and defaults,
 * declared here so that the pipeline module does not need the Flink runner: Beam keeps one value
 * per property name, so {@code --checkpointingInterval} set here is what the FlinkRunner reads.
 */
public interface FlinkRunnerSettings extends PipelineOptions {
  @Description(
      "The interval in milliseconds at which to trigger checkpoints of the running pipeline."
          + " Default: No checkpointing.")
  @Default.Long(-1L)
  Long getCheckpointingInterval();

  void setCheckpointingInterval(Long value);

  @Description("The checkpointing mode that defines consistency guarantee.")
  @Default.String("EXACTLY_ONCE")
  String getCheckpointingMode();

  void setCheckpointingMode(String value);

  @Description("Shuts down sources which have been idle for the configured time of milliseconds.")
  @Default.Long(-1L)
  Long getShutdownSourcesAfterIdleMs();

  void setShutdownSourcesAfterIdleMs(Long value);

  @Description(
      "If set, finishes the current bundle and flushes all output before checkpointing the state"
          + " of the operators. By default, starts checkpointing immediately and buffers any"
          + " remaining bundle output as part of the checkpoint. The setting may affect the"
          + " checkpoint alignment.")
  @Default.Boolean(false)
  boolean getFinishBundleBeforeCheckpointing();

  void setFinishBundleBeforeCheckpointing(boolean value);

  @Description("Sets the behavior of reusing objects.")
  @Default.Boolean(false)
  Boolean getObjectReuse();

  void setObjectReuse(Boolean value);

  @Description("Specifies if the pipeline is submitted in attached or detached mode")
  @Default.Boolean(true)
  boolean getAttachedMode();

  void setAttachedMode(boolean value);

  @Description(
      "The degree of parallelism to be used when distributing operations onto workers."
          + " If the parallelism is not set, the configured Flink default is used, or 1 if none can be"
          + " found.")
  @Default.Integer(-1)
  Integer getParallelism();

  void setParallelism(Integer value);
}
