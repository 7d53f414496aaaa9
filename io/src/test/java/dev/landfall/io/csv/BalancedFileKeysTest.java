package dev.landfall.io.csv;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.Test;

/** The second pass's file keys: distinct, and spreading the files' records evenly over workers. */
class BalancedFileKeysTest {

  @Test
  void oneWorkerKeysEachFileByItsRank() {
    List<String> names = List.of("a", "b", "c");
    assertThat(
        Arrays.toString(BalancedFileKeys.keys(names, Map.of("a", 5L), 1)), equalTo("[0, 1, 2]"));
  }

  @Test
  void keysAreDistinctAndEveryWorkerGetsWithinOneFileOfAnEvenShare() {
    Random random = new Random(7);
    for (int workers = 2; workers <= 8; workers++) {
      for (int n : new int[] {1, 2, 3, 14, 42, 406}) {
        List<String> names =
            IntStream.range(0, n)
                .mapToObj(i -> String.format("f%04d", i))
                .collect(Collectors.toList());
        Map<String, Long> records = new HashMap<>();
        long largest = 0;
        for (String name : names) {
          long r = random.nextInt(5) == 0 ? 0 : 1 + random.nextInt(300_000);
          records.put(name, r);
          largest = Math.max(largest, r);
        }
        int[] keys = BalancedFileKeys.keys(names, records, workers);
        Set<Integer> distinct = new HashSet<>();
        long[] load = new long[workers];
        for (int rank = 0; rank < n; rank++) {
          assertThat(keys[rank] >= 0, equalTo(true));
          distinct.add(keys[rank]);
          load[BalancedFileKeys.workerOf(keys[rank], workers)] += records.get(names.get(rank));
        }
        assertThat("distinct keys", distinct.size(), equalTo(n));
        long max = Arrays.stream(load).max().getAsLong();
        long min = Arrays.stream(load).min().getAsLong();
        assertThat(
            workers + " workers, " + n + " files: " + Arrays.toString(load),
            max - min,
            lessThanOrEqualTo(largest));
      }
    }
  }

  @Test
  void filesTheFirstPassDidNotCountStillGetDistinctKeys() {
    List<String> names = List.of("a", "b", "c", "d");
    int[] keys = BalancedFileKeys.keys(names, Map.of(), 2);
    assertThat(Arrays.stream(keys).distinct().count(), equalTo(4L));
  }

  @Test
  void keysAreEncodedAsVarIntCoderEncodesThem() throws Exception {
    for (int key : new int[] {0, 1, 127, 128, 300, 16_383, 16_384, 1 << 21, Integer.MAX_VALUE}) {
      assertThat(
          Arrays.toString(BalancedFileKeys.varInt(key)),
          equalTo(Arrays.toString(CoderUtils.encodeToByteArray(VarIntCoder.of(), key))));
    }
  }
}
