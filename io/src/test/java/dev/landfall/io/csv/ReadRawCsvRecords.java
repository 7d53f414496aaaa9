package dev.landfall.io.csv;

import static dev.landfall.io.input.InputFiles.FILE_ITEMS;
import static dev.landfall.io.input.InputFiles.FILE_REJECTS;
import static dev.landfall.io.input.InputFiles.RECORDS;

import dev.landfall.io.input.InputRead;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.List;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Test code: CSV files read by landfall's reader into raw records ({@code DatasetSchemas.RAW}),
 * unvalidated, with whole-file dead letters and per-file item counts. Tests use it to check the
 * reader's RFC 4180 handling cell by cell, and that validating in the reading step ({@link
 * ReadCsvFiles#validated}) gives what a separate {@code ParseAndValidate} step gives.
 */
public final class ReadRawCsvRecords
    extends PTransform<PCollection<FileIO.ReadableFile>, InputRead<Row>> {
  private final DatasetDefinition definition;

  public ReadRawCsvRecords(DatasetDefinition definition) {
    this.definition = definition;
  }

  @Override
  public InputRead<Row> expand(PCollection<FileIO.ReadableFile> files) {
    PCollectionTuple out =
        files.apply(
            "ParseCsvRecords",
            ParDo.of(new RawFn(definition))
                .withOutputTags(RECORDS, TupleTagList.of(FILE_REJECTS).and(FILE_ITEMS)));
    return InputRead.of(
        RECORDS,
        out.get(RECORDS).setRowSchema(DatasetSchemas.RAW),
        FILE_REJECTS,
        out.get(FILE_REJECTS),
        out.get(FILE_ITEMS));
  }

  static final class RawFn extends DoFn<FileIO.ReadableFile, Row> {
    private final CsvFileReader reader;

    RawFn(DatasetDefinition def) {
      this.reader = new CsvFileReader(def, true);
    }

    @Setup
    public void setup() {
      reader.setup();
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) {
      String path = file.getMetadata().resourceId().toString();
      OutputReceiver<Row> records = out.get(RECORDS);
      OutputReceiver<Row> rejects = out.get(FILE_REJECTS);
      long items =
          reader.read(
              file,
              path,
              new CsvFileReader.Records() {
                @Override
                public void record(
                    String p,
                    long line,
                    List<String> cells,
                    List<Integer> columns,
                    List<String> partitions,
                    int width,
                    List<String> header) {
                  records.output(
                      Row.withSchema(DatasetSchemas.RAW)
                          .attachValues(p, line, cells, columns, partitions, width));
                }

                @Override
                public void fileRejected(Row deadLetter) {
                  rejects.output(deadLetter);
                }
              });
      out.get(FILE_ITEMS).output(KV.of(path, items));
    }
  }
}
