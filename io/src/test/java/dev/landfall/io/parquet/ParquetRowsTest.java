package dev.landfall.io.parquet;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.values.Row;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Parquet row mapping on its own: the schema a definition gives (the type and logical type of
 * every column type, which columns may be null, what is left out), the columns written without a
 * dictionary, and a row of every type, NULLs included, written and read back.
 */
class ParquetRowsTest {
  /** Every column type, a list, rescued unknown columns and a two-column key. */
  private static final String MIXED =
      "{\"name\": \"mixed\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}],"
          + " \"fields\": ["
          + "  {\"name\": \"id\", \"type\": \"string\", \"required\": true},"
          + "  {\"name\": \"seq\", \"type\": \"long\", \"required\": true},"
          + "  {\"name\": \"at_time\", \"type\": \"timestamp\"},"
          + "  {\"name\": \"on_day\", \"type\": \"date\"},"
          + "  {\"name\": \"amount\", \"type\": \"decimal(12,3)\"},"
          + "  {\"name\": \"pieces\", \"type\": \"int\"},"
          + "  {\"name\": \"ratio\", \"type\": \"double\"},"
          + "  {\"name\": \"big\", \"type\": \"long\"},"
          + "  {\"name\": \"flag\", \"type\": \"boolean\"},"
          + "  {\"name\": \"label\", \"type\": \"string\"},"
          + "  {\"name\": \"tags\", \"type\": \"string\", \"split\": \";\"}],"
          + " \"key\": [\"id\", \"seq\"],"
          + " \"unknownColumns\": \"rescue\"}";

  /** The CSV header of the rows below: the fields, then one column the definition lacks. */
  private static final List<String> HEADER =
      List.of(
          "id", "seq", "at_time", "on_day", "amount", "pieces", "ratio", "big", "flag", "label",
          "tags", "extra");

  private static DatasetDefinition def;

  @TempDir Path dir;

