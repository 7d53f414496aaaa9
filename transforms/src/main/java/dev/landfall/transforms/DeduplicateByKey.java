package dev.landfall.transforms;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.CleanRowCoder;
import dev.landfall.transforms.values.DatasetSchemas;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Keeps one clean row per key. When a key occurs more than once (in one file or across files) the
 * row with the smallest {@code (source_file, source_line)} wins, so the result does not depend on
 * arrival order or runner; the others are counted as {@code rows-duplicate}. The winners are
 * counted as {@code rows-valid}.
 *
 * <p>Two strategies give the same result. By default a {@link Combine#perKey} keeps the winner per
 * key: state is one row per key, combined before the shuffle, which is what Flink scales with.
 * {@link #inBuckets(int)} instead groups rows into a fixed number of hash buckets and de-duplicates
 * each bucket in memory; the DirectRunner, which runs every key of a grouping as its own bundle and
 * keeps all data in memory anyway, is two orders of magnitude faster this way.
 *
 * <p>{@link #withDuplicateCounts()} is a de-duplication of its own that also counts, per input
 * file, how many of its rows lost to another row ({@link Deduplicated}), so a file's rows can be
 * accounted for as they finish.
 *
 * <p>{@link #packed(DatasetDefinition)} takes rows already packed by a {@link Packer} (the reader
 * of a file packs its rows as it reads them): the shuffle then carries one element of about 16 KB
 * per bucket instead of one per row. On Flink's streaming translation (watch mode) every element of
 * a grouping costs a lookup of keyed state and every key a timer, which made the per-key strategy
 * the largest cost of a watch run (docs/performance.md).
 */
public class DeduplicateByKey extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** The winning rows ({@link Deduplicated#unique()}). */
  private static final TupleTag<Row> UNIQUE = new TupleTag<Row>() {};

  /** Per source file, its rows that lost their key ({@link Deduplicated#duplicates()}). */
  private static final TupleTag<KV<String, Long>> DUPLICATES = new TupleTag<KV<String, Long>>() {};

  private final DatasetDefinition definition;
  private final int buckets;

  public DeduplicateByKey(DatasetDefinition definition) {
    this(definition, 0);
  }

  private DeduplicateByKey(DatasetDefinition definition, int buckets) {
    this.definition = definition;
    this.buckets = buckets;
  }

  /** The same de-duplication, grouped into {@code buckets} hash buckets (0: per key). */
  public DeduplicateByKey inBuckets(int buckets) {
    return new DeduplicateByKey(definition, buckets);
  }

  /** The same de-duplication, with the per-file duplicate counts as a second output. */
  public WithDuplicateCounts withDuplicateCounts() {
    return new WithDuplicateCounts(definition, buckets);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    if (buckets > 0) {
      return rows.apply("KeepOnePerKey", new WithDuplicateCounts(definition, buckets)).unique();
    }
    // One output only: on Flink's batch translation every output of a step is sent, serialized,
    // to a consumer of its own, even one nobody reads.
    Schema schema = DatasetSchemas.clean(definition);
    return keyByDatasetKey(rows, definition.key, schema)
        .apply("KeepFirstPerKey", Combine.perKey(new KeepFirstFn(schema)))
        .apply("EmitWinners", ParDo.of(new EmitWinnerOnlyFn()))
        .setCoder(CleanRowCoder.of(schema));
  }

  static PCollection<KV<String, Row>> keyByDatasetKey(
      PCollection<Row> rows, List<String> key, Schema schema) {
    return rows.apply(
            "KeyByDatasetKey",
            MapElements.into(TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.rows()))
                .via((Row r) -> KV.of(keyOf(r, key), r)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), CleanRowCoder.of(schema)));
  }

  /** {@link DeduplicateByKey} that also counts each file's losing rows ({@link Deduplicated}). */
  public static class WithDuplicateCounts extends PTransform<PCollection<Row>, Deduplicated> {
    private final DatasetDefinition definition;
    private final int buckets;

    WithDuplicateCounts(DatasetDefinition definition, int buckets) {
      this.definition = definition;
      this.buckets = buckets;
    }

    @Override
    public Deduplicated expand(PCollection<Row> rows) {
      Schema schema = DatasetSchemas.clean(definition);
      List<String> key = definition.key;
      if (buckets > 0) {
        int n = buckets;
        return withCoders(
            rows.apply(
                    "KeyByBucket",
                    MapElements.into(
                            TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.rows()))
                        .via((Row r) -> KV.of(Math.floorMod(keyOf(r, key).hashCode(), n), r)))
                .setCoder(KvCoder.of(VarIntCoder.of(), CleanRowCoder.of(schema)))
                .apply("GroupBuckets", GroupByKey.create())
                .apply(
                    "KeepFirstInBucket",
                    ParDo.of(new DedupeBucketFn(key))
                        .withOutputTags(UNIQUE, TupleTagList.of(DUPLICATES))),
            schema);
      }
      return withCoders(
          keyByDatasetKey(rows, key, schema)
              .apply("KeepFirstPerKey", Combine.perKey(new KeepFirstFn(schema)))
              .apply(
                  "CountDuplicates",
                  ParDo.of(new EmitWinnerFn()).withOutputTags(UNIQUE, TupleTagList.of(DUPLICATES))),
          schema);
    }
  }

  /**
   * De-duplication of rows packed by a {@link Packer}, with the same winners and counts ({@link
   * Deduplicated}) as {@link #withDuplicateCounts()} over the unpacked rows.
   */
  public static Packed packed(DatasetDefinition definition) {
    return new Packed(definition);
  }

  /** See {@link #packed(DatasetDefinition)}. */
  public static class Packed extends PTransform<PCollection<KV<Integer, byte[]>>, Deduplicated> {
    private final DatasetDefinition definition;

    Packed(DatasetDefinition definition) {
      this.definition = definition;
    }

    @Override
    public Deduplicated expand(PCollection<KV<Integer, byte[]>> chunks) {
      Schema schema = DatasetSchemas.clean(definition);
      return withCoders(
          chunks
              .apply("GroupBuckets", GroupByKey.create())
              .apply(
                  "KeepFirstInBucket",
                  ParDo.of(new DedupeChunksFn(definition.key, schema))
                      .withOutputTags(UNIQUE, TupleTagList.of(DUPLICATES))),
          schema);
    }
  }

  /** The coder of packed chunks: bucket, bytes. */
  public static KvCoder<Integer, byte[]> chunkCoder() {
    return KvCoder.of(VarIntCoder.of(), ByteArrayCoder.of());
  }

  /**
   * Packs clean rows into chunks of about {@value #CHUNK_BYTES} bytes, one open chunk per hash
   * bucket of the row's key, each row in the compact encoding ({@link CleanRowCoder}). A full chunk
   * is handed on at once; {@link #flush} hands on the rest. Used by whoever produces the rows (a
   * file reader packs a whole file's rows), not by a step of its own: on Flink's streaming
   * translation a step's bundles hold at most a thousand elements, too few to pack. Memory: at most
   * {@code buckets} open chunks.
   */
  public static final class Packer implements Serializable {
    private static final long serialVersionUID = 1L;
    static final int CHUNK_BYTES = 16 * 1024;

    private final CleanRowCoder coder;
    private final List<String> key;
    private final int buckets;
    private transient ByteChunk[] open;

    public Packer(DatasetDefinition definition, int buckets) {
      if (buckets < 1) {
        throw new IllegalArgumentException("packing needs at least one bucket, not " + buckets);
      }
      this.coder = CleanRowCoder.of(DatasetSchemas.clean(definition));
      this.key = definition.key;
      this.buckets = buckets;
    }

    /** Adds {@code row}; hands a chunk that reached its size to {@code out}. */
    public void add(Row row, BiConsumer<Integer, byte[]> out) {
      if (open == null) {
        open = new ByteChunk[buckets];
      }
      int b = FindDuplicateLines.bucketOf(keyOf(row, key), buckets);
      ByteChunk c = open[b];
      if (c == null) {
        c = open[b] = new ByteChunk(1024);
      }
      try {
        coder.encode(row, c);
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a byte array does not fail
      }
      if (c.size >= CHUNK_BYTES) {
        out.accept(b, c.take());
      }
    }

    /** Hands every chunk that holds rows to {@code out}. */
    public void flush(BiConsumer<Integer, byte[]> out) {
      if (open == null) {
        return;
      }
      for (int b = 0; b < buckets; b++) {
        ByteChunk c = open[b];
        if (c != null && c.size > 0) {
          out.accept(b, c.take());
        }
      }
    }
  }

  /** Sets the coders of both outputs. */
  static Deduplicated withCoders(PCollectionTuple t, Schema schema) {
    t.get(UNIQUE).setCoder(CleanRowCoder.of(schema));
    t.get(DUPLICATES).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    return new Deduplicated(UNIQUE, DUPLICATES, t);
  }

  /** The key of a row as text: its key column values joined by U+0001. */
  public static String keyOf(Row row, List<String> key) {
    if (key.size() == 1) {
      Object v = row.getValue(key.get(0));
      return v == null ? NULL_TEXT : v.toString();
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < key.size(); i++) {
      if (i > 0) {
        sb.append('\u0001');
      }
      Object v = row.getValue(key.get(i));
      sb.append(v == null ? NULL_TEXT : v.toString());
    }
    return sb.toString();
  }

  /**
   * A NULL in {@link #keyOf}: a group column may be NULL (a key column never is), and NULL is its
   * own group, apart from the text "null". No clean text holds U+0000.
   */
  private static final String NULL_TEXT = "\u0000";

  /** The winning row of a key so far, and how many rows had that key. */
  static final class Winner {
    Row best;
    long count;

    /** Source file of each losing row, with how many lost; null while there are none. */
    Map<String, Long> losers;

    void lose(Row row, long n) {
      if (losers == null) {
        losers = new HashMap<>(4);
      }
      losers.merge(row.getString(DatasetDefinition.SOURCE_FILE), n, Long::sum);
    }
  }

  static final class WinnerCoder extends CustomCoder<Winner> {
    private final Coder<Row> rowCoder;

    WinnerCoder(Schema schema) {
      this.rowCoder = NullableCoder.of(CleanRowCoder.of(schema));
    }

    @Override
    public void encode(Winner w, OutputStream out) throws IOException {
      VarLongCoder.of().encode(w.count, out);
      rowCoder.encode(w.best, out);
      int n = w.losers == null ? 0 : w.losers.size();
      VarIntCoder.of().encode(n, out);
      if (n > 0) {
        for (Map.Entry<String, Long> e : w.losers.entrySet()) {
          StringUtf8Coder.of().encode(e.getKey(), out);
          VarLongCoder.of().encode(e.getValue(), out);
        }
      }
    }

    @Override
    public Winner decode(InputStream in) throws IOException {
      Winner w = new Winner();
      w.count = VarLongCoder.of().decode(in);
      w.best = rowCoder.decode(in);
      int n = VarIntCoder.of().decode(in);
      if (n > 0) {
        w.losers = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
          w.losers.put(StringUtf8Coder.of().decode(in), VarLongCoder.of().decode(in));
        }
      }
      return w;
    }
  }

  static final class KeepFirstFn extends Combine.CombineFn<Row, Winner, Winner> {
    private final Schema schema;

    KeepFirstFn(Schema schema) {
      this.schema = schema;
    }

    @Override
    public Winner createAccumulator() {
      return new Winner();
    }

    @Override
    public Winner addInput(Winner acc, Row row) {
      acc.count++;
      if (acc.best == null) {
        acc.best = row;
      } else if (before(row, acc.best)) {
        acc.lose(acc.best, 1);
        acc.best = row;
      } else {
        acc.lose(row, 1);
      }
      return acc;
    }

    @Override
    public Winner mergeAccumulators(Iterable<Winner> accs) {
      Winner merged = new Winner();
      for (Winner w : accs) {
        merged.count += w.count;
        if (w.losers != null) {
          for (Map.Entry<String, Long> e : w.losers.entrySet()) {
            if (merged.losers == null) {
              merged.losers = new HashMap<>(4);
            }
            merged.losers.merge(e.getKey(), e.getValue(), Long::sum);
          }
        }
        if (w.best == null) {
          continue;
        }
        if (merged.best == null) {
          merged.best = w.best;
        } else if (before(w.best, merged.best)) {
          merged.lose(merged.best, 1);
          merged.best = w.best;
        } else {
          merged.lose(w.best, 1);
        }
      }
      return merged;
    }

    @Override
    public Winner extractOutput(Winner acc) {
      return acc;
    }

    @Override
    public Coder<Winner> getAccumulatorCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return new WinnerCoder(schema);
    }

    @Override
    public Coder<Winner> getDefaultOutputCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return new WinnerCoder(schema);
    }

    static boolean before(Row a, Row b) {
      int c =
          a.getString(DatasetDefinition.SOURCE_FILE)
              .compareTo(b.getString(DatasetDefinition.SOURCE_FILE));
      if (c != 0) {
        return c < 0;
      }
      return a.getInt64(DatasetDefinition.SOURCE_LINE) < b.getInt64(DatasetDefinition.SOURCE_LINE);
    }
  }

  static final class DedupeBucketFn extends DoFn<KV<Integer, Iterable<Row>>, Row> {
    private final Counter validRows = Metrics.counter(DeduplicateByKey.class, "rows-valid");
    private final Counter duplicateRows = Metrics.counter(DeduplicateByKey.class, "rows-duplicate");
    private final List<String> key;

    DedupeBucketFn(List<String> key) {
      this.key = key;
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<Row>> bucket, MultiOutputReceiver out) {
      keepFirst(bucket.getValue(), key, out, validRows, duplicateRows);
    }
  }

  /** {@link DedupeBucketFn} over the rows of a bucket's packed chunks. */
  static final class DedupeChunksFn extends DoFn<KV<Integer, Iterable<byte[]>>, Row> {
    private final Counter validRows = Metrics.counter(DeduplicateByKey.class, "rows-valid");
    private final Counter duplicateRows = Metrics.counter(DeduplicateByKey.class, "rows-duplicate");
    private final List<String> key;
    private final CleanRowCoder coder;

    DedupeChunksFn(List<String> key, Schema schema) {
      this.key = key;
      this.coder = CleanRowCoder.of(schema);
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<byte[]>> bucket, MultiOutputReceiver out)
        throws IOException {
      keepFirst(unpack(bucket.getValue()), key, out, validRows, duplicateRows);
    }

    private Iterable<Row> unpack(Iterable<byte[]> chunks) throws IOException {
      List<Row> rows = new java.util.ArrayList<>();
      for (byte[] chunk : chunks) {
        ByteArrayInputStream in = new ByteArrayInputStream(chunk);
        while (in.available() > 0) {
          rows.add(coder.decode(in));
        }
      }
      return rows;
    }
  }

  /** Emits the winner of each key among {@code rows} and, per file, the count of its losers. */
  static void keepFirst(
      Iterable<Row> rows,
      List<String> key,
      DoFn.MultiOutputReceiver out,
      Counter validRows,
      Counter duplicateRows) {
    Map<String, Row> winners = new HashMap<>();
    Map<String, Long> losers = new HashMap<>();
    long seen = 0;
    for (Row r : rows) {
      seen++;
      winners.merge(
          keyOf(r, key),
          r,
          (a, b) -> {
            Row win = KeepFirstFn.before(b, a) ? b : a;
            losers.merge(
                (win == a ? b : a).getString(DatasetDefinition.SOURCE_FILE), 1L, Long::sum);
            return win;
          });
    }
    validRows.inc(winners.size());
    duplicateRows.inc(seen - winners.size());
    DoFn.OutputReceiver<Row> unique = out.get(UNIQUE);
    winners.values().forEach(unique::output);
    losers.forEach((file, n) -> out.get(DUPLICATES).output(KV.of(file, n)));
  }

  /** The winner of each key, counted; the losers are counted but not traced to their files. */
  static final class EmitWinnerOnlyFn extends DoFn<KV<String, Winner>, Row> {
    private final Counter validRows = Metrics.counter(DeduplicateByKey.class, "rows-valid");
    private final Counter duplicateRows = Metrics.counter(DeduplicateByKey.class, "rows-duplicate");

    @ProcessElement
    public void process(@Element KV<String, Winner> kv, OutputReceiver<Row> out) {
      Winner w = kv.getValue();
      if (w.best == null) {
        return; // an empty pane of an unbounded input
      }
      validRows.inc();
      if (w.count > 1) {
        duplicateRows.inc(w.count - 1);
      }
      out.output(w.best);
    }
  }

  static final class EmitWinnerFn extends DoFn<KV<String, Winner>, Row> {
    private final Counter validRows = Metrics.counter(DeduplicateByKey.class, "rows-valid");
    private final Counter duplicateRows = Metrics.counter(DeduplicateByKey.class, "rows-duplicate");

    @ProcessElement
    public void process(@Element KV<String, Winner> kv, MultiOutputReceiver out) {
      Winner w = kv.getValue();
      if (w.best == null) {
        return; // an empty pane of an unbounded input: nothing arrived since the last firing
      }
      validRows.inc();
      if (w.count > 1) {
        duplicateRows.inc(w.count - 1);
      }
      out.get(UNIQUE).output(w.best);
      if (w.losers != null) {
        w.losers.forEach((file, n) -> out.get(DUPLICATES).output(KV.of(file, n)));
      }
    }
  }
}
