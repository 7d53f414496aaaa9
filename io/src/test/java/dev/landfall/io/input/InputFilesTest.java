package dev.landfall.io.input;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.csv.ReadCsvFiles;
import dev.landfall.io.files.HivePartitions;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.util.List;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.api.Test;

/** The contract shared by the input readers: counter namespace and partition values. */
class InputFilesTest {
  private static final DatasetDefinition BILLING = DatasetDefinition.builtIn("billing");

  @Test
  void theCountersKeepTheCsvReadersNamespace() {
    // Tests, RunSummary and dashboards look the reader counters up under ReadCsvFiles' name.
    assertThat(InputFiles.METRICS_NAMESPACE, equalTo(ReadCsvFiles.class.getName()));
  }

  @Test
  void partitionValuesComeFromTheFoldersAndAreChecked() throws Exception {
    InputFiles.Partitions partitions = SerializableUtils.clone(new InputFiles.Partitions(BILLING));
    assertThat(BILLING.partitions.size(), equalTo(1));
    String name = BILLING.partitions.get(0).name;
    assertThat(
        partitions.of("/in/" + name + "=2024-01-02/part-0.csv"), equalTo(List.of("2024-01-02")));
    assertThrows(
        UnsupportedOperationException.class,
        () -> partitions.of("/in/" + name + "=2024-01-02/part-0.csv").add("x"));
    HivePartitions.MissingPartition missing =
        assertThrows(HivePartitions.MissingPartition.class, () -> partitions.of("/in/part-0.csv"));
    assertThat(missing.getMessage(), containsString(name + "="));
    HivePartitions.MissingPartition bad =
        assertThrows(
            HivePartitions.MissingPartition.class,
            () -> partitions.of("/in/" + name + "=yesterday/part-0.csv"));
    assertThat(bad.getMessage(), containsString("partition '" + name + "' value"));
  }
}
