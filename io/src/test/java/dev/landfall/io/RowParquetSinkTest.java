package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;

import dev.landfall.io.parquet.ParquetRows;
import dev.landfall.io.parquet.RowParquetSink;
import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.ByteArrayInputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed Parquet writer writes the files the Avro path wrote: same schema, same footer, same
 * records read back, for every column type, NULLs, a struct and a list (empty or not); mostly
 * distinct columns without a dictionary.
 */
class RowParquetSinkTest {
  static final String ORDERS =
      "{\"name\": \"orders\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}],"
          + " \"fields\": ["
          + "  {\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "  {\"name\": \"ordered_at\", \"type\": \"timestamp\", \"required\": true},"
          + "  {\"name\": \"shipped_on\", \"type\": \"date\"},"
          + "  {\"name\": \"quantity\", \"type\": \"decimal(10,2)\"},"
          + "  {\"name\": \"unit_price\", \"type\": \"decimal(20,4)\"},"
          + "  {\"name\": \"items\", \"type\": \"int\"},"
          + "  {\"name\": \"weight\", \"type\": \"double\"},"
          + "  {\"name\": \"views\", \"type\": \"long\"},"
          + "  {\"name\": \"gift\", \"type\": \"boolean\"},"
          + "  {\"name\": \"tags\", \"type\": \"string\", \"split\": \"|\"}],"
          + " \"structs\": [{\"name\": \"usage\","
          + "   \"fields\": {\"quantity\": \"quantity\", \"unit_price\": \"unit_price\"}}],"
          + " \"key\": [\"order_id\"]}";

  @TempDir Path dir;

  static List<Row> rows(DatasetDefinition def, String... lines) {
    RecordValidator validator = new RecordValidator(def);
    validator.setup();
    List<Row> rows = new ArrayList<>();
    List<Integer> columns = new ArrayList<>();
    for (int i = 0; i < def.fields.size(); i++) {
      columns.add(i);
    }
    long line = 1;
    for (String l : lines) {
      List<String> cells = Arrays.asList(l.split(",", -1));
      validator.validate(
          "/in/day=2024-03-01/a.csv",
          ++line,
          cells,
          columns,
          List.of("2024-03-01"),
          cells.size(),
          new RecordValidator.Receiver() {
            @Override
            public void clean(Row row) {
              rows.add(row);
            }

            @Override
            public void rejected(Row deadLetter) {
              throw new AssertionError(deadLetter.toString());
            }
          });
    }
    return rows;
  }

  @Test
  void theTypedWriterWritesWhatTheAvroWriterWrote() throws Exception {
    DatasetDefinition def =
        DatasetDefinition.load(new ByteArrayInputStream(ORDERS.getBytes(StandardCharsets.UTF_8)));
    List<Row> rows =
        rows(
            def,
            "o1,2024-03-01T10:00:00.123456Z,2024-03-02,2.50,12345678901234.5678,3,1.5,9000000000,true,"
                + "new|gift",
            "o2,1969-12-31T23:59:59.5Z,,,,,,,,",
            "o3,2024-03-01 12:00:00,2024-03-03,-4.00,0.0001,-1,-0.0,0,false,solo");
    assertThat(rows, hasSize(3));
    Schema avro = ParquetRows.avroSchema(def);

    Path viaAvro = dir.resolve("avro.parquet");
    ParquetIO.Sink avroSink = ParquetRows.sink(avro, 1 << 20);
    ParquetRows.Converter converter = new ParquetRows.Converter(def, avro);
    try (FileChannel ch =
        FileChannel.open(viaAvro, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      avroSink.open(ch);
      for (Row r : rows) {
        avroSink.write(converter.apply(r));
      }
      avroSink.flush();
    }
    Path typed = dir.resolve("typed.parquet");
    RowParquetSink sink = new RowParquetSink(def, 1 << 20);
    try (FileChannel ch =
        FileChannel.open(typed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sink.open(ch);
      for (Row r : rows) {
        sink.write(r);
      }
      sink.flush();
    }

    FileMetaData a = footer(viaAvro);
    FileMetaData b = footer(typed);
    assertThat(b.getSchema(), equalTo(a.getSchema()));
    assertThat(
        b.getKeyValueMetaData().get("parquet.avro.schema"),
        equalTo(a.getKeyValueMetaData().get("parquet.avro.schema")));
    List<String> expected = read(viaAvro);
    assertThat(expected, hasSize(3));
    assertThat(read(typed), equalTo(expected));
  }

  @Test
  void mostlyDistinctColumnsAreWrittenWithoutADictionary() throws Exception {
    DatasetDefinition def =
        DatasetDefinition.load(new ByteArrayInputStream(ORDERS.getBytes(StandardCharsets.UTF_8)));
    assertThat(
        ParquetRows.plainColumns(def), contains("order_id", "ordered_at", "weight", "source_line"));
    // The same values over and over: a dictionary would pay for every column.
    String[] lines = new String[500];
    Arrays.fill(lines, "o1,2024-03-01T10:00:00Z,2024-03-02,1.00,1.0000,3,1.5,9,true,x");
    Path typed = dir.resolve("repeated.parquet");
    RowParquetSink sink = new RowParquetSink(def, 1 << 20);
    try (FileChannel ch =
        FileChannel.open(typed, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sink.open(ch);
      for (Row r : rows(def, lines)) {
        sink.write(r);
      }
      sink.flush();
    }
    Map<String, Boolean> dictionary = new HashMap<>();
    try (ParquetFileReader r = ParquetFileReader.open(input(typed))) {
      for (ColumnChunkMetaData c : r.getFooter().getBlocks().get(0).getColumns()) {
        dictionary.put(
            c.getPath().toDotString(),
            c.getEncodings().contains(Encoding.RLE_DICTIONARY)
                || c.getEncodings().contains(Encoding.PLAIN_DICTIONARY));
      }
    }
    for (String plain : List.of("order_id", "ordered_at", "weight", "source_line")) {
      assertThat(plain, dictionary.get(plain), is(false));
    }
    for (String coded :
        List.of("shipped_on", "items", "views", "source_file", "usage.unit_price")) {
      assertThat(coded, dictionary.get(coded), is(true));
    }
  }

  private static FileMetaData footer(Path file) throws Exception {
    try (ParquetFileReader r = ParquetFileReader.open(input(file))) {
      return r.getFooter().getFileMetaData();
    }
  }

  private static List<String> read(Path file) throws Exception {
    List<String> records = new ArrayList<>();
    try (ParquetReader<GenericRecord> r =
        AvroParquetReader.<GenericRecord>builder(input(file)).build()) {
      for (GenericRecord g = r.read(); g != null; g = r.read()) {
        records.add(g.toString());
      }
    }
    return records;
  }

  private static HadoopInputFile input(Path file) throws Exception {
    return HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
  }
}
