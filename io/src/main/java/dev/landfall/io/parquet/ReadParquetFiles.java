package dev.landfall.io.parquet;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.io.files.ResumingReadChannel;
import dev.landfall.io.input.InputFiles;
import dev.landfall.io.input.InputRead;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import java.io.EOFException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads Parquet input files ({@code --format=parquet}) into raw records ({@code
 * DatasetSchemas.RAW}, for {@code ParseAndValidate}), whole-file dead letters and per-file item
 * counts ({@link InputRead}), with the CSV reader's counters and partition handling), so
 * validation, de-duplication, aggregation and the sinks are the same. Columns are matched to the
 * definition by name (case ignored); extra columns are ignored; a file lacking a required column is
 * rejected as a whole ({@code header}). Typed values become the text the definition's parser reads:
 * decimals in plain notation, dates and timestamps in ISO-8601 (UTC). {@code line_number} is the
 * row's position in the file (1-based). Each file is opened once and streamed record by record;
 * nothing is collected per file.
 */
public class ReadParquetFiles extends PTransform<PCollection<FileIO.ReadableFile>, InputRead<Row>> {
  private final DatasetDefinition definition;

  public ReadParquetFiles(DatasetDefinition definition) {
    this.definition = definition;
  }

  @Override
  public InputRead<Row> expand(PCollection<FileIO.ReadableFile> files) {
    PCollectionTuple out =
        files.apply(
            "ParseParquetRecords",
            ParDo.of(new ReadParquetFileFn(definition))
                .withOutputTags(
                    InputFiles.RECORDS,
                    TupleTagList.of(InputFiles.FILE_REJECTS).and(InputFiles.FILE_ITEMS)));
    return InputRead.of(
        InputFiles.RECORDS,
        out.get(InputFiles.RECORDS).setRowSchema(DatasetSchemas.RAW),
        InputFiles.FILE_REJECTS,
        out.get(InputFiles.FILE_REJECTS),
        out.get(InputFiles.FILE_ITEMS));
  }

  static class ReadParquetFileFn extends DoFn<FileIO.ReadableFile, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(ReadParquetFiles.class);
    // The same counters as the CSV reader, so summaries and dashboards need not care.
    private final InputFiles.Counters counters = new InputFiles.Counters();

    private final DatasetDefinition def;
    private final InputFiles.Partitions partitionValues;

    ReadParquetFileFn(DatasetDefinition def) {
      this.def = def;
      this.partitionValues = new InputFiles.Partitions(def);
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) {
      String path = file.getMetadata().resourceId().toString();
      out.get(InputFiles.FILE_ITEMS).output(KV.of(path, read(file, path, out)));
    }

    private long read(FileIO.ReadableFile file, String path, MultiOutputReceiver out) {
      List<String> partitions;
      try {
        partitions = partitionValues.of(path);
      } catch (HivePartitions.MissingPartition e) {
        return reject(out, path, 0, Rejects.PARTITION, e.getMessage());
      }
      counters.filesRead.inc();
      counters.bytesRead.inc(file.getMetadata().sizeBytes());
      long records = 0;
      try (ParquetReader<GenericRecord> reader =
          AvroParquetReader.<GenericRecord>builder(
                  new ChannelInputFile(ResumingReadChannel.openSeekable(file.getMetadata())))
              .withDataModel(GenericData.get())
              .build()) {
        GenericRecord first = reader.read();
        if (first == null) {
          return 0; // no rows: nothing to account for
        }
        int width = def.fields.size();
        Schema.Field[] sources = new Schema.Field[width];
        List<String> missing = sourcesOf(first.getSchema(), sources);
        if (!missing.isEmpty()) {
          return reject(out, path, 0, Rejects.HEADER, "file lacks required column(s) " + missing);
        }
        Integer[] identity = new Integer[width];
        for (int i = 0; i < width; i++) {
          identity[i] = sources[i] == null ? -1 : i;
        }
        List<Integer> columns = Collections.unmodifiableList(Arrays.asList(identity));
        for (GenericRecord r = first; r != null; r = reader.read()) {
          records++;
          List<String> cells = new ArrayList<>(width);
          for (int i = 0; i < width; i++) {
            cells.add(
                sources[i] == null
                    ? null
                    : text(r.get(sources[i].pos()), sources[i].schema(), def.fields.get(i).split));
          }
          out.get(InputFiles.RECORDS)
              .output(
                  Row.withSchema(DatasetSchemas.RAW)
                      .attachValues(path, records, cells, columns, partitions, width));
        }
        return records;
      } catch (IOException | RuntimeException e) {
        return records
            + reject(
                out,
                path,
                records + 1,
                Rejects.FILE,
                "cannot read past row "
                    + records
                    + ": "
                    + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
      } finally {
        counters.rowsRead.inc(records);
        LOG.info("read {} records from {}", records, path);
      }
    }

    /**
     * Fills {@code sources} with the file's field for each defined field (by name, ignoring case;
     * null when the file has none) and returns the required fields the file lacks.
     */
    private List<String> sourcesOf(Schema schema, Schema.Field[] sources) {
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < sources.length; i++) {
        DatasetDefinition.Field f = def.fields.get(i);
        for (Schema.Field candidate : schema.getFields()) {
          if (candidate.name().toLowerCase(Locale.ROOT).equals(f.name)) {
            sources[i] = candidate;
          }
        }
        if (sources[i] == null && def.isRequired(f.name)) {
          missing.add(f.name);
        }
      }
      return missing;
    }

