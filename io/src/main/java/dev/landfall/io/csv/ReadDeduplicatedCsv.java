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
import org.apache.beam.sdk.Pipeline;
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
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.PInput;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.PValue;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * A backfill's reading and de-duplication in two passes over the files, so that whole rows are
 * never shuffled. The first pass ({@code FindKeys}) reads and validates every file, emits its dead
 * letters and item counts, and hands on only each clean row's key and position; {@link
 * FindDuplicateLines} finds the lines that lose their key (the smallest {@code (source_file,
 * source_line)} wins, as in {@link DeduplicateByKey}); the second pass ({@code ReadWinners}) reads
 * each file again, together with its losing lines, and emits its winning rows in line order, each
 * input file's rows together. Each file goes to the second pass's worker that {@link
 * BalancedFileKeys} chose for it, so that the workers read about as many records each.
 *
 * <p>The result ({@link Result}) is the same as {@link ReadCsvFiles#validated} followed by {@link
 * DeduplicateByKey#withDuplicateCounts()}: the winners, the dead letters, the files' item counts
 * and each file's losing rows, with the same counters, each counted once. Reading and validating
 * twice costs less than encoding, sorting and decoding every whole row. The second pass has a
 * single output, so on Flink it is chained to the steps after it and its rows are never serialized:
 * a step with several outputs sends each element, serialized, to every output's consumer.
 *
 * <p>For a bounded set of files (a backfill): the files must not change between the passes, as the
 * ledger's claim guarantees for files it lets through; a file that did fails the step.
 */
public class ReadDeduplicatedCsv
    extends PTransform<PCollection<FileIO.ReadableFile>, ReadDeduplicatedCsv.Result> {
  private static final TupleTag<Row> CLEAN = new TupleTag<Row>() {};
  private static final TupleTag<Row> REJECTS = new TupleTag<Row>() {};
  private static final TupleTag<KV<String, Long>> FILE_ITEMS = InputFiles.FILE_ITEMS;
  private static final TupleTag<KV<String, Long>> DUPLICATES = new TupleTag<KV<String, Long>>() {};

  private static final TupleTag<KV<String, Long>> KEYS = new TupleTag<KV<String, Long>>() {};
  private static final TupleTag<KV<Integer, byte[]>> PACKED_KEYS =
      new TupleTag<KV<Integer, byte[]>>() {};
  private static final TupleTag<FileIO.ReadableFile> FILE = new TupleTag<FileIO.ReadableFile>() {};
  private static final TupleTag<Long> LOSING_LINES = new TupleTag<Long>() {};

  private final DatasetDefinition definition;
  private final int buckets;
  private final int workers;

  public ReadDeduplicatedCsv(DatasetDefinition definition) {
    this(definition, 0, 1);
  }

  private ReadDeduplicatedCsv(DatasetDefinition definition, int buckets, int workers) {
    this.definition = definition;
    this.buckets = buckets;
    this.workers = workers;
  }

  /** De-duplicates in {@code buckets} hash buckets (0: per key); see {@link FindDuplicateLines}. */
  public ReadDeduplicatedCsv inBuckets(int buckets) {
    return new ReadDeduplicatedCsv(definition, buckets, workers);
  }

  /**
   * Spreads the second pass's files evenly, by their record counts, over {@code workers} workers of
   * the FlinkRunner (its parallelism; see {@link BalancedFileKeys}); 1 (the default) keys each file
   * by its rank.
   */
  public ReadDeduplicatedCsv balancedOver(int workers) {
    return new ReadDeduplicatedCsv(definition, buckets, workers);
  }

  @Override
  public Result expand(PCollection<FileIO.ReadableFile> files) {
    PCollectionView<List<String>> names =
        files
            .apply(
                "FileNames",
                MapElements.into(TypeDescriptors.strings())
                    .via((FileIO.ReadableFile f) -> f.getMetadata().resourceId().toString()))
            .apply("SortedFileNames", Combine.globally(new SortedNamesFn()).asSingletonView());

    // In buckets, the first pass packs the keys itself: only chunks leave it, not one element
    // per row (on Flink every element of a step with several outputs is serialized per output).
    PCollectionTuple firstPass =
        files.apply(
            "FindKeys",
            ParDo.of(new FindKeysFn(definition, names, buckets))
                .withSideInputs(names)
                .withOutputTags(
                    FILE_ITEMS, TupleTagList.of(buckets > 0 ? PACKED_KEYS : KEYS).and(REJECTS)));
    PCollection<KV<Integer, Long>> losing =
        buckets > 0
            ? firstPass
                .get(PACKED_KEYS)
                .setCoder(FindDuplicateLines.PACKED_CODER)
                .apply("FindDuplicateLines", FindDuplicateLines.fromPacked())
            : firstPass
                .get(KEYS)
                .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()))
                .apply("FindDuplicateLines", new FindDuplicateLines());
    PCollection<KV<String, Long>> items =
        firstPass.get(FILE_ITEMS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));

    // Each file and its losing lines under the key that sends them to the worker chosen for it.
    PCollectionView<Map<String, Long>> records = items.apply("RecordsPerFile", View.asMap());
    SecondPassKeys keys = new SecondPassKeys(names, records, workers);
    PCollection<KV<Integer, FileIO.ReadableFile>> keyedFiles =
        files
            .apply(
                "KeyFilesForSecondPass",
                ParDo.of(new FileKeyFn(keys)).withSideInputs(names, records))
            .setCoder(KvCoder.of(VarIntCoder.of(), ReadableFileCoder.of()));
    PCollection<KV<Integer, Long>> keyedLosing =
        losing
            .apply(
                "KeyLosingLinesForSecondPass",
                ParDo.of(new LosingLineKeyFn(keys)).withSideInputs(names, records))
            .setCoder(KvCoder.of(VarIntCoder.of(), VarLongCoder.of()));

    PCollection<Row> winners =
        KeyedPCollectionTuple.of(FILE, keyedFiles)
            .and(LOSING_LINES, keyedLosing)
            .apply("FileWithItsLosingLines", CoGroupByKey.create())
            .apply("ReadWinners", ParDo.of(new ReadWinnersFn(definition)))
            .setCoder(DatasetSchemas.cleanCoder(definition));
    PCollection<KV<String, Long>> duplicates =
        losing
            .apply("LosingLinesPerFile", Count.perKey())
            .apply("ByFileName", ParDo.of(new FileNameFn(names)).withSideInputs(names))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    return new Result(
        PCollectionTuple.of(CLEAN, winners)
            .and(REJECTS, firstPass.get(REJECTS).setRowSchema(DatasetSchemas.REJECT))
            .and(FILE_ITEMS, items)
            .and(DUPLICATES, duplicates));
  }

  /**
   * What {@link ReadDeduplicatedCsv} hands on: the winning rows, one per key, each input file's
   * rows together in line order ({@link #unique()}); every dead letter, of whole files and of
   * single records ({@link #rejects()}); per file once it is read, its records and dead letters
   * ({@link #fileItems()}); per file, how many of its rows lost their key ({@link #duplicates()},
   * only files with at least one).
   */
  public static final class Result implements POutput {
    private final PCollectionTuple outputs;

    Result(PCollectionTuple outputs) {
      this.outputs = outputs;
    }

    public PCollection<Row> unique() {
      return outputs.get(CLEAN);
    }

    public PCollection<Row> rejects() {
      return outputs.get(REJECTS);
    }

    public PCollection<KV<String, Long>> fileItems() {
      return outputs.get(FILE_ITEMS);
    }

    public PCollection<KV<String, Long>> duplicates() {
      return outputs.get(DUPLICATES);
    }

    @Override
    public Pipeline getPipeline() {
      return outputs.getPipeline();
    }

    @Override
    public Map<TupleTag<?>, PValue> expand() {
      return outputs.expand();
    }

    @Override
    public void finishSpecifyingOutput(
        String transformName, PInput input, PTransform<?, ?> transform) {
      // Each collection was finished by the step that produced it.
    }
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

  /**
   * The second pass's grouping key of each file rank ({@link BalancedFileKeys}), built once per
   * value of the side inputs (the sorted file names and the records per file).
   */
  static final class SecondPassKeys implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final PCollectionView<List<String>> names;
    private final PCollectionView<Map<String, Long>> records;
    private final int workers;
    private transient List<String> knownNames;
    private transient Map<String, Long> knownRecords;
    private transient Map<String, Integer> ranks;
    private transient int[] keys;

    SecondPassKeys(
        PCollectionView<List<String>> names,
        PCollectionView<Map<String, Long>> records,
        int workers) {
      this.names = names;
      this.records = records;
      this.workers = workers;
    }

    private void refresh(DoFn<?, ?>.ProcessContext c) {
      List<String> all = c.sideInput(names);
      Map<String, Long> counts = c.sideInput(records);
      if (all != knownNames || counts != knownRecords) {
        Map<String, Integer> m = new HashMap<>(all.size() * 2);
        for (int i = 0; i < all.size(); i++) {
          m.put(all.get(i), i);
        }
        keys = BalancedFileKeys.keys(all, counts, workers);
        ranks = m;
        knownNames = all;
        knownRecords = counts;
      }
    }

    int ofRank(int rank, DoFn<?, ?>.ProcessContext c) {
      refresh(c);
      return keys[rank];
    }

    int ofPath(String path, DoFn<?, ?>.ProcessContext c) {
      refresh(c);
      Integer rank = ranks.get(path);
      if (rank == null) {
        throw new IllegalStateException("file " + path + " is not in the run's list of files");
      }
      return keys[rank];
    }
  }

  /** A file under its second-pass key. */
  static final class FileKeyFn extends DoFn<FileIO.ReadableFile, KV<Integer, FileIO.ReadableFile>> {
    private final SecondPassKeys keys;

    FileKeyFn(SecondPassKeys keys) {
      this.keys = keys;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      FileIO.ReadableFile file = c.element();
      c.output(KV.of(keys.ofPath(file.getMetadata().resourceId().toString(), c), file));
    }
  }

  /** A losing line (keyed by its file's rank) under its file's second-pass key. */
  static final class LosingLineKeyFn extends DoFn<KV<Integer, Long>, KV<Integer, Long>> {
    private final SecondPassKeys keys;

    LosingLineKeyFn(SecondPassKeys keys) {
      this.keys = keys;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      c.output(KV.of(keys.ofRank(c.element().getKey(), c), c.element().getValue()));
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
      RecordValidator.Receiver rows =
          new RecordValidator.Receiver() {
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
      long items =
          reader.read(
              file,
              path,
              CsvFileReader.Records.validating(validator, rows, dead -> c.output(REJECTS, dead)));
      c.output(FILE_ITEMS, KV.of(path, items));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      if (packer != null) {
        packer.flush(
            (b, chunk) ->
                context.output(
                    PACKED_KEYS,
                    KV.of(b, chunk),
                    GlobalWindow.INSTANCE.maxTimestamp(),
                    GlobalWindow.INSTANCE));
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
        throw new IllegalStateException(
            "losing lines under second-pass key " + joined.getKey() + " but no file");
      }
      long[] losing = sortedLines(joined.getValue().getAll(LOSING_LINES));
      String path = file.getMetadata().resourceId().toString();
      long[] counts = new long[2]; // winners, duplicates
      RecordValidator.Receiver rows =
          new RecordValidator.Receiver() {
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
      reader.read(
          file,
          path,
          CsvFileReader.Records.validating(
              validator,
              rows,
              dead -> {
                // The first pass emitted it.
              }));
      if (counts[1] != losing.length) {
        // The file changed between the passes: its rows can no longer be told apart safely.
        throw new IllegalStateException(
            "file "
                + path
                + " changed while it was read: "
                + losing.length
                + " of its lines lost their key in the first pass, "
                + counts[1]
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
