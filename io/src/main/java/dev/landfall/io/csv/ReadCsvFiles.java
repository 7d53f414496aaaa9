package dev.landfall.io.csv;

import static dev.landfall.io.input.InputFiles.FILE_ITEMS;

import dev.landfall.io.input.InputRead;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.function.BiConsumer;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads CSV files with RFC 4180 rules (Apache Commons CSV: quoted delimiters, doubled quotes, line
 * breaks inside quotes, CRLF, LF or CR, a UTF-8 BOM, spaces around quoted values; blank lines are
 * skipped), and validates each record as it is read (the definition's types and rules, {@link
 * RecordValidator}). Columns are matched to the definition by header name (trimmed, case ignored);
 * unknown columns are ignored, logged and counted once per file ({@code
 * files-with-unknown-columns}). A file that cannot be used as a whole (no header, a required column
 * missing from the header, a bad partition folder, corrupt gzip) yields one dead letter and no
 * records; a file that breaks part-way (bytes that are not UTF-8, broken quoting) yields one dead
 * letter at the first line it cannot read, and the records before it are kept. Its counters and
 * partition handling are {@link dev.landfall.io.input.InputFiles}', shared with the Parquet reader.
 *
 * <p>Two readers, one contract each, both returning an {@link InputRead}: {@link #validated} emits
 * the clean rows one by one, {@link #packedInBuckets} packs each file's clean rows into chunks per
 * hash bucket of their key (for {@code DeduplicateByKey.packed}). Validation happens in the reading
 * step: on Flink's batch translation a step's elements are serialized once for each of its outputs,
 * so raw records handed to a separate validation step would be serialized three more times.
 */
public final class ReadCsvFiles {
  private static final TupleTag<Row> CLEAN = new TupleTag<Row>() {};
  private static final TupleTag<Row> REJECTS = new TupleTag<Row>() {};
  private static final TupleTag<KV<Integer, byte[]>> PACKED =
      new TupleTag<KV<Integer, byte[]>>() {};

  private ReadCsvFiles() {}

  /**
   * Reads and validates: the clean rows (schema {@code DatasetSchemas.clean}), every dead letter
   * (whole files and single records) and the files' item counts.
   */
  public static Validated validated(DatasetDefinition definition) {
    return new Validated(definition);
  }

  /**
   * Reads and validates, and packs each file's clean rows into chunks per hash bucket of their key
   * ({@link DeduplicateByKey.Packer}, {@code buckets} buckets) as they are read; a file's last
   * chunks go out with it, so no row waits for the next file.
   */
  public static Packed packedInBuckets(DatasetDefinition definition, int buckets) {
    if (buckets <= 0) {
      throw new IllegalArgumentException("buckets must be positive: " + buckets);
    }
    return new Packed(definition, buckets);
  }

  /** {@link #validated}. */
  public static final class Validated
      extends PTransform<PCollection<FileIO.ReadableFile>, InputRead<Row>> {
    private final DatasetDefinition definition;

    private Validated(DatasetDefinition definition) {
      this.definition = definition;
    }

    @Override
    public InputRead<Row> expand(PCollection<FileIO.ReadableFile> files) {
      PCollectionTuple out =
          files.apply(
              "ParseAndValidateRecords",
              ParDo.of(new ReadCsvFileFn(definition, null))
                  .withOutputTags(CLEAN, TupleTagList.of(REJECTS).and(FILE_ITEMS)));
      return InputRead.of(
          CLEAN,
          out.get(CLEAN).setCoder(DatasetSchemas.cleanCoder(definition)),
          REJECTS,
          out.get(REJECTS),
          out.get(FILE_ITEMS));
    }
  }

  /** {@link #packedInBuckets}. */
  public static final class Packed
      extends PTransform<PCollection<FileIO.ReadableFile>, InputRead<KV<Integer, byte[]>>> {
    private final DatasetDefinition definition;
    private final int buckets;

    private Packed(DatasetDefinition definition, int buckets) {
      this.definition = definition;
      this.buckets = buckets;
    }

    @Override
    public InputRead<KV<Integer, byte[]>> expand(PCollection<FileIO.ReadableFile> files) {
      PCollectionTuple out =
          files.apply(
              "ParseValidateAndPack",
              ParDo.of(
                      new ReadCsvFileFn(
                          definition, new DeduplicateByKey.Packer(definition, buckets)))
                  .withOutputTags(REJECTS, TupleTagList.of(PACKED).and(FILE_ITEMS)));
      return InputRead.of(
          PACKED,
          out.get(PACKED).setCoder(DeduplicateByKey.chunkCoder()),
          REJECTS,
          out.get(REJECTS),
          out.get(FILE_ITEMS));
    }
  }

  /** Reads and validates each file; clean rows go out one by one, or packed ({@code packer}). */
  static class ReadCsvFileFn extends DoFn<FileIO.ReadableFile, Row> {
    private final CsvFileReader reader;
    private final RecordValidator validator;

    /** Packs the clean rows (output PACKED); null: they go out one by one on CLEAN. */
    private final DeduplicateByKey.Packer packer;

    ReadCsvFileFn(DatasetDefinition def, DeduplicateByKey.Packer packer) {
      this.reader = new CsvFileReader(def, true);
      this.validator = new RecordValidator(def);
      this.packer = packer;
    }

    @Setup
    public void setup() {
      reader.setup();
      validator.setup();
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) {
      String path = file.getMetadata().resourceId().toString();
      long items = reader.read(file, path, packer != null ? packed(out) : validated(out));
      if (packer != null) {
        // Every chunk of this file goes out with the file: no row waits for the next one.
        OutputReceiver<KV<Integer, byte[]>> chunks = out.get(PACKED);
        packer.flush((bucket, chunk) -> chunks.output(KV.of(bucket, chunk)));
      }
      out.get(FILE_ITEMS).output(KV.of(path, items));
    }

    private CsvFileReader.Records packed(MultiOutputReceiver out) {
      OutputReceiver<Row> rejects = out.get(REJECTS);
      OutputReceiver<KV<Integer, byte[]>> chunks = out.get(PACKED);
      BiConsumer<Integer, byte[]> full = (bucket, chunk) -> chunks.output(KV.of(bucket, chunk));
      return CsvFileReader.Records.validating(
          validator,
          new RecordValidator.Receiver() {
            @Override
            public void clean(Row row) {
              packer.add(row, full);
            }

            @Override
            public void rejected(Row deadLetter) {
              rejects.output(deadLetter);
            }
          },
          rejects::output);
    }

    private CsvFileReader.Records validated(MultiOutputReceiver out) {
      OutputReceiver<Row> rejects = out.get(REJECTS);
      return CsvFileReader.Records.validating(
          validator, RecordValidator.Receiver.to(out.get(CLEAN), rejects), rejects::output);
    }
  }
}
