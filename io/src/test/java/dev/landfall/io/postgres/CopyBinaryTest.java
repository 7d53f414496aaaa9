package dev.landfall.io.postgres;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.testing.PostgresTestBase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Rows in COPY's binary format reach PostgreSQL as the values they are: every column type, NULLs,
 * numerics around the base-10000 digit boundaries, hostile text, lists and JSON.
 */
class CopyBinaryTest extends PostgresTestBase {
  private static final String[] DECIMALS = {
    "0",
    "0.0000",
    "1",
    "-1",
    "0.05",
    "-0.05",
    "0.00005",
    "10000",
    "9999.9999",
    "12345678.1234",
    "-12345678901234.5678",
    "100000000",
    "0.1",
    "123456789012345678901234567890.123456",
    "1E+3",
    "99999999999999.9999"
  };

  @Test
  void numericsOfUpTo15DigitsAreTheSameBytesWithoutABigInteger() {
    java.util.Random random = new java.util.Random(15);
    List<BigDecimal> values = new ArrayList<>();
    for (String d :
        new String[] {
          "0",
          "0.000",
          "1",
          "-1",
          "9999",
          "10000",
          "-10000.0001",
          "999999999999999",
          "-99999999999.9999",
          "0.000000000000001"
        }) {
      values.add(new BigDecimal(d));
    }
    for (int i = 0; i < 100_000; i++) {
      long unscaled = random.nextLong() % (long) Math.pow(10, 1 + random.nextInt(15));
      values.add(BigDecimal.valueOf(unscaled, random.nextInt(16)));
    }
    for (BigDecimal v : values) {
      CopyBinary.Buffer small = new CopyBinary.Buffer(16);
      CopyBinary.Buffer big = new CopyBinary.Buffer(16);
      CopyBinary.numeric(small, v, true);
      CopyBinary.numeric(big, v, false);
      assertThat(v.toString(), small.toByteArray(), equalTo(big.toByteArray()));
    }
  }

  /**
   * A buffer reused from batch to batch (as the writer does) holds exactly the bytes of a fresh
   * encoding of each batch: small after large, large after small, and after a batch of long rows
   * larger than what a buffer keeps.
   */
  @Test
  void aReusedBufferHoldsTheSameBytesAsAFreshEncoding() {
    Schema schema =
        Schema.builder()
            .addStringField("t")
            .addNullableField("l", FieldType.INT64)
            .addNullableField("n", FieldType.DECIMAL)
            .build();
    TableSpec spec =
        TableSpec.builder("binary_copy", "reuse")
            .columns(
                List.of(
                    new TableSpec.Column("t", "text", false, null, CopyBinary.Kind.TEXT),
                    new TableSpec.Column("l", "bigint", false, null, CopyBinary.Kind.INT8),
                    new TableSpec.Column("n", "numeric", false, null, CopyBinary.Kind.NUMERIC)))
            .key(List.of("t"))
            .build();
    CopyBinary.Kind[] kinds = CopyBinary.kinds(spec);
    java.util.Random random = new java.util.Random(3);
    CopyBinary.Buffer reused = new CopyBinary.Buffer(64);
    String longText = "x".repeat(1 << 20);
    int[] sizes = {1000, 3, 0, 10_000, 1, 40, 500};
    for (int b = 0; b < sizes.length; b++) {
      List<Row> batch = new ArrayList<>();
      for (int i = 0; i < sizes[b]; i++) {
        String t = b == 5 ? longText + i : "row " + b + "/" + i + " ä€";
        batch.add(
            Row.withSchema(schema)
                .attachValues(
                    t,
                    i % 3 == 0 ? null : random.nextLong(),
                    i % 5 == 0 ? null : BigDecimal.valueOf(random.nextInt(), random.nextInt(8))));
      }
      CopyBinary.encode(batch, kinds, reused);
      byte[] fresh = CopyBinary.encode(batch, kinds);
      assertThat("batch " + b, Arrays.copyOf(reused.array(), reused.length()), equalTo(fresh));
      if (b == 5) {
        assertThat(reused.length() > CopyBinary.Buffer.KEEP_AT_MOST, equalTo(true));
      }
    }
    assertThat(reused.array().length <= CopyBinary.Buffer.KEEP_AT_MOST, equalTo(true));
  }

