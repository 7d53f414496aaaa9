package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.CleanRowCoder;
import dev.landfall.transforms.values.CompactTypes;
import dev.landfall.transforms.values.DatasetSchemas;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.util.SerializableUtils;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class CleanRowCoderTest {
  private static final Schema STRUCT =
      Schema.builder().addStringField("name").addNullableField("weight", FieldType.DOUBLE).build();

  /** Every field type a clean row can hold, each once required and once nullable. */
  private static final Schema ALL =
      Schema.builder()
          .addStringField("s")
          .addInt32Field("i")
          .addInt64Field("l")
          .addDoubleField("d")
          .addBooleanField("b")
          .addDecimalField("big")
          .addField("ts", FieldType.logicalType(new CompactTypes.EpochMicros()))
          .addField("dec", FieldType.logicalType(new CompactTypes.ScaledDecimal(4)))
          .addField("day", FieldType.logicalType(SqlTypes.DATE))
          .addArrayField("tags", FieldType.STRING)
          .addArrayField("maybe", FieldType.STRING.withNullable(true))
          .addRowField("struct", STRUCT)
          .addNullableField("ns", FieldType.STRING)
          .addNullableField("ni", FieldType.INT32)
          .addNullableField("nl", FieldType.INT64)
          .addNullableField("nd", FieldType.DOUBLE)
          .addNullableField("nb", FieldType.BOOLEAN)
          .addNullableField("nbig", FieldType.DECIMAL)
          .addNullableField("nts", FieldType.logicalType(new CompactTypes.EpochMicros()))
          .addNullableField("ndec", FieldType.logicalType(new CompactTypes.ScaledDecimal(2)))
          .addNullableField("nday", FieldType.logicalType(SqlTypes.DATE))
          .addNullableField("ntags", FieldType.array(FieldType.STRING))
          .addNullableField("nstruct", FieldType.row(STRUCT))
          .build();

  private static Row full(String text, long n) {
    return Row.withSchema(ALL)
        .addValues(
            text,
            (int) n,
            n * 1_000_000_007L,
            n / 3.0,
            n % 2 == 0,
            new BigDecimal("-12345678901234567890123.000456789").add(BigDecimal.valueOf(n)),
            Instant.parse("1969-12-31T23:59:59.999999Z").plusSeconds(n * 86_400),
            BigDecimal.valueOf(-n * 10_001, 4),
            LocalDate.of(1900, 2, 28).plusDays(n),
            Arrays.asList("a", text, ""),
            Arrays.asList(null, "x", null),
            Row.withSchema(STRUCT).addValues("inner " + text, n % 3 == 0 ? null : 1.5).build(),
            "also " + text,
            Integer.MIN_VALUE,
            Long.MAX_VALUE,
            Double.NaN,
            false,
            new BigDecimal("0.1"),
            Instant.parse("2262-04-11T23:47:16.854775Z"),
            new BigDecimal("99999999.99"),
            LocalDate.of(9999, 12, 31),
            new ArrayList<String>(),
            Row.withSchema(STRUCT).addValues("", -0.0).build())
        .build();
  }

  private static Row nulls(String text) {
    Object[] values = new Object[ALL.getFieldCount()];
    Row first = full(text, 7);
    for (int i = 0; i < 12; i++) {
      values[i] = first.getValue(i);
    }
    return Row.withSchema(ALL).addValues(values).build();
  }

  private static Row roundTrip(Coder<Row> coder, Row row) throws Exception {
    return CoderUtils.decodeFromByteArray(coder, CoderUtils.encodeToByteArray(coder, row));
  }

  @Test
  void everyTypeRoundTripsAndEqualsWhatRowCoderGives() throws Exception {
    CleanRowCoder coder = CleanRowCoder.of(ALL);
    String longText = "ü€𝄞 long text ".repeat(2_000);
    for (Row row :
        List.of(
            full("plain", 1), full("", 0), full(longText, -42), full("é", 123_456), nulls("n"))) {
      Row back = roundTrip(coder, row);
      assertThat(back, equalTo(row));
      assertThat(back, equalTo(roundTrip(RowCoder.of(ALL), row)));
      assertThat(back.getSchema(), equalTo(ALL));
    }
  }

  @Test
  void cleanRowsOfTheBillingDatasetRoundTrip() throws Exception {
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    Schema clean = DatasetSchemas.clean(def);
    Coder<Row> coder = DatasetSchemas.cleanCoder(def);
    Row row =
        Row.withSchema(clean)
            .addValues(
                LocalDate.of(2024, 1, 2),
                "ev-000001",
                Instant.parse("2024-01-02T03:04:05.123456Z"),
                "acct-17",
                "compute",
                "eu-west-1",
                null,
                new BigDecimal("1.250"),
                new BigDecimal("0.010000"),
                new BigDecimal("0.0125"),
                "EUR",
                3,
                "/data/billing/date=2024-01-02/part-0001.csv",
                17L,
                null,
                null,
                null)
            .build();
    assertThat(roundTrip(coder, row), equalTo(row));
    assertThat(roundTrip(coder, row), equalTo(roundTrip(RowCoder.of(clean), row)));
  }

  @Test
  void rowsFollowEachOtherInOneStreamAndInsideOtherCoders() throws Exception {
    Coder<KV<String, Row>> kv = KvCoder.of(StringUtf8Coder.of(), CleanRowCoder.of(ALL));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<KV<String, Row>> sent = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      KV<String, Row> e = KV.of("k" + i, i % 5 == 0 ? nulls("r" + i) : full("r" + (i / 10), i));
      sent.add(e);
      kv.encode(e, out);
    }
    InputStream in = new ByteArrayInputStream(out.toByteArray());
    for (KV<String, Row> e : sent) {
      assertThat(kv.decode(in), equalTo(e));
    }
    assertThat(in.read(), equalTo(-1));
  }

  @Test
  void repeatedTextIsDecodedOnce() throws Exception {
    CleanRowCoder coder = CleanRowCoder.of(ALL);
    Row a = roundTrip(coder, full("same", 1));
    Row b = roundTrip(coder, full("same", 2));
    assertThat(b.getString("s"), sameInstance(a.getString("s")));
    Row c = roundTrip(coder, full("other", 2));
    assertThat(c.getString("s"), equalTo("other"));
  }

  @Test
  void theCoderIsSerializableAndEqualByItsSchema() throws Exception {
    CleanRowCoder coder = CleanRowCoder.of(ALL);
    CleanRowCoder copy = SerializableUtils.clone(coder);
    assertThat(copy, equalTo(coder));
    assertThat(copy.hashCode(), equalTo(coder.hashCode()));
    assertThat(roundTrip(copy, full("x", 5)), equalTo(full("x", 5)));
    coder.verifyDeterministic();
  }

  @Test
  void aTruncatedBlockIsAnErrorNotAWrongRow() throws Exception {
    CleanRowCoder coder = CleanRowCoder.of(ALL);
    byte[] bytes = CoderUtils.encodeToByteArray(coder, full("x", 5));
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 3);
    assertThrows(EOFException.class, () -> coder.decode(new ByteArrayInputStream(cut)));
  }

  @Test
  void aFieldTypeItCannotWriteIsNamed() {
    Schema bytes = Schema.builder().addByteArrayField("blob").build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CleanRowCoder.of(bytes));
    assertThat(e.getMessage(), containsString("'blob'"));
  }
}
