package dev.landfall.transforms;

import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * De-duplication by position: given the key and the position of every clean row, finds the rows
 * that lose their key. The input is {@code (key, position)}, where a position packs the rank of the
 * row's input file (its place in the sorted list of the run's file names) and its line ({@link
 * #position}), so the smallest position is the smallest {@code (source_file, source_line)}: the
 * rule {@link DeduplicateByKey} applies to whole rows. The output is {@code (file rank, line)} of
 * every losing row; the winners are all the others.
 *
 * <p>Only keys and positions are shuffled, about a quarter of a clean row's bytes; the rows stay
 * in their files, and whoever reads a file again skips the lines named here. Two strategies give
 * the same result: by default a {@link GroupByKey} brings each key's positions together (on
 * Flink, one sort after the shuffle; a combine before the shuffle would sort every key once more
 * to save almost nothing, since few keys repeat); {@link #inBuckets(int)} groups the pairs into
 * hash buckets and keeps a map per bucket, which is what the DirectRunner does fast.
 */
public class FindDuplicateLines
    extends PTransform<PCollection<KV<String, Long>>, PCollection<KV<Integer, Long>>> {
  /** Lines below 2^40 (about 10^12) fit; the file rank takes the bits above. */
  private static final int LINE_BITS = 40;
  private static final long LINE_MASK = (1L << LINE_BITS) - 1;

  private final int buckets;

  public FindDuplicateLines() {
    this(0);
  }

  private FindDuplicateLines(int buckets) {
    this.buckets = buckets;
  }

  /** The same result, grouped into {@code buckets} hash buckets (0: per key). */
  public FindDuplicateLines inBuckets(int buckets) {
    return new FindDuplicateLines(buckets);
  }

  /** The position of line {@code line} of the file ranked {@code fileRank}. */
  public static long position(int fileRank, long line) {
    if (fileRank < 0 || fileRank >= (1 << (63 - LINE_BITS)) || line < 0 || line > LINE_MASK) {
      throw new IllegalArgumentException(
          "file rank " + fileRank + " or line " + line + " out of range");
    }
    return ((long) fileRank << LINE_BITS) | line;
  }

  /** The file rank of a position. */
  public static int fileRank(long position) {
    return (int) (position >>> LINE_BITS);
  }

  /** The line of a position. */
  public static long line(long position) {
    return position & LINE_MASK;
  }

  @Override
  public PCollection<KV<Integer, Long>> expand(PCollection<KV<String, Long>> keyed) {
    PCollection<Long> losers;
    if (buckets > 0) {
      int n = buckets;
      losers = keyed
          .apply("KeyPositionsByBucket", MapElements
              .into(TypeDescriptors.kvs(TypeDescriptors.integers(),
                  TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.longs())))
              .via((KV<String, Long> kv) -> KV.of(Math.floorMod(kv.getKey().hashCode(), n), kv)))
          .setCoder(KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(),
              VarLongCoder.of())))
          .apply("GroupBuckets", GroupByKey.create())
          .apply("LosersInBucket", ParDo.of(new LosersInBucketFn()));
    } else {
      losers = keyed
          .apply("GroupPositionsByKey", GroupByKey.create())
          .apply("LosersOfKey", ParDo.of(new LosersOfKeyFn()));
    }
    return losers.setCoder(VarLongCoder.of())
        .apply("ByFile", MapElements
            .into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.longs()))
            .via((Long p) -> KV.of(fileRank(p), line(p))))
        .setCoder(KvCoder.of(VarIntCoder.of(), VarLongCoder.of()));
  }

  /** Every position of a key but the smallest. */
  static final class LosersOfKeyFn extends DoFn<KV<String, Iterable<Long>>, Long> {
    @ProcessElement
    public void process(@Element KV<String, Iterable<Long>> key, OutputReceiver<Long> out) {
      long best = Long.MAX_VALUE;
      for (long p : key.getValue()) {
        if (best != Long.MAX_VALUE) {
          out.output(Math.max(best, p));
        }
        best = Math.min(best, p);
      }
    }
  }

  static final class LosersInBucketFn extends DoFn<KV<Integer, Iterable<KV<String, Long>>>, Long> {
    @ProcessElement
    public void process(@Element KV<Integer, Iterable<KV<String, Long>>> bucket,
        OutputReceiver<Long> out) {
      Map<String, Long> best = new HashMap<>();
      for (KV<String, Long> kv : bucket.getValue()) {
        Long seen = best.putIfAbsent(kv.getKey(), kv.getValue());
        if (seen != null) {
          long p = kv.getValue();
          out.output(Math.max(seen, p));
          if (p < seen) {
            best.put(kv.getKey(), p);
          }
        }
      }
    }
  }
}