  @BeforeAll
  static void load() throws Exception {
    def = DatasetDefinition.load(new ByteArrayInputStream(MIXED.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void decimalBytesAreThoseOfTheUnscaledBigInteger() {
    java.util.Random random = new java.util.Random(18);
    List<BigDecimal> values = new ArrayList<>();
    for (String d :
        new String[] {
          "0",
          "1",
          "-1",
          "127",
          "128",
          "-128",
          "-129",
          "255",
          "256",
          "32767",
          "-32768",
          "999999999999999999",
          "-999999999999999999",
          "0.000001",
          "1E+3",
          "-12E-3",
          "1234567890123456789",
          "-123456789012345678901234567890.5"
        }) {
      values.add(new BigDecimal(d));
    }
    for (int i = 0; i < 100_000; i++) {
      long unscaled = random.nextLong() % (long) Math.pow(10, 1 + random.nextInt(18));
      values.add(BigDecimal.valueOf(unscaled, random.nextInt(20) - 2));
    }
    for (BigDecimal v : values) {
      assertThat(
          v.toString(),
          ParquetRows.RowWriteSupport.unscaledBytes(v),
          equalTo(v.unscaledValue().toByteArray()));
    }
  }

  @Test
  void everyColumnTypeHasItsAvroTypeAndNullability() {
    Schema avro = ParquetRows.avroSchema(def);
    Map<String, String> types = new LinkedHashMap<>();
    for (Schema.Field f : avro.getFields()) {
      types.put(f.name(), describe(f.schema()));
    }
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("id", "string");
    expected.put("seq", "long");
    expected.put("at_time", "null|long timestamp-micros");
    expected.put("on_day", "null|int date");
    expected.put("amount", "null|bytes decimal(12,3)");
    expected.put("pieces", "null|int");
    expected.put("ratio", "null|double");
    expected.put("big", "null|long");
    expected.put("flag", "null|boolean");
    expected.put("label", "null|string");
    expected.put("tags", "null|array<string>");
    expected.put("source_file", "string");
    expected.put("source_line", "long");
    expected.put(DatasetDefinition.RESCUED, "null|map<string>");
    // The partition column "day" is in the folder names, not in the files.
    assertThat(types, equalTo(expected));
    assertThat(
        "nullable columns default to null",
        avro.getField("label").defaultVal(),
        equalTo(org.apache.avro.JsonProperties.NULL_VALUE));
  }

  @Test
  void theParquetFileCarriesTheLogicalTypes() throws Exception {
    Path file = write(rows("r1,1,2024-03-01T10:00:00Z,2024-03-02,1.000,1,1.0,1,true,a,x,e"));
    MessageType type;
    try (ParquetFileReader r = ParquetFileReader.open(input(file))) {
      type = r.getFooter().getFileMetaData().getSchema();
    }
    assertThat(
        primitive(type, "at_time"),
        equalTo(
            "OPTIONAL INT64 "
                + LogicalTypeAnnotation.timestampType(
                    true, LogicalTypeAnnotation.TimeUnit.MICROS)));
    assertThat(
        primitive(type, "on_day"), equalTo("OPTIONAL INT32 " + LogicalTypeAnnotation.dateType()));
    assertThat(
        primitive(type, "amount"),
        equalTo("OPTIONAL BINARY " + LogicalTypeAnnotation.decimalType(3, 12)));
    assertThat(
        primitive(type, "id"), equalTo("REQUIRED BINARY " + LogicalTypeAnnotation.stringType()));
    assertThat(primitive(type, "seq"), equalTo("REQUIRED INT64 null"));
    assertThat(primitive(type, "pieces"), equalTo("OPTIONAL INT32 null"));
    assertThat(primitive(type, "ratio"), equalTo("OPTIONAL DOUBLE null"));
    assertThat(primitive(type, "flag"), equalTo("OPTIONAL BOOLEAN null"));
    assertThat(
        type.getType("tags").getLogicalTypeAnnotation(), equalTo(LogicalTypeAnnotation.listType()));
    assertThat(
        type.getType(DatasetDefinition.RESCUED).getLogicalTypeAnnotation(),
        equalTo(LogicalTypeAnnotation.mapType()));
    assertThat("no partition column", type.containsField("day"), equalTo(false));
  }

  @Test
  void theKeySourceLineAndMostlyDistinctTypesAreWrittenWithoutADictionary() {
    // Timestamps, decimals and doubles by type; the key and source_line by role. Not: the list,
    // the rescued map, dates, ints, longs, booleans and texts outside the key, source_file.
    assertThat(
        ParquetRows.plainColumns(def),
        contains("id", "seq", "at_time", "amount", "ratio", "source_line"));
  }

  @Test
  void aRowOfEveryTypeIsReadBackAsItWasWritten() throws Exception {
    List<Row> rows =
        rows(
            "r1,7,2024-03-01T10:00:00.123456Z,2024-03-02,-12.345,42,0.25,9000000000,true,hello,a;b,x",
            "r2,8,,,,,,,,,,");
    Path file = write(rows);
    List<GenericRecord> back = read(file);
    assertThat(back, hasSize(2));

    GenericRecord full = back.get(0);
    assertThat(full.get("id").toString(), equalTo("r1"));
    assertThat(full.get("seq"), equalTo(7L));
    assertThat(
        micros((Long) full.get("at_time")), equalTo(Instant.parse("2024-03-01T10:00:00.123456Z")));
    assertThat(
        LocalDate.ofEpochDay((Integer) full.get("on_day")), equalTo(LocalDate.parse("2024-03-02")));
    assertThat(decimal(full.get("amount"), 3), equalTo(new BigDecimal("-12.345")));
    assertThat(full.get("pieces"), equalTo(42));
    assertThat(full.get("ratio"), equalTo(0.25));
    assertThat(full.get("big"), equalTo(9_000_000_000L));
    assertThat(full.get("flag"), equalTo(true));
    assertThat(full.get("label").toString(), equalTo("hello"));
    assertThat(strings(full.get("tags")), equalTo(List.of("a", "b")));
    assertThat(full.get("source_file").toString(), equalTo("/in/day=2024-03-01/a.csv"));
    assertThat(full.get("source_line"), equalTo(2L));
    assertThat(full.get(DatasetDefinition.RESCUED).toString(), equalTo("{extra=x}"));

    GenericRecord empty = back.get(1);
    assertThat(empty.get("id").toString(), equalTo("r2"));
    assertThat(empty.get("source_line"), equalTo(3L));
    for (String column :
        List.of(
            "at_time",
            "on_day",
            "amount",
            "pieces",
            "ratio",
            "big",
            "flag",
            "label",
            "tags",
            DatasetDefinition.RESCUED)) {
      assertThat(column, empty.get(column), nullValue());
    }
  }

  @Test
  void rescuedColumnsAreAMapInNameOrder() {
    assertThat(
        new ArrayList<>(ParquetRows.rescuedMap("{\"b\": \"2\", \"a\": \"1\"}").keySet()),
        equalTo(List.of("a", "b")));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ParquetRows.rescuedMap("[1, 2]"));
    assertThat(e.getMessage(), containsString("not a JSON object of texts"));
  }

  private static String describe(Schema s) {
    switch (s.getType()) {
      case UNION:
        List<String> branches = new ArrayList<>();
        s.getTypes().forEach(b -> branches.add(describe(b)));
        return String.join("|", branches);
      case ARRAY:
        return "array<" + describe(s.getElementType()) + ">";
      case MAP:
        return "map<" + describe(s.getValueType()) + ">";
      default:
        String logical = "";
        if (s.getLogicalType() instanceof LogicalTypes.Decimal) {
          LogicalTypes.Decimal d = (LogicalTypes.Decimal) s.getLogicalType();
          logical = " decimal(" + d.getPrecision() + "," + d.getScale() + ")";
        } else if (s.getLogicalType() != null) {
          logical = " " + s.getLogicalType().getName();
        }
        return s.getType().getName() + logical;
    }
  }

  private static String primitive(MessageType type, String column) {
    Type t = type.getType(column);
    PrimitiveType p = t.asPrimitiveType();
    return t.getRepetition() + " " + p.getPrimitiveTypeName() + " " + t.getLogicalTypeAnnotation();
  }

  private static Instant micros(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
  }

  private static BigDecimal decimal(Object v, int scale) {
    ByteBuffer b = ((ByteBuffer) v).duplicate();
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return new BigDecimal(new BigInteger(bytes), scale);
  }

  private static List<String> strings(Object list) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) list) {
      out.add(o.toString());
    }
    return out;
  }

  /** Clean rows of {@link #MIXED} from CSV lines (with {@link #HEADER}), as the reader gives. */
  private static List<Row> rows(String... lines) {
    RecordValidator validator = new RecordValidator(def);
    validator.setup();
    List<Integer> columns = new ArrayList<>();
    for (int i = 0; i < HEADER.size(); i++) {
      columns.add(i); // the fields in order, then the unknown "extra"
    }
    List<Row> rows = new ArrayList<>();
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
          HEADER,
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

  private Path write(List<Row> rows) throws Exception {
    Path file = dir.resolve("rows-" + System.nanoTime() + ".parquet");
    RowParquetSink sink = new RowParquetSink(def, 1 << 20);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sink.open(ch);
      for (Row r : rows) {
        sink.write(r);
      }
      sink.flush();
    }
    return file;
  }

  private static List<GenericRecord> read(Path file) throws Exception {
    List<GenericRecord> records = new ArrayList<>();
    try (ParquetReader<GenericRecord> r =
        AvroParquetReader.<GenericRecord>builder(input(file)).build()) {
      for (GenericRecord g = r.read(); g != null; g = r.read()) {
        records.add(g);
      }
    }
    return records;
  }

  private static HadoopInputFile input(Path file) throws Exception {
    return HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), new Configuration());
  }
}
