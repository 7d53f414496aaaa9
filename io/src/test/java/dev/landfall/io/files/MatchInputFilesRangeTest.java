package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code --since/--until} compare the partition value as the partition column gets it: decoded.
 * Hive writes {@code :} in a folder name as {@code %3A}; compared raw, {@code 10%3A00} sorts before
 * {@code 10:00} and a file inside the range was left out.
 */
class MatchInputFilesRangeTest {
  private static boolean kept(String path, String since, String until) {
    return new MatchInputFiles.KeepCsvFn(List.of(".csv"), "hour", since, until).inRange(path);
  }

  @Test
  void encodedPartitionValuesAreComparedDecoded() {
    String tenOClock = "/data/events/hour=2024-01-02 10%3A00/part-0.csv";
    assertThat(HivePartitions.valueOf(tenOClock, "hour"), equalTo("2024-01-02 10:00"));
    assertThat(kept(tenOClock, "2024-01-02 10:00", ""), equalTo(true));
    assertThat(kept(tenOClock, "", "2024-01-02 10:00"), equalTo(true));
    assertThat(kept(tenOClock, "2024-01-02 10:01", ""), equalTo(false));
    assertThat(kept(tenOClock, "", "2024-01-02 09:59"), equalTo(false));
    assertThat(
        "no partition folder: left to the reader to reject",
        kept("/data/events/part-0.csv", "2024-01-02 10:00", ""),
        equalTo(true));
    assertThat(HivePartitions.valueOf("/data/hour=1/x/hour=2/f.csv", "hour"), equalTo("2"));
    assertThat(
        "the file name is not a folder",
        HivePartitions.valueOf("/data/hour=3.csv", "hour"),
        equalTo(null));
  }
}
