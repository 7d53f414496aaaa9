package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every setting of a run is read and checked once, before anything starts. */
class RunPlanTest {
  @TempDir Path dir;

  private RunPlan plan(String... flags) throws Exception {
    return RunPlan.from(EndToEndChecks.defaults(dir.resolve("work"), flags));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "--format=xml | --format",
        "--sinks=parquet,kafka | --sinks",
        "--pollInterval=soon | --pollInterval",
        "--stopAfterIdle=10 | --stopAfterIdle",
        "--lookupRefresh=1x | --lookupRefresh",
        "--parquetRowGroupMb=0 | --parquetRowGroupMb",
        "--parquetRowGroupMb=2048 | --parquetRowGroupMb",
        "--parquetTargetFileMb=0 | --parquetTargetFileMb",
        "--parquetShardsPerPartition=0 | --parquetShardsPerPartition",
        "--compactAfterFiles=-1 | --compactAfterFiles",
        "--dedupeBuckets=-2 | --dedupeBuckets",
        "--dbBatchSize=0 | --dbBatchSize",
        "--sampleRows=0 | --sampleRows",
        "--reingest=everything | --reingest",
        "--webhookUrl=ftp://example.org/hook | --webhookUrl",
        "--dbSchema=pg_lake | --dbSchema",
        "--dataset=nosuchdataset | nosuchdataset",
      })
  void aBadFlagIsNamed(String flag, String named) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan(flag));
    assertThat(e.getMessage(), containsString(named));
  }

  @Test
  void aBadFlagFailsBeforeAnyServerTableOrFileExists() {
    Path work = dir.resolve("work");
    // No --input and no --jdbcUrl: a good run would generate the sample and start PostgreSQL.
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LandfallPipeline.run(EndToEndChecks.defaults(work, "--parquetRowGroupMb=0")));
    assertThat(e.getMessage(), containsString("--parquetRowGroupMb must be between 1 and 1024"));
    assertThat(Files.exists(work.resolve("pgdata")), equalTo(false));
    assertThat(Files.exists(work.resolve("sample-input")), equalTo(false));
    assertThat(Files.exists(work.resolve("parquet")), equalTo(false));
  }

  @Test
  void theWebhookAddressIsNotEchoed() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> plan("--webhookUrl=token-s3cr3t"));
    assertThat(e.getMessage(), not(containsString("s3cr3t")));
  }

  @Test
  void qualityRulesAreCheckedAndRefusedForParquetInput() throws Exception {
    Path def =
        Files.writeString(
            dir.resolve("gated.json"), String.format(QualityGateScenario.ORDERS, "1.5"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> plan("--datasetFile=" + def, "--input=" + dir));
    assertThat(
        e.getMessage(),
        containsString("quality.maxRejectedShare 1.5: use a share" + " between 0 and 1"));
    Files.writeString(def, String.format(QualityGateScenario.ORDERS, "0.05"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> plan("--datasetFile=" + def, "--input=" + dir, "--format=parquet"));
    assertThat(e.getMessage(), containsString("quality rules apply to CSV input"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                plan(
                    "--datasetFile=" + def,
                    "--input=" + dir,
                    "--sinks=parquet",
                    "--reingest=quarantined"));
    assertThat(e.getMessage(), containsString("--reingest=quarantined needs the postgres"));
  }

  @Test
  void aDryRunIsNotAWatch() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> plan("--dryRun=true", "--watch=true", "--input=" + dir));
    assertThat(e.getMessage(), containsString("--dryRun reads the files there are"));
  }

  @Test
  void watchWithoutPostgresIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> plan("--watch=true", "--sinks=parquet", "--input=" + dir));
    assertThat(e.getMessage(), containsString("--watch needs the postgres output"));
  }

  @Test
  void defaultsAreResolved() throws Exception {
    RunPlan plan = plan();
    assertThat(plan.sampleInput(), equalTo(true));
    assertThat(plan.input(), equalTo(plan.workDir().resolve("sample-input/billing").toString()));
    assertThat(plan.output(), equalTo(plan.workDir().resolve("parquet").toString()));
    assertThat(plan.parquet() && plan.postgres(), equalTo(true));
    assertThat(plan.format(), equalTo(RunPlan.InputFormat.CSV));
    assertThat(plan.rowGroupBytes(), equalTo(128 * 1024 * 1024));
    assertThat(plan.stopAfterIdle(), equalTo(null));
    assertThat(plan.lookupRefresh(), equalTo(Duration.standardMinutes(5)));
    assertThat(plan.readsTwice(), equalTo(true));
    assertThat(plan.finishesFilesAfterJob(), equalTo(true));
    // The DirectRunner groups a backfill's keys in 1,024 buckets and Parquet input in 64.
    assertThat(plan.keyBuckets(), equalTo(RunPlan.KEY_BUCKETS));
    assertThat(plan.dedupeBuckets(), equalTo(64));
  }

  @Test
  void parquetInputReadsParquetFilesAndReingestCombinesBothFlags() throws Exception {
    RunPlan plan =
        plan(
            "--format=PARQUET",
            "--input=" + dir,
            "--reingest=olderDefinitions",
            "--reingestChanged=true",
            "--sinks=postgres");
    assertThat(plan.parquetInput(), equalTo(true));
    assertThat(plan.inputGlob(), equalTo("**/*.parquet"));
    assertThat(plan.inputSuffixes().contains(".parquet"), equalTo(true));
    assertThat(plan.reingestChanged() && plan.reingestOlderDefinitions(), equalTo(true));
    assertThat(plan.parquet(), equalTo(false));
    assertThat(plan.readsTwice(), equalTo(false));
  }
}
