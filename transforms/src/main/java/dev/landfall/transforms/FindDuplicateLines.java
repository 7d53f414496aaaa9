package dev.landfall.transforms;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Combine;
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
 * the same result: by default a {@link Combine#perKey} keeps the smallest position per key (state
 * is one position per key, combined before the shuffle); {@link #inBuckets(int)} groups the pairs
 * into hash buckets and keeps a map per bucket, which is what the DirectRunner does fast.
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
          .apply("SmallestPositionPerKey", Combine.perKey(new SmallestPositionFn()))
          .apply("Losers", ParDo.of(new EmitLosersFn()));
    }
    return losers.setCoder(VarLongCoder.of())
        .apply("ByFile", MapElements
            .into(TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.longs()))
            .via((Long p) -> KV.of(fileRank(p), line(p))))
        .setCoder(KvCoder.of(VarIntCoder.of(), VarLongCoder.of()));
  }

  /** The smallest position of a key so far, and the positions that lost to a smaller one. */
  static final class Positions {
    long best = Long.MAX_VALUE;
    long[] losers = new long[0];
    int lost;

    void add(long position) {
      if (best == Long.MAX_VALUE) {
        best = position;
        return;
      }
      long loser = Math.max(best, position);
      best = Math.min(best, position);
      if (lost == losers.length) {
        losers = Arrays.copyOf(losers, Math.max(2, lost * 2));
      }
      losers[lost++] = loser;
    }

    void addAll(Positions other) {
      if (other.best != Long.MAX_VALUE) {
        add(other.best);
      }
      for (int i = 0; i < other.lost; i++) {
        add(other.losers[i]);
      }
    }
  }

  static final class PositionsCoder extends CustomCoder<Positions> {
    @Override
    public void encode(Positions p, OutputStream out) throws IOException {
      VarLongCoder.of().encode(p.best, out);
      VarIntCoder.of().encode(p.lost, out);
      for (int i = 0; i < p.lost; i++) {
        VarLongCoder.of().encode(p.losers[i], out);
      }
    }

    @Override
    public Positions decode(InputStream in) throws IOException {
      Positions p = new Positions();
      p.best = VarLongCoder.of().decode(in);
      p.lost = VarIntCoder.of().decode(in);
      p.losers = new long[p.lost];
      for (int i = 0; i < p.lost; i++) {
        p.losers[i] = VarLongCoder.of().decode(in);
      }
      return p;
    }

    @Override
    public void verifyDeterministic() {}
  }

  static final class SmallestPositionFn extends Combine.CombineFn<Long, Positions, Positions> {
    @Override
    public Positions createAccumulator() {
      return new Positions();
    }

    @Override
    public Positions addInput(Positions acc, Long position) {
      acc.add(position);
      return acc;
    }

    @Override
    public Positions mergeAccumulators(Iterable<Positions> accs) {
      Positions merged = new Positions();
      for (Positions p : accs) {
        merged.addAll(p);
      }
      return merged;
    }

    @Override
    public Positions extractOutput(Positions acc) {
      return acc;
    }

    @Override
    public Coder<Positions> getAccumulatorCoder(CoderRegistry registry, Coder<Long> inputCoder) {
      return new PositionsCoder();
    }

    @Override
    public Coder<Positions> getDefaultOutputCoder(CoderRegistry registry, Coder<Long> inputCoder) {
      return new PositionsCoder();
    }
  }

  static final class EmitLosersFn extends DoFn<KV<String, Positions>, Long> {
    @ProcessElement
    public void process(@Element KV<String, Positions> kv, OutputReceiver<Long> out) {
      Positions p = kv.getValue();
      for (int i = 0; i < p.lost; i++) {
        out.output(p.losers[i]);
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