  @Test
  void everyTypeRoundTrips() throws Exception {
    List<TableSpec.Column> cols =
        List.of(
            new TableSpec.Column("t", "text", false, null, CopyBinary.Kind.TEXT),
            new TableSpec.Column("j", "jsonb", false, null, CopyBinary.Kind.JSONB),
            new TableSpec.Column("a", "text[]", false, null, CopyBinary.Kind.TEXT_ARRAY),
            new TableSpec.Column("i", "integer", false, null, CopyBinary.Kind.INT4),
            new TableSpec.Column("l", "bigint", false, null, CopyBinary.Kind.INT8),
            new TableSpec.Column("d", "double precision", false, null, CopyBinary.Kind.FLOAT8),
            new TableSpec.Column("b", "boolean", false, null, CopyBinary.Kind.BOOL),
            new TableSpec.Column("day", "date", false, null, CopyBinary.Kind.DATE),
            new TableSpec.Column("ts", "timestamptz", false, null, CopyBinary.Kind.TIMESTAMPTZ),
            new TableSpec.Column("n", "numeric(36,6)", false, null, CopyBinary.Kind.NUMERIC),
            new TableSpec.Column("u", "numeric", false, null, CopyBinary.Kind.NUMERIC));
    TableSpec spec =
        TableSpec.builder("binary_copy", "all_types").columns(cols).key(List.of("t")).build();
    Schema schema =
        Schema.builder()
            .addStringField("t")
            .addNullableField("j", FieldType.STRING)
            .addNullableField("a", FieldType.array(FieldType.STRING))
            .addNullableField("i", FieldType.INT32)
            .addNullableField("l", FieldType.INT64)
            .addNullableField("d", FieldType.DOUBLE)
            .addNullableField("b", FieldType.BOOLEAN)
            .addNullableField("day", FieldType.STRING)
            .addNullableField("ts", FieldType.STRING)
            .addNullableField("n", FieldType.DECIMAL)
            .addNullableField("u", FieldType.DECIMAL)
            .build();
    List<Row> rows = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int k = 0; k < DECIMALS.length; k++) {
      BigDecimal n = new BigDecimal(DECIMALS[k]);
      rows.add(
          Row.withSchema(schema)
              .attachValues(
                  "row " + k + " \"quoted\", it's\nä€😀",
                  "{\"promo\": \"say \\\"hi\\\"\"}",
                  Arrays.asList("x,y", "\"q\"", "{b}", ""),
                  -k,
                  Long.MIN_VALUE + k,
                  k / 4.0,
                  k % 2 == 0,
                  null,
                  null,
                  n,
                  n));
      expected.add(
          "row "
              + k
              + " \"quoted\", it's\nä€😀|{\"promo\": \"say \\\"hi\\\"\"}"
              + "|{\"x,y\",\"\\\"q\\\"\",\"{b}\",\"\"}|"
              + -k
              + "|"
              + (Long.MIN_VALUE + k)
              + "|"
              + BigDecimal.valueOf(k / 4.0).stripTrailingZeros().toPlainString()
              + "|"
              + (k % 2 == 0 ? "t" : "f")
              + "|-|-|"
              + n.setScale(6).toPlainString()
              + "|"
              + (n.scale() < 0 ? n.setScale(0) : n).toPlainString());
    }
    // Dates and timestamps around PostgreSQL's epoch (2000-01-01) and before 1970.
    String[] days = {"1969-12-31", "2000-01-01", "1999-12-31", "2024-02-29", "0001-01-01"};
    String[] times = {
      "2000-01-01T00:00:00Z",
      "1969-12-31T23:59:59.999999Z",
      "2024-03-01T10:00:00.123456Z",
      "1999-12-31T23:59:59.000001Z",
      "2262-04-11T23:47:16Z"
    };
    Object[][] dated = new Object[days.length][];
    for (int k = 0; k < days.length; k++) {
      dated[k] = new Object[] {LocalDate.parse(days[k]), Instant.parse(times[k])};
    }
    try (Connection c = new Database(postgres.jdbcUrl(), "postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA binary_copy");
      s.execute("SET TIME ZONE 'UTC'");
      for (String sql : spec.createStatements()) {
        s.execute(sql);
      }
      copy(c, spec, CopyBinary.encode(rows, CopyBinary.kinds(spec)));
      List<String> got = new ArrayList<>();
      try (ResultSet r =
          s.executeQuery(
              "SELECT concat_ws('|', t, j::text, a::text, i, l, d, b,"
                  + " coalesce(day::text, '-'), coalesce(ts::text, '-'), n, u) FROM binary_copy.all_types"
                  + " ORDER BY l")) {
        while (r.next()) {
          got.add(r.getString(1));
        }
      }
      assertThat(got, equalTo(expected));

      // Dates and timestamps: a second table of the same columns.
      s.execute("TRUNCATE binary_copy.all_types");
      List<Row> timed = new ArrayList<>();
      Schema timeSchema =
          Schema.builder()
              .addStringField("t")
              .addNullableField("j", FieldType.STRING)
              .addNullableField("a", FieldType.array(FieldType.STRING))
              .addNullableField("i", FieldType.INT32)
              .addNullableField("l", FieldType.INT64)
              .addNullableField("d", FieldType.DOUBLE)
              .addNullableField("b", FieldType.BOOLEAN)
              .addNullableField(
                  "day",
                  FieldType.logicalType(org.apache.beam.sdk.schemas.logicaltypes.SqlTypes.DATE))
              .addNullableField(
                  "ts",
                  FieldType.logicalType(
                      new dev.landfall.transforms.values.CompactTypes.EpochMicros()))
              .addNullableField("n", FieldType.DECIMAL)
              .addNullableField("u", FieldType.DECIMAL)
              .build();
      for (int k = 0; k < days.length; k++) {
        timed.add(
            Row.withSchema(timeSchema)
                .attachValues(
                    "d" + k,
                    null,
                    List.of(),
                    null,
                    (long) k,
                    null,
                    null,
                    dated[k][0],
                    dated[k][1],
                    null,
                    null));
      }
      copy(c, spec, CopyBinary.encode(timed, CopyBinary.kinds(spec)));
      List<String> times2 = new ArrayList<>();
      try (ResultSet r =
          s.executeQuery(
              "SELECT a::text || ' ' || day::text || ' '"
                  + " || to_char(ts, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM binary_copy.all_types"
                  + " ORDER BY l")) {
        while (r.next()) {
          times2.add(r.getString(1));
        }
      }
      List<String> want = new ArrayList<>();
      for (int k = 0; k < days.length; k++) {
        String t = times[k].replace("Z", "");
        want.add("{} " + days[k] + " " + (t.contains(".") ? t : t + ".000000") + "Z");
      }
      assertThat(times2, equalTo(want));
    }
  }

  private static void copy(Connection c, TableSpec spec, byte[] data) throws Exception {
    CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(spec.directCopySql());
    copy.writeToCopy(data, 0, data.length);
    copy.endCopy();
  }
}
