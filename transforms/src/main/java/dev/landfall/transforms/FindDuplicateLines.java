package dev.landfall.transforms;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
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
 * <p>Only keys and positions are shuffled, about a quarter of a clean row's bytes; the rows stay in
 * their files, and whoever reads a file again skips the lines named here. Two strategies give the
 * same result. {@link #inBuckets(int)} (the default of a backfill) packs the pairs, before the
 * shuffle, into chunks of about 16 KB per hash bucket, groups the chunks by bucket and keeps one
 * map of the bucket's keys at a time: the shuffle sorts one element per chunk instead of one per
 * row, which matters on Flink, whose sort compares Beam's encoded keys by decoding both records
 * each time (no normalized keys). Memory: one bucket's keys, about {@code rows / buckets}, and up
 * to {@code buckets} open chunks per worker. Per key (0 buckets), a {@link GroupByKey} brings each
 * key's positions together; Flink sorts every pair and may spill to disk, so memory does not grow
 * with the input.
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
      if (!(keyed.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
        throw new IllegalArgumentException(
            "FindDuplicateLines in buckets needs its input in the global window");
      }
      return keyed
          .apply("PackKeysByBucket", ParDo.of(new PackKeysFn(buckets)))
          .setCoder(PACKED_CODER)
          .apply(new FromPacked());
    }
    return byFile(
        keyed
            .apply("GroupPositionsByKey", GroupByKey.create())
            .apply("LosersOfKey", ParDo.of(new LosersOfKeyFn())));
  }

  /** The coder of packed chunks: {@code (bucket, chunk)}. */
  public static final KvCoder<Integer, byte[]> PACKED_CODER =
      KvCoder.of(VarIntCoder.of(), ByteArrayCoder.of());

  /**
   * The same result from chunks its caller packed with a {@link Packer} (in the global window): a
   * step that finds the keys can pack them itself, so that only chunks, not one element per row,
   * leave it. That matters most for a step with several outputs, whose every element Flink
   * serializes once per output.
   */
  public static PTransform<PCollection<KV<Integer, byte[]>>, PCollection<KV<Integer, Long>>>
      fromPacked() {
    return new FromPacked();
  }

  private static final class FromPacked
      extends PTransform<PCollection<KV<Integer, byte[]>>, PCollection<KV<Integer, Long>>> {
    FromPacked() {
      super("FindDuplicateLinesInBuckets");
    }

    @Override
    public PCollection<KV<Integer, Long>> expand(PCollection<KV<Integer, byte[]>> packed) {
      if (!(packed.getWindowingStrategy().getWindowFn() instanceof GlobalWindows)) {
        throw new IllegalArgumentException(
            "FindDuplicateLines in buckets needs its input in the global window");
      }
      return byFile(
          packed
              .apply("GroupBuckets", GroupByKey.create())
              .apply("LosersInBucket", ParDo.of(new LosersInBucketFn())));
    }
  }

  private static PCollection<KV<Integer, Long>> byFile(PCollection<Long> losers) {
    return losers
        .setCoder(VarLongCoder.of())
        .apply(
            "ByFile",
            MapElements.into(
                    TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.longs()))
                .via((Long p) -> KV.of(fileRank(p), line(p))))
        .setCoder(KvCoder.of(VarIntCoder.of(), VarLongCoder.of()));
  }

  /**
   * Packs {@code (key, position)} pairs into one chunk per hash bucket for {@link #fromPacked()}:
   * {@link #add} hands on a chunk once it holds about 16 KB, {@link #flush} the rest (call it when
   * the bundle ends). At most {@code buckets} chunks are open at a time. Not thread-safe: one per
   * {@code DoFn} instance.
   */
  public static final class Packer {
    /** Receives a full chunk and its bucket. */
    public interface Emit {
      void chunk(int bucket, byte[] chunk);
    }

    private final int buckets;
    private final Chunk[] chunks;

    public Packer(int buckets) {
      if (buckets <= 0) {
        throw new IllegalArgumentException("buckets must be positive, not " + buckets);
      }
      this.buckets = buckets;
      this.chunks = new Chunk[buckets];
    }

    public void add(String key, long position, Emit emit) {
      int b = bucketOf(key, buckets);
      Chunk c = chunks[b];
      if (c == null) {
        c = chunks[b] = new Chunk();
      }
      c.add(key.getBytes(StandardCharsets.UTF_8), position);
      if (c.size >= PackKeysFn.CHUNK_BYTES) {
        emit.chunk(b, c.take());
      }
    }

    public void flush(Emit emit) {
      for (int b = 0; b < buckets; b++) {
        Chunk c = chunks[b];
        if (c != null && c.size > 0) {
          emit.chunk(b, c.take());
        }
      }
    }
  }

  /** The bucket of {@code key} among {@code buckets} (String's hash, mixed). */
  static int bucketOf(String key, int buckets) {
    int h = key.hashCode() * 0x9E3779B9;
    return Math.floorMod(h ^ (h >>> 16), buckets);
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

  /**
   * Packs {@code (key, position)} pairs into one byte chunk per bucket, handed on when it reaches
   * {@value #CHUNK_BYTES} bytes or the bundle ends, so the shuffle and its sort see one element per
   * chunk instead of one per row. A chunk is a run of (UTF-8 length as a var-int, the key's UTF-8
   * bytes, the position as a var-long). At most {@code buckets} chunks are open at a time.
   */
  static final class PackKeysFn extends DoFn<KV<String, Long>, KV<Integer, byte[]>> {
    static final int CHUNK_BYTES = 16 * 1024;
    private final int buckets;
    private transient Packer packer;

    PackKeysFn(int buckets) {
      this.buckets = buckets;
    }

    @StartBundle
    public void startBundle() {
      if (packer == null) {
        packer = new Packer(buckets);
      }
    }

    @ProcessElement
    public void process(@Element KV<String, Long> kv, OutputReceiver<KV<Integer, byte[]>> out) {
      packer.add(kv.getKey(), kv.getValue(), (b, chunk) -> out.output(KV.of(b, chunk)));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      packer.flush(
          (b, chunk) ->
              context.output(
                  KV.of(b, chunk), GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE));
    }
  }

  /** A growing byte buffer of packed pairs. */
  static final class Chunk extends ByteChunk {
    Chunk() {
      super(256);
    }

    void add(byte[] key, long position) {
      ensure(key.length + 15);
      putVarLong(key.length);
      System.arraycopy(key, 0, bytes, size, key.length);
      size += key.length;
      putVarLong(position);
    }

    private void putVarLong(long v) {
      int i = size;
      while ((v & ~0x7FL) != 0) {
        bytes[i++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      bytes[i++] = (byte) v;
      size = i;
    }
  }

  /** Reads the pairs of one chunk, in order. */
  static final class ChunkReader {
    private final byte[] bytes;
    private int at;
    String key;
    long position;

    ChunkReader(byte[] bytes) {
      this.bytes = bytes;
    }

    boolean next() {
      if (at >= bytes.length) {
        return false;
      }
      int length = (int) varLong();
      key = new String(bytes, at, length, StandardCharsets.UTF_8);
      at += length;
      position = varLong();
      return true;
    }

    private long varLong() {
      long v = 0;
      int shift = 0;
      byte b;
      do {
        b = bytes[at++];
        v |= (long) (b & 0x7F) << shift;
        shift += 7;
      } while (b < 0);
      return v;
    }
  }

  /** Every position of a key but the smallest, for the keys of one bucket's chunks. */
  static final class LosersInBucketFn extends DoFn<KV<Integer, Iterable<byte[]>>, Long> {
    @ProcessElement
    public void process(@Element KV<Integer, Iterable<byte[]>> bucket, OutputReceiver<Long> out) {
      Map<String, Long> best = new HashMap<>();
      for (byte[] chunk : bucket.getValue()) {
        ChunkReader pairs = new ChunkReader(chunk);
        while (pairs.next()) {
          long p = pairs.position;
          Long seen = best.putIfAbsent(pairs.key, p);
          if (seen != null) {
            out.output(Math.max(seen, p));
            if (p < seen) {
              best.put(pairs.key, p);
            }
          }
        }
      }
    }
  }
}
