package dev.landfall.io.parquet;

import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import org.apache.avro.Schema;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;

/**
 * Writes clean rows as one zstd Parquet file, column by column ({@link
 * ParquetRows.RowWriteSupport}): the files {@code ParquetIO.sink} writes from {@link
 * ParquetRows.Converter}'s Avro records, same schema, same logical types, same footer, without
 * building an Avro record per row.
 */
public final class RowParquetSink implements FileIO.Sink<Row> {
  private static final long serialVersionUID = 1L;

  private final DatasetDefinition def;
  private final String avroSchema;
  private final int rowGroupBytes;
  private transient ParquetWriter<Row> writer;

  public RowParquetSink(DatasetDefinition def, int rowGroupBytes) {
    this.def = def;
    this.avroSchema = ParquetRows.avroSchema(def).toString();
    this.rowGroupBytes = rowGroupBytes;
  }

  @Override
  public void open(WritableByteChannel channel) throws IOException {
    Schema avro = new Schema.Parser().parse(avroSchema);
    Builder builder =
        new Builder(
                new ChannelFile(Channels.newOutputStream(channel)),
                new ParquetRows.RowWriteSupport(def, avro))
            .withCompressionCodec(CompressionCodecName.ZSTD)
            .withRowGroupSize(rowGroupBytes)
            .withWriteMode(ParquetFileWriter.Mode.OVERWRITE);
    for (String column : ParquetRows.plainColumns(def)) {
      builder = builder.withDictionaryEncoding(column, false);
    }
    writer = builder.build();
  }

  @Override
  public void write(Row row) throws IOException {
    writer.write(row);
  }

  /** The bytes written so far plus those buffered for the current row group (an estimate). */
  public long dataSize() {
    return writer.getDataSize();
  }

  /** Writes the footer and closes the file (Beam closes the channel). */
  @Override
  public void flush() throws IOException {
    writer.close();
  }

  private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
    private final WriteSupport<Row> support;

    Builder(OutputFile file, WriteSupport<Row> support) {
      super(file);
      this.support = support;
    }

    @Override
    protected Builder self() {
      return this;
    }

    @Override
    protected WriteSupport<Row> getWriteSupport(Configuration conf) {
      return support;
    }
  }

  /** A Parquet output file over a stream that is already open. */
  private static final class ChannelFile implements OutputFile {
    private final OutputStream stream;

    ChannelFile(OutputStream stream) {
      this.stream = stream;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) {
      return new PositionOutputStream() {
        private long position;

        @Override
        public long getPos() {
          return position;
        }

        @Override
        public void write(int b) throws IOException {
          stream.write(b);
          position++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          stream.write(b, off, len);
          position += len;
        }

        @Override
        public void flush() throws IOException {
          stream.flush();
        }

        @Override
        public void close() throws IOException {
          stream.close();
        }
      };
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) {
      return create(blockSizeHint);
    }

    @Override
    public boolean supportsBlockSize() {
      return false;
    }

    @Override
    public long defaultBlockSize() {
      return 0;
    }
  }
}
