package dev.landfall.io.csv;

import static dev.landfall.io.input.InputFiles.FILE_ITEMS;
import static dev.landfall.io.input.InputFiles.FILE_REJECTS;
import static dev.landfall.io.input.InputFiles.RECORDS;

import dev.landfall.io.input.InputFiles;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
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
 * skipped) into raw records ({@link DatasetSchemas#RAW}). Columns are matched to the definition by
 * header name (trimmed, case ignored); unknown columns are ignored, logged and counted once per
 * file ({@code files-with-unknown-columns}). A file that cannot be used as a whole (no header, a
 * required column missing from the header, a bad partition folder, corrupt gzip) yields one dead
 * letter on {@link InputFiles#FILE_REJECTS} and no records; a file that breaks part-way (bytes that
 * are not UTF-8, broken quoting) yields one dead letter at the first line it cannot read, and the
 * records before it are kept. Its outputs, counters and partition handling are {@link InputFiles}',
 * shared with the Parquet reader.
 *
 * <p>{@link #validated()} also applies {@link ParseAndValidate}'s check to each record as it is
 * read, and emits {@link #CLEAN} rows and {@link #REJECTS} (file-level and row-level dead letters
 * together) instead of raw records. The result is the same as {@code ReadCsvFiles} followed by
 * {@code ParseAndValidate}, with one step fewer. On Flink's batch translation a step's elements are
 * serialized once for each of its outputs (every output is a consumer of the step), so raw records
 * handed to a separate validation step are serialized three more times.
 */
public class ReadCsvFiles extends PTransform<PCollection<FileIO.ReadableFile>, PCollectionTuple> {
  /** With {@link #validated()}: the clean rows (schema {@code DatasetSchemas.clean}). */
  public static final TupleTag<Row> CLEAN = ParseAndValidate.CLEAN;

  /** With {@link #validated()}: every dead letter, of whole files and of single records. */
  public static final TupleTag<Row> REJECTS = new TupleTag<Row>() {};

  /**
   * With {@link #packedInBuckets(int)}: the clean rows of each file packed into chunks per hash
   * bucket of their key, for {@code DeduplicateByKey.packed}.
   */
  public static final TupleTag<KV<Integer, byte[]>> PACKED = new TupleTag<KV<Integer, byte[]>>() {};

  private final DatasetDefinition definition;
  private final boolean validated;
  private final int packBuckets;

  public ReadCsvFiles(DatasetDefinition definition) {
    this(definition, false, 0);
  }

  private ReadCsvFiles(DatasetDefinition definition, boolean validated, int packBuckets) {
    this.definition = definition;
    this.validated = validated;
    this.packBuckets = packBuckets;
  }

  /**
   * Reads and validates in one step; the outputs are {@link #CLEAN}, {@link #REJECTS} and {@link
   * InputFiles#FILE_ITEMS}.
   */
  public ReadCsvFiles validated() {
    return new ReadCsvFiles(definition, true, 0);
  }

  /**
   * Reads and validates in one step, and packs each file's clean rows into chunks per hash bucket
   * ({@link DeduplicateByKey.Packer}) as they are read; the outputs are {@link #PACKED}, {@link
   * #REJECTS} and {@link InputFiles#FILE_ITEMS}.
   */
  public ReadCsvFiles packedInBuckets(int buckets) {
    return new ReadCsvFiles(definition, true, buckets);
  }

  @Override
  public PCollectionTuple expand(PCollection<FileIO.ReadableFile> files) {
    if (packBuckets > 0) {
      PCollectionTuple out =
          files.apply(
              "ParseValidateAndPack",
              ParDo.of(
                      new ReadCsvFileFn(
                          definition,
                          new RecordValidator(definition),
                          new DeduplicateByKey.Packer(definition, packBuckets)))
                  .withOutputTags(REJECTS, TupleTagList.of(PACKED).and(FILE_ITEMS)));
      out.get(PACKED).setCoder(DeduplicateByKey.chunkCoder());
      out.get(REJECTS).setRowSchema(DatasetSchemas.REJECT);
      out.get(FILE_ITEMS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
      return out;
    }
    if (validated) {
      PCollectionTuple out =
          files.apply(
              "ParseAndValidateRecords",
              ParDo.of(new ReadCsvFileFn(definition, new RecordValidator(definition)))
                  .withOutputTags(CLEAN, TupleTagList.of(REJECTS).and(FILE_ITEMS)));
      out.get(CLEAN).setCoder(DatasetSchemas.cleanCoder(definition));
      out.get(REJECTS).setRowSchema(DatasetSchemas.REJECT);
      out.get(FILE_ITEMS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
      return out;
    }
    PCollectionTuple out =
        files.apply(
            "ParseCsvRecords",
            ParDo.of(new ReadCsvFileFn(definition, null))
                .withOutputTags(RECORDS, TupleTagList.of(FILE_REJECTS).and(FILE_ITEMS)));
    out.get(RECORDS).setRowSchema(DatasetSchemas.RAW);
    out.get(FILE_REJECTS).setRowSchema(DatasetSchemas.REJECT);
    out.get(FILE_ITEMS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    return out;
  }

  static class ReadCsvFileFn extends DoFn<FileIO.ReadableFile, Row> {
    private final CsvFileReader reader;

    /** Applied to each record as it is read; null: raw records go out on RECORDS. */
    private final RecordValidator validator;

    /** Packs the clean rows (output PACKED); null: they go out one by one on CLEAN. */
    private final DeduplicateByKey.Packer packer;

    ReadCsvFileFn(DatasetDefinition def, RecordValidator validator) {
      this(def, validator, null);
    }

    ReadCsvFileFn(
        DatasetDefinition def, RecordValidator validator, DeduplicateByKey.Packer packer) {
      this.reader = new CsvFileReader(def, true);
      this.validator = validator;
      this.packer = packer;
    }

    @Setup
    public void setup() {
      reader.setup();
      if (validator != null) {
        validator.setup();
      }
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) {
      String path = file.getMetadata().resourceId().toString();
      long items =
          reader.read(
              file,
              path,
              validator == null ? raw(out) : packer != null ? packed(out) : validated(out));
      if (packer != null) {
        // Every chunk of this file goes out with the file: no row waits for the next one.
        OutputReceiver<KV<Integer, byte[]>> chunks = out.get(PACKED);
        packer.flush((bucket, chunk) -> chunks.output(KV.of(bucket, chunk)));
      }
      out.get(FILE_ITEMS).output(KV.of(path, items));
    }

    private static CsvFileReader.Records raw(MultiOutputReceiver out) {
      OutputReceiver<Row> records = out.get(RECORDS);
      OutputReceiver<Row> rejects = out.get(FILE_REJECTS);
      return new CsvFileReader.Records() {
        @Override
        public void record(
            String path,
            long line,
            List<String> cells,
            List<Integer> columns,
            List<String> partitions,
            int width,
            List<String> header) {
          records.output(
              Row.withSchema(DatasetSchemas.RAW)
                  .attachValues(path, line, cells, columns, partitions, width));
        }

        @Override
        public void fileRejected(Row deadLetter) {
          rejects.output(deadLetter);
        }
      };
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