    private long reject(
        MultiOutputReceiver out, String path, long line, String reason, String message) {
      counters.filesRejected.inc();
      LOG.warn("file {} rejected ({}): {}", path, reason, message);
      out.get(InputFiles.FILE_REJECTS).output(Rejects.of(path, line, reason, null, message, null));
      return 1;
    }
  }

  /** The text of one Parquet value, in the form the definition's value parser reads. */
  static String text(Object v, Schema schema) {
    return text(v, schema, null);
  }

  /** As {@link #text(Object, Schema)}; list items are joined by {@code separator} (or "|"). */
  static String text(Object v, Schema schema, String separator) {
    if (v == null) {
      return null;
    }
    if (schema.getType() == Schema.Type.UNION) {
      for (Schema branch : schema.getTypes()) {
        if (branch.getType() != Schema.Type.NULL) {
          return text(v, branch, separator);
        }
      }
    }
    LogicalType logical = schema.getLogicalType();
    if (logical instanceof LogicalTypes.Decimal) {
      int scale = ((LogicalTypes.Decimal) logical).getScale();
      byte[] bytes;
      if (v instanceof ByteBuffer) {
        ByteBuffer b = ((ByteBuffer) v).duplicate();
        bytes = new byte[b.remaining()];
        b.get(bytes);
      } else if (v instanceof GenericData.Fixed) {
        bytes = ((GenericData.Fixed) v).bytes();
      } else {
        return v.toString();
      }
      return new BigDecimal(new BigInteger(bytes), scale).toPlainString();
    }
    if (logical instanceof LogicalTypes.Date && v instanceof Integer) {
      return LocalDate.ofEpochDay((Integer) v).toString();
    }
    if (logical instanceof LogicalTypes.TimestampMillis && v instanceof Long) {
      return Instant.ofEpochMilli((Long) v).toString();
    }
    if (logical instanceof LogicalTypes.TimestampMicros && v instanceof Long) {
      long micros = (Long) v;
      return Instant.ofEpochSecond(
              Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L)
          .toString();
    }
    if (v instanceof java.util.Collection) {
      // A list column: items joined by a separator; a field declared with split splits them again.
      StringBuilder sb = new StringBuilder();
      for (Object item : (java.util.Collection<?>) v) {
        if (sb.length() > 0) {
          sb.append(separator == null ? "|" : separator);
        }
        sb.append(
            text(
                item,
                schema.getType() == Schema.Type.ARRAY
                    ? schema.getElementType()
                    : Schema.create(Schema.Type.STRING)));
      }
      return sb.toString();
    }
    if (v instanceof ByteBuffer) {
      ByteBuffer b = ((ByteBuffer) v).duplicate();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }
    return v.toString();
  }

  /** A Parquet {@link InputFile} over a Beam seekable channel (local, S3, any file system). */
  static final class ChannelInputFile implements InputFile {
    private final SeekableByteChannel channel;

    ChannelInputFile(SeekableByteChannel channel) {
      this.channel = channel;
    }

    @Override
    public long getLength() throws IOException {
      return channel.size();
    }

    @Override
    public SeekableInputStream newStream() {
      return new DelegatingSeekableInputStream(java.nio.channels.Channels.newInputStream(channel)) {
        @Override
        public long getPos() throws IOException {
          return channel.position();
        }

        @Override
        public void seek(long newPos) throws IOException {
          channel.position(newPos);
        }

        @Override
        public int read(ByteBuffer buf) throws IOException {
          return channel.read(buf);
        }

        @Override
        public void readFully(ByteBuffer buf) throws IOException {
          while (buf.hasRemaining()) {
            if (channel.read(buf) < 0) {
              throw new EOFException("unexpected end of Parquet file");
            }
          }
        }
      };
    }
  }
}
