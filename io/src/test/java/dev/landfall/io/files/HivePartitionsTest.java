package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.transforms.definition.DatasetDefinition;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Partition values come from the folders of a local path or the key of an s3:// object alike. */
class HivePartitionsTest {
  private static final List<DatasetDefinition.Partition> DATE =
      DatasetDefinition.builtIn("billing").partitions;

  @Test
  void valuesComeFromAnObjectKeyAsFromAFolder() throws Exception {
    assertThat(
        HivePartitions.valuesOf("s3://bucket/billing/date=2024-01-01/part-00000.csv", DATE),
        contains("2024-01-01"));
    assertThat(
        HivePartitions.valuesOf("/data/billing/date=2024-01-01/part-00000.csv", DATE),
        contains("2024-01-01"));
    assertThat(
        HivePartitions.valuesOf("s3://b/date=1999-01-01/date=2024-01-02/a.csv.gz", DATE),
        contains("2024-01-02"));
  }

  @Test
  void anObjectDirectlyUnderTheBucketHasNoPartition() {
    assertThrows(
        HivePartitions.MissingPartition.class,
        () -> HivePartitions.valuesOf("s3://bucket/date=2024-01-01.csv", DATE));
  }
}
