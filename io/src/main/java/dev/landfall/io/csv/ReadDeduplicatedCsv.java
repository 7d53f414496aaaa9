package dev.landfall.io.csv;

import dev.landfall.io.input.InputFiles;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.FindDuplicateLines;
import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.ReadableFileCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * A backfill's reading and de-duplication in two passes over the files, so that whole rows are
 * never shuffled. The first pass ({@code FindKeys}) reads and validates every file, emits its dead
 * letters and item counts, and hands on only each clean row's key and position; {@link
 * FindDuplicateLines} finds the lines that lose their key (the smallest {@code (source_file,
 * source_line)} wins, as in {@link DeduplicateByKey}); the second pass ({@code ReadWinners})
 * reads each file again, together with its losing lines, and emits its winning rows in line
 * order, each input file's rows together.
 *
 * <p>The result is the same as {@link ReadCsvFiles#validated()} followed by {@link
 * DeduplicateByKey}: outputs {@link #CLEAN} (the winners), {@link #REJECTS}, {@link #FILE_ITEMS}
 * and, {@link #withDuplicateCounts() if asked for}, {@link #DUPLICATES}, with the same counters,
 * each counted once. Reading and validating twice costs less than encoding, sorting and decoding
 * every whole row. The second pass has a single output, so on Flink it is chained to the steps
 * after it and its rows are never serialized: a step with several outputs sends each element,
 * serialized, to every output's consumer.
 *
 * <p>For a bounded set of files (a backfill): the files must not change between the passes, as
 * the ledger's claim guarantees for files it lets through; a file that did fails the step.
 */
public class ReadDeduplicatedCsv
    extends PTransform<PCollection<FileIO.ReadableFile>, PCollectionTuple> {
  public static final TupleTag<Row> CLEAN = ReadCsvFiles.CLEAN;
  public static final TupleTag<Row> REJECTS = ReadCsvFiles.REJECTS;
  public static final TupleTag<KV<String, Long>> FILE_ITEMS = InputFiles.FILE_ITEMS;
  public static final TupleTag<KV<String, Long>> DUPLICATES = DeduplicateByKey.DUPLICATES;

  private static final TupleTag<KV<String, Long>> KEYS = new TupleTag<KV<String, Long>>() {};
  private static final TupleTag<KV<Integer, byte[]>> PACKED_KEYS =
      new TupleTag<KV<Integer, byte[]>>() {};
  private static final TupleTag<FileIO.ReadableFile> FILE = new TupleTag<FileIO.ReadableFile>() {};
  private static final TupleTag<Long> LOSING_LINES = new TupleTag<Long>() {};

  private final DatasetDefinition definition;
  private final int buckets;
  private final boolean duplicateCounts;

  public ReadDeduplicatedCsv(DatasetDefinition definition) {
    this(definition, 0, false);
  }

  private ReadDeduplicatedCsv(DatasetDefinition definition, int buckets, boolean duplicateCounts) {
    this.definition = definition;
    this.buckets = buckets;
    this.duplicateCounts = duplicateCounts;
  }

  /** De-duplicates in {@code buckets} hash buckets (0: per key); see {@link FindDuplicateLines}. */
  public ReadDeduplicatedCsv inBuckets(int buckets) {
    return new ReadDeduplicatedCsv(definition, buckets, duplicateCounts);
  }

  /** Also emits, per input file, how many of its rows lost their key ({@link #DUPLICATES}). */
  public ReadDeduplicatedCsv withDuplicateCounts() {
    return new ReadDeduplicatedCsv(definition, buckets, true);
  }

  @Override
  public PCollectionTuple expand(PCollection<FileIO.ReadableFile> files) {
    PCollectionView<List<String>> names = files
        .apply("FileNames", MapElements.into(TypeDescriptors.strings())
            .via((FileIO.ReadableFile f) -> f.getMetadata().resourceId().toString()))
        .apply("SortedFileNames", Combine.globally(new SortedNamesFn()).asSingletonView());

    // In buckets, the first pass packs the keys itself: only chunks leave it, not one element
    // per row (on Flink every element of a step with several outputs is serialized per output).
    PCollectionTuple firstPass = files.apply("FindKeys",
        ParDo.of(new FindKeysFn(definition, names, buckets)).withSideInputs(names)
            .withOutputTags(FILE_ITEMS,
                TupleTagList.of(buckets > 0 ? PACKED_KEYS : KEYS).and(REJECTS)));
    PCollection<KV<Integer, Long>> losing = buckets > 0
        ? firstPass.get(PACKED_KEYS).setCoder(FindDuplicateLines.PACKED_CODER)
            .apply("FindDuplicateLines", FindDuplicateLines.fromPacked())
        : firstPass.get(KEYS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()))
            .apply("FindDuplicateLines", new FindDuplicateLines());
    PCollection<KV<Integer, FileIO.ReadableFile>> ranked = files
        .apply("RankFiles", ParDo.of(new RankFn(names)).withSideInputs(names))
        .setCoder(KvCoder.of(VarIntCoder.of(), ReadableFileCoder.of()));

    PCollection<Row> winners = KeyedPCollectionTuple.of(FILE, ranked).and(LOSING_LINES, losing)
        .apply("FileWithItsLosingLines", CoGroupByKey.create())
        .apply("ReadWinners", ParDo.of(new ReadWinnersFn(definition)))
        .setCoder(DatasetSchemas.cleanCoder(definition));
    PCollectionTuple out = PCollectionTuple.of(CLEAN, winners)
        .and(REJECTS, firstPass.get(REJECTS).setRowSchema(DatasetSchemas.REJECT))
        .and(FILE_ITEMS, firstPass.get(FILE_ITEMS)
            .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())));
    if (duplicateCounts) {
      out = out.and(DUPLICATES, losing
          .apply("LosingLinesPerFile", Count.perKey())
          .apply("ByFileName", ParDo.of(new FileNameFn(names)).withSideInputs(names))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())));
    }
    return out;
  }

  /** The names of all files, sorted: a file's rank is its place in this list. */
  static final class SortedNamesFn extends Combine.CombineFn<String, List<String>, List<String>> {
    @Override
    public List<String> createAccumulator() {
      return new ArrayList<>();
    }

    @Override
    public List<String> addInput(List<String> acc, String name) {
      acc.add(name);
      return acc;
    }

    @Override
    public List<String> mergeAccumulators(Iterable<List<String>> accs) {
      List<String> merged = new ArrayList<>();
      accs.forEach(merged::addAll);
      return merged;
    }

    @Override
    public List<String> extractOutput(List<String> acc) {
      List<String> sorted = new ArrayList<>(acc);
      Collections.sort(sorted);
      return sorted;
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<List<String>> getAccumulatorCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry,
        org.apache.beam.sdk.coders.Coder<String> inputCoder) {
      return ListCoder.of(StringUtf8Coder.of());
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<List<String>> getDefaultOutputCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry,
        org.apache.beam.sdk.coders.Coder<String> inputCoder) {
      return ListCoder.of(StringUtf8Coder.of());
    }
  }

  /** Rank by file name, built once per side-input value. */
  abstract static class RankedFn<O> extends DoFn<FileIO.ReadableFile, O> {
    private final PCollectionView<List<String>> names;
    private transient List<String> known;
    private transient Map<String, Integer> ranks;

    RankedFn(PCollectionView<List<String>> names) {
      this.names = names;
    }

    int rankOf(String path, ProcessContext c) {
      List<String> all = c.sideInput(names);
      if (all != known) {
        Map<String, Integer> m = new HashMap<>(all.size() * 2);
        for (int i = 0; i < all.size(); i++) {
          m.put(all.get(i), i);
        }
        ranks = m;
        known = all;
      }
      Integer rank = ranks.get(path);
      if (rank == null) {
        throw new IllegalStateException("file " + path + " is not in the run's list of files");
      }
      return rank;
    }
  }

  static final class RankFn extends RankedFn<KV<Integer, FileIO.ReadableFile>> {
    RankFn(PCollectionView<List<String>> names) {
      super(names);
    }

    @ProcessElement
    public void process(ProcessContext c) {
      FileIO.ReadableFile file = c.element();
      c.output(KV.of(rankOf(file.getMetadata().resourceId().toString(), c), file));
    }
  }

  /** The file name of a file rank's count. */
  static final class FileNameFn extends DoFn<KV<Integer, Long>, KV<String, Long>> {
    private final PCollectionView<List<String>> names;

    FileNameFn(PCollectionView<List<String>> names) {
      this.names = names;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      c.output(KV.of(c.sideInput(names).get(c.element().getKey()), c.element().getValue()));
    }
  }

  /**
   * First pass: the key and position of every clean row, the dead letters of rows and files, and
   * each file's item count; the reading counters are counted here.
   */
  static final class FindKeysFn extends RankedFn<KV<String, Long>> {
    private final CsvFileReader reader;
    private final RecordValidator validator;
    private final List<String> key;
    private final int buckets;
    private transient FindDuplicateLines.Packer packer;

    FindKeysFn(DatasetDefinition def, PCollectionView<List<String>> names, int buckets) {
      super(names);
      this.reader = new CsvFileReader(def, true);
      this.validator = new RecordValidator(def);
      this.key = def.key;
      this.buckets = buckets;
    }

    @Setup
    public void setup() {
      reader.setup();
      validator.setup();
      if (buckets > 0) {
        packer = new FindDuplicateLines.Packer(buckets);
      }
    }

    @ProcessElement
    public void process(ProcessContext c) {
      FileIO.ReadableFile file = c.element();
      String path = file.getMetadata().resourceId().toString();
      int rank = rankOf(path, c);
      FindDuplicateLines.Packer.Emit emit = (b, chunk) -> c.output(PACKED_KEYS, KV.of(b, chunk));
      RecordValidator.Receiver rows = new RecordValidator.Receiver() {
        @Override
        public void clean(Row row) {
          String k = DeduplicateByKey.keyOf(row, key);
          long position =
              FindDuplicateLines.position(rank, row.getInt64(DatasetDefinition.SOURCE_LINE));
          if (packer != null) {
            packer.add(k, position, emit);
          } else {
            c.output(KEYS, KV.of(k, position));
          }
        }

        @Override
        public void rejected(Row deadLetter) {
          c.output(REJECTS, deadLetter);
        }
      };
      long items = reader.read(file, path,
          CsvFileReader.Records.validating(validator, rows, dead -> c.output(REJECTS, dead)));
      c.output(FILE_ITEMS, KV.of(path, items));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      if (packer != null) {
        packer.flush((b, chunk) -> context.output(PACKED_KEYS, KV.of(b, chunk),
            GlobalWindow.INSTANCE.maxTimestamp(), GlobalWindow.INSTANCE));
      }
    }
  }

  /**
   * Second pass: a file's winning rows in line order. Its dead letters and the reading counters
   * came from the first pass; this one counts the winners and the duplicates.
   */
  static final class ReadWinnersFn extends DoFn<KV<Integer, CoGbkResult>, Row> {
    private final Counter validRows = Metrics.counter(DeduplicateByKey.class, "rows-valid");
    private final Counter duplicateRows = Metrics.counter(DeduplicateByKey.class, "rows-duplicate");
    private final CsvFileReader reader;
    private final RecordValidator validator;

    ReadWinnersFn(DatasetDefinition def) {
      this.reader = new CsvFileReader(def, false);
      this.validator = new RecordValidator(def).uncounted();
    }

    @Setup
    public void setup() {
      reader.setup();
      validator.setup();
    }

    @ProcessElement
    public void process(@Element KV<Integer, CoGbkResult> joined, OutputReceiver<Row> out) {
      FileIO.ReadableFile file = joined.getValue().getOnly(FILE, null);
      if (file == null) {
        throw new IllegalStateException("losing lines for file rank " + joined.getKey()
            + " but no such file");
      }
      long[] losing = sortedLines(joined.getValue().getAll(LOSING_LINES));
      String path = file.getMetadata().resourceId().toString();
      long[] counts = new long[2]; // winners, duplicates
      RecordValidator.Receiver rows = new RecordValidator.Receiver() {
        private int next;

        @Override
        public void clean(Row row) {
          long line = row.getInt64(DatasetDefinition.SOURCE_LINE);
          while (next < losing.length && losing[next] < line) {
            next++;
          }
          if (next < losing.length && losing[next] == line) {
            counts[1]++;
          } else {
            counts[0]++;
            out.output(row);
          }
        }

        @Override
        public void rejected(Row deadLetter) {
          // The first pass emitted it.
        }
      };
      reader.read(file, path, CsvFileReader.Records.validating(validator, rows, dead -> {
        // The first pass emitted it.
      }));
      if (counts[1] != losing.length) {
        // The file changed between the passes: its rows can no longer be told apart safely.
        throw new IllegalStateException("file " + path + " changed while it was read: "
            + losing.length + " of its lines lost their key in the first pass, " + counts[1]
            + " were found in the second");
      }
      validRows.inc(counts[0]);
      duplicateRows.inc(counts[1]);
    }

    private static long[] sortedLines(Iterable<Long> lines) {
      long[] a = new long[16];
      int n = 0;
      for (long line : lines) {
        if (n == a.length) {
          a = Arrays.copyOf(a, n * 2);
        }
        a[n++] = line;
      }
      a = Arrays.copyOf(a, n);
      Arrays.sort(a);
      return a;
    }
  }
}
