package dev.landfall.io.csv;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Grouping keys that spread the second pass of a CSV backfill evenly over the workers.
 *
 * <p>Each file's winning rows are read, written to Parquet and sent to PostgreSQL by the worker
 * that the file's grouping key is sent to. With the file's rank as its key, files landed unevenly:
 * at 10M rows in 42 files one worker read 5.9M rows and the other 4.1M, and the second pass ran its
 * last ~20 s on one worker. Here the files, largest first by the records the first pass counted,
 * each go to the worker with the fewest records so far, and take the smallest unused key that the
 * FlinkRunner's batch translation sends to that worker: Flink partitions a grouping by {@code
 * murmurHash(Arrays.hashCode(key bytes)) % parallelism} ({@code OutputEmitter}, {@code
 * MathUtils.murmurHash}), and Beam's key selectors hand it the key encoded by its coder ({@link
 * org.apache.beam.sdk.coders.VarIntCoder} here; the global window adds no bytes). On any other
 * runner, or should that rule change, the keys are merely other distinct keys: which worker reads a
 * file never changes what is written.
 */
final class BalancedFileKeys {
  private BalancedFileKeys() {}

  /**
   * The grouping key of each file rank (an index into {@code names}), for {@code workers} workers;
   * {@code records} holds the records the first pass counted per file name (a missing file counts
   * as empty). With one worker or fewer each rank is its own key.
   */
  static int[] keys(List<String> names, Map<String, Long> records, int workers) {
    int n = names.size();
    int[] keys = new int[n];
    if (workers <= 1) {
      Arrays.setAll(keys, i -> i);
      return keys;
    }
    long[] size = new long[n];
    for (int i = 0; i < n; i++) {
      Long r = records.get(names.get(i));
      size[i] = r == null ? 0 : r;
    }
    Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.<Integer>comparingLong(i -> -size[i]).thenComparingInt(i -> i));
    long[] load = new long[workers];
    int[] nextCandidate = new int[workers];
    for (int rank : order) {
      int w = 0;
      for (int i = 1; i < workers; i++) {
        if (load[i] < load[w]) {
          w = i;
        }
      }
      load[w] += size[rank];
      int k = nextCandidate[w];
      while (workerOf(k, workers) != w) {
        k++;
      }
      keys[rank] = k;
      nextCandidate[w] = k + 1;
    }
    return keys;
  }

  /** The worker that Flink's batch runtime sends grouping key {@code key} to. */
  static int workerOf(int key, int workers) {
    return murmurHash(Arrays.hashCode(varInt(key))) % workers;
  }

  /** {@code key} as {@link org.apache.beam.sdk.coders.VarIntCoder} encodes it. */
  static byte[] varInt(int key) {
    byte[] buf = new byte[5];
    int n = 0;
    int v = key;
    while ((v & ~0x7F) != 0) {
      buf[n++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    buf[n++] = (byte) v;
    return Arrays.copyOf(buf, n);
  }

  /** Flink's {@code MathUtils.murmurHash(int)}: non-negative. */
  static int murmurHash(int code) {
    code *= 0xcc9e2d51;
    code = Integer.rotateLeft(code, 15);
    code *= 0x1b873593;
    code = Integer.rotateLeft(code, 13);
    code = code * 5 + 0xe6546b64;
    code ^= 4;
    code ^= code >>> 16;
    code *= 0x85ebca6b;
    code ^= code >>> 13;
    code *= 0xc2b2ae35;
    code ^= code >>> 16;
    if (code >= 0) {
      return code;
    }
    return code != Integer.MIN_VALUE ? -code : 0;
  }
}
