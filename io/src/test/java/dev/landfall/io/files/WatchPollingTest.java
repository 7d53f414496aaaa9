package dev.landfall.io.files;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One listing per poll interval, whoever calls the watch's poll function, and how often. */
class WatchPollingTest {
  @TempDir Path dir;

  @Test
  void pollsBackToBackAreSpacedByThePollInterval() throws Exception {
    long interval = 300;
    WatchForStableFiles.StableFilesFn poll =
        new WatchForStableFiles.StableFilesFn(List.of(dir + "/*.csv"), interval);
    long start = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      poll.poll();
    }
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    // Three polls called at once (as the FlinkRunner does) take at least two intervals.
    assertThat(elapsedMillis, greaterThanOrEqualTo(2 * interval));
  }
}
