package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricsContainer;
import org.apache.beam.sdk.metrics.MetricsEnvironment;
import org.apache.beam.sdk.metrics.StringSet;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

/** {@link RecordValidator} on its own, without a pipeline. */
class RecordValidatorTest {
  static final String FILE = "/in/day=2024-03-05/batch=7/a.csv";

  /**
   * Every column type, a date with a format, partitions of two types, min/max, allowed values, a
   * required and an optional list, derived columns, an indexed group-by column and rescued unknown
   * columns.
   */
  static final String TYPED_JSON =
      "{\"name\": \"typed\","
          + " \"unknownColumns\": \"rescue\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"},"
          + "                  {\"name\": \"batch\", \"type\": \"int\"}],"
          + " \"fields\": ["
          + "  {\"name\": \"id\", \"type\": \"string\", \"required\": true},"
          + "  {\"name\": \"n\", \"type\": \"int\", \"min\": 1, \"max\": 100},"
          + "  {\"name\": \"big\", \"type\": \"long\"},"
          + "  {\"name\": \"ratio\", \"type\": \"double\"},"
          + "  {\"name\": \"amount\", \"type\": \"decimal(10,2)\", \"min\": 0},"
          + "  {\"name\": \"flag\", \"type\": \"boolean\"},"
          + "  {\"name\": \"born\", \"type\": \"date\", \"format\": \"dd/MM/yyyy\"},"
          + "  {\"name\": \"at\", \"type\": \"timestamp\"},"
          + "  {\"name\": \"tags\", \"type\": \"string\", \"split\": \"|\", \"required\": true,"
          + "   \"allowed\": [\"a\", \"b\", \"c\"]},"
          + "  {\"name\": \"labels\", \"type\": \"string\", \"split\": \";\"},"
          + "  {\"name\": \"kind\", \"type\": \"string\", \"allowed\": [\"x\", \"y\"]},"
          + "  {\"name\": \"note\", \"type\": \"string\"},"
          + "  {\"name\": \"grp\", \"type\": \"string\"}],"
          + " \"derived\": [{\"name\": \"at_date\", \"from\": \"at\", \"part\": \"date\"},"
          + "               {\"name\": \"at_year\", \"from\": \"at\", \"part\": \"year\"},"
          + "               {\"name\": \"at_day\", \"from\": \"at\", \"part\": \"day\"},"
          + "               {\"name\": \"born_month\", \"from\": \"born\", \"part\": \"month\"}],"
          + " \"key\": [\"id\"],"
          + " \"aggregates\": {\"groupBy\": [\"grp\"], \"measures\": {\"amount\": [\"sum\"]}}}";

  static final DatasetDefinition TYPED = load(TYPED_JSON);

  /** The typed definition's header: its fields in order, then two columns it does not name. */
  static final List<String> TYPED_HEADER =
      List.of(
          "id", "n", "big", "ratio", "amount", "flag", "born", "at", "tags", "labels", "kind",
          "note", "grp", "extra1", "extra2");

  /** The cell index of each field, then of each unknown column (as a reader passes them). */
  static final List<Integer> TYPED_COLUMNS =
      List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);

  static final List<String> TYPED_PARTITIONS = List.of("2024-03-05", "7");

  static final DatasetDefinition BILLING = DatasetDefinition.builtIn("billing");

  static final List<String> BILLING_HEADER =
      List.of(
          "event_id",
          "event_time",
          "account_id",
          "service",
          "region",
          "resource_id",
          "usage_quantity",
          "unit_price",
          "cost",
          "currency");

  static DatasetDefinition load(String json) {
    try {
      return DatasetDefinition.load(
          new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static RecordValidator validator(DatasetDefinition def) {
    RecordValidator v = new RecordValidator(def);
    v.setup();
    return v;
  }

  /** Collects what a validator sends; {@link #only} checks there was exactly one result. */
  static final class Collected implements RecordValidator.Receiver {
    final List<Row> clean = new ArrayList<>();
    final List<Row> rejected = new ArrayList<>();

    @Override
    public void clean(Row row) {
      clean.add(row);
    }

    @Override
    public void rejected(Row deadLetter) {
      rejected.add(deadLetter);
    }

    Row onlyClean() {
      assertThat("rejected: " + rejected, rejected, hasSize(0));
      assertThat(clean, hasSize(1));
      return clean.get(0);
    }

    Row onlyRejected() {
      assertThat("clean: " + clean, clean, hasSize(0));
      assertThat(rejected, hasSize(1));
      return rejected.get(0);
    }
  }

  /** Valid cells of the typed header, as a mutable list for tests to change one cell. */
  static List<String> typedCells() {
    return new ArrayList<>(
        Arrays.asList(
            "id-1",
            "42",
            "9000000000",
            "2.5e-1",
            "12.5",
            "yes",
            "05/03/1990",
            "2024-03-05T13:45:30.123456789+02:00",
            " a | |c ",
            "p;q",
            "x",
            "  hi  ",
            "g",
            "",
            ""));
  }

  static Collected validateTyped(RecordValidator v, List<String> cells) {
    Collected out = new Collected();
    v.validate(
        FILE, 12, cells, TYPED_COLUMNS, TYPED_PARTITIONS, TYPED_HEADER.size(), TYPED_HEADER, out);
    return out;
  }

  static Collected validateTyped(List<String> cells) {
    return validateTyped(validator(TYPED), cells);
  }

  /** The typed record with cell {@code field} set to {@code text}. */
  static List<String> typedWith(String field, String text) {
    List<String> cells = typedCells();
    cells.set(TYPED_HEADER.indexOf(field), text);
    return cells;
  }

  /** The dead letter of the typed record with cell {@code field} set to {@code text}. */
  static Row rejectTyped(String field, String text) {
    return validateTyped(typedWith(field, text)).onlyRejected();
  }

  static void assertReject(Row r, String reason, String column, String message) {
    assertThat(r.getString("reason"), equalTo(reason));
    assertThat(r.getString("column_name"), equalTo(column));
    assertThat(r.getString("message"), equalTo(message));
  }

  static List<String> billingCells() {
    return new ArrayList<>(
        Arrays.asList(
            "e1",
            "2024-01-01 10:00:00",
            "acct-1",
            "compute",
            "eu-west-1",
            "r 1",
            "1.500",
            "2.000000",
            "3.0000",
            "EUR"));
  }

  static Collected validateBilling(List<String> cells, List<Integer> columns) {
    Collected out = new Collected();
    validator(BILLING)
        .validate(
            "/in/date=2024-01-01/a.csv",
            2,
            cells,
            columns,
            List.of("2024-01-01"),
            BILLING_HEADER.size(),
            out);
    return out;
  }

  static List<Integer> billingColumns() {
    return new ArrayList<>(Arrays.asList(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
  }

  @Test
  void validRecordHasEveryTypeAndTheDerivedAndLineageColumns() {
    Row r = validateTyped(typedCells()).onlyClean();
    assertThat(r.getSchema(), equalTo(DatasetSchemas.clean(TYPED)));
    assertThat(r.getValue("day"), equalTo(LocalDate.of(2024, 3, 5)));
    assertThat(r.getValue("batch"), equalTo(7));
    assertThat(r.getValue("id"), equalTo("id-1"));
    assertThat(r.getValue("n"), equalTo(42));
    assertThat(r.getValue("big"), equalTo(9_000_000_000L));
    assertThat(r.getValue("ratio"), equalTo(0.25));
    assertThat(r.getValue("amount"), equalTo(new BigDecimal("12.50")));
    assertThat(r.getValue("flag"), equalTo(true));
    assertThat(r.getValue("born"), equalTo(LocalDate.of(1990, 3, 5)));
    // Microseconds are kept, finer digits cut; the offset is applied.
    assertThat(r.getValue("at"), equalTo(Instant.parse("2024-03-05T11:45:30.123456Z")));
    assertThat(r.getArray("tags"), contains("a", "c"));
    assertThat(r.getArray("labels"), contains("p", "q"));
    assertThat(r.getValue("kind"), equalTo("x"));
    assertThat(r.getValue("note"), equalTo("hi"));
    assertThat(r.getValue("grp"), equalTo("g"));
    assertThat(r.getValue("at_date"), equalTo(LocalDate.of(2024, 3, 5)));
    assertThat(r.getValue("at_year"), equalTo(2024));
    assertThat(r.getValue("at_day"), equalTo(5));
    assertThat(r.getValue("born_month"), equalTo(3));
    assertThat(r.getValue(DatasetDefinition.SOURCE_FILE), equalTo(FILE));
    assertThat(r.getValue(DatasetDefinition.SOURCE_LINE), equalTo(12L));
    assertThat(r.getValue(DatasetDefinition.RESCUED), nullValue());
  }

  @Test
  void validBillingRecordIsTypedWithEmptyLookupColumns() {
    Row r = validateBilling(billingCells(), billingColumns()).onlyClean();
    assertThat(r.getSchema(), equalTo(DatasetSchemas.clean(BILLING)));
    assertThat(r.getValue("date"), equalTo(LocalDate.of(2024, 1, 1)));
    assertThat(r.getValue("event_time"), equalTo(Instant.parse("2024-01-01T10:00:00Z")));
    assertThat(r.getValue("usage_quantity"), equalTo(new BigDecimal("1.500")));
    assertThat(r.getValue("unit_price"), equalTo(new BigDecimal("2.000000")));
    assertThat(r.getValue("cost"), equalTo(new BigDecimal("3.0000")));
    assertThat(r.getValue("currency"), equalTo("EUR"));
    assertThat(r.getValue("event_hour"), equalTo(10));
    assertThat(r.getValue("source_line"), equalTo(2L));
    assertThat(r.getValue("account_name"), nullValue());
    assertThat(r.getValue("team"), nullValue());
    assertThat(r.getValue("cost_centre"), nullValue());
  }

  @Test
  void cellsAreFoundThroughColumnsNotByPosition() {
    List<String> cells = billingCells();
    List<Integer> columns = billingColumns();
    // The header has region and resource_id the other way round.
    cells.set(4, "r 9");
    cells.set(5, "us-east-1");
    columns.set(4, 5);
    columns.set(5, 4);
    Row r = validateBilling(cells, columns).onlyClean();
    assertThat(r.getString("region"), equalTo("us-east-1"));
    assertThat(r.getString("resource_id"), equalTo("r 9"));
  }

  @Test
  void emptyBlankNullAndMissingOptionalValuesAreNull() {
    List<String> cells = typedCells();
    cells.set(TYPED_HEADER.indexOf("n"), "");
    cells.set(TYPED_HEADER.indexOf("big"), "   ");
    cells.set(TYPED_HEADER.indexOf("ratio"), null);
    cells.set(TYPED_HEADER.indexOf("amount"), "\t");
    cells.set(TYPED_HEADER.indexOf("flag"), "");
    cells.set(TYPED_HEADER.indexOf("born"), "");
    cells.set(TYPED_HEADER.indexOf("at"), "");
    cells.set(TYPED_HEADER.indexOf("labels"), " ; ;");
    cells.set(TYPED_HEADER.indexOf("kind"), "");
    Row r = validateTyped(cells).onlyClean();
    for (String c :
        List.of(
            "n",
            "big",
            "ratio",
            "amount",
            "flag",
            "born",
            "at",
            "labels",
            "kind",
            "at_date",
            "at_year",
            "at_day",
            "born_month")) {
      assertThat(c, r.getValue(c), nullValue());
    }
    assertThat(r.getValue("id"), equalTo("id-1"));

    // A column the header lacks (-1) is null too.
    List<Integer> columns = billingColumns();
    columns.set(BILLING_HEADER.indexOf("region"), -1);
    Row b = validateBilling(billingCells(), columns).onlyClean();
    assertThat(b.getValue("region"), nullValue());
    assertThat(b.getValue("resource_id"), equalTo("r 1"));
  }

  @Test
  void columnCountRejectHasNoColumnAndKeepsTheRawRecord() {
    Collected out = new Collected();
    validator(BILLING)
        .validate(
            "/in/date=2024-01-01/a.csv",
            3,
            Arrays.asList("short", "a,b", "say \"hi\""),
            billingColumns(),
            List.of("2024-01-01"),
            BILLING_HEADER.size(),
            out);
    Row r = out.onlyRejected();
    assertThat(r.getSchema(), equalTo(DatasetSchemas.REJECT));
    assertReject(r, Rejects.COLUMN_COUNT, null, "record has 3 fields, the header has 10");
    assertThat(r.getString("source_file"), equalTo("/in/date=2024-01-01/a.csv"));
    assertThat(r.getInt64("line_number"), equalTo(3L));
    assertThat(r.getString("raw"), equalTo("short,\"a,b\",\"say \"\"hi\"\"\""));
  }

  @Test
  void badPartitionValueIsRejectedNamingThePartition() {
    Collected out = new Collected();
    validator(TYPED)
        .validate(
            FILE,
            4,
            typedCells(),
            TYPED_COLUMNS,
            List.of("2024-03-05", "seven"),
            TYPED_HEADER.size(),
            TYPED_HEADER,
            out);
    assertReject(out.onlyRejected(), Rejects.PARTITION, "batch", "partition value not an int");

    out = new Collected();
    validator(TYPED)
        .validate(
            FILE,
            4,
            typedCells(),
            TYPED_COLUMNS,
            List.of("5.3.2024", "7"),
            TYPED_HEADER.size(),
            TYPED_HEADER,
            out);
    assertReject(
        out.onlyRejected(),
        Rejects.PARTITION,
        "day",
        "partition value not an ISO date (yyyy-MM-dd)");
  }

  @Test
  void partitionValuesFollowEachRecordsFileAcrossCalls() {
    RecordValidator v = validator(TYPED);
    Collected out = new Collected();
    List<String> cells = typedCells();
    int width = TYPED_HEADER.size();
    v.validate(FILE, 2, cells, TYPED_COLUMNS, List.of("2024-03-05", "7"), width, TYPED_HEADER, out);
    v.validate(FILE, 3, cells, TYPED_COLUMNS, List.of("2024-03-05", "7"), width, TYPED_HEADER, out);
    v.validate(FILE, 2, cells, TYPED_COLUMNS, List.of("2024-03-06", "7"), width, TYPED_HEADER, out);
    v.validate(FILE, 2, cells, TYPED_COLUMNS, List.of("2024-03-06", "x"), width, TYPED_HEADER, out);
    v.validate(FILE, 3, cells, TYPED_COLUMNS, List.of("2024-03-06", "x"), width, TYPED_HEADER, out);
    v.validate(FILE, 2, cells, TYPED_COLUMNS, List.of("2024-03-07", "8"), width, TYPED_HEADER, out);
    assertThat(out.clean, hasSize(4));
    assertThat(out.rejected, hasSize(2));
    List<String> seen = new ArrayList<>();
    for (Row r : out.clean) {
      seen.add(r.getValue("day") + "/" + r.getValue("batch"));
    }
    assertThat(seen, contains("2024-03-05/7", "2024-03-05/7", "2024-03-06/7", "2024-03-07/8"));
    for (Row r : out.rejected) {
      assertReject(r, Rejects.PARTITION, "batch", "partition value not an int");
    }
  }

  @Test
  void requiredValuesThatAreEmptyBlankNullOrMissingAreRejected() {
    assertReject(rejectTyped("id", ""), Rejects.REQUIRED, "id", "required value is empty");
    assertReject(rejectTyped("id", "  \t "), Rejects.REQUIRED, "id", "required value is empty");
    assertReject(rejectTyped("id", null), Rejects.REQUIRED, "id", "required value is empty");
    assertReject(rejectTyped("tags", " "), Rejects.REQUIRED, "tags", "required value is empty");

    List<Integer> columns = billingColumns();
    columns.set(BILLING_HEADER.indexOf("account_id"), -1);
    assertReject(
        validateBilling(billingCells(), columns).onlyRejected(),
        Rejects.REQUIRED,
        "account_id",
        "required value is empty");
  }

  @Test
  void requiredListWithoutItemsIsRejected() {
    assertReject(rejectTyped("tags", " | |"), Rejects.REQUIRED, "tags", "required list is empty");
  }

  @Test
  void listItemNotAllowedIsAConstraintReject() {
    assertReject(
        rejectTyped("tags", "a|d|e"),
        Rejects.CONSTRAINT,
        "tags",
        "item 'd' is not one of [a, b, c]");
  }

  @Test
  void unparsableValuesAreTypeRejectsNamingTheType() {
    assertReject(rejectTyped("n", "4x"), Rejects.TYPE, "n", "value not an int (int)");
    assertReject(rejectTyped("big", "1.5"), Rejects.TYPE, "big", "value not a long (long)");
    assertReject(
        rejectTyped("ratio", "NaN"), Rejects.TYPE, "ratio", "value not a finite double (double)");
    assertReject(rejectTyped("ratio", "1,5"), Rejects.TYPE, "ratio", "value not a double (double)");
    assertReject(
        rejectTyped("amount", "1.234"),
        Rejects.TYPE,
        "amount",
        "value has more than 2 digits after the point (decimal(10,2))");
    assertReject(
        rejectTyped("amount", "1e3"),
        Rejects.TYPE,
        "amount",
        "value not a plain decimal number (no exponent or thousands separator) (decimal(10,2))");
    assertReject(
        rejectTyped("flag", "maybe"), Rejects.TYPE, "flag", "value not a boolean (boolean)");
    assertReject(
        rejectTyped("born", "1990-03-05"),
        Rejects.TYPE,
        "born",
        "value not a date in dd/MM/yyyy (date)");
    assertReject(
        rejectTyped("at", "yesterday"),
        Rejects.TYPE,
        "at",
        "value not an ISO-8601 timestamp (timestamp)");
  }

  @Test
  void minMaxAndAllowedViolationsAreConstraintRejects() {
    assertReject(rejectTyped("n", "0"), Rejects.CONSTRAINT, "n", "value is below the minimum 1");
    assertReject(
        rejectTyped("n", "101"), Rejects.CONSTRAINT, "n", "value is above the maximum 100");
    assertReject(
        rejectTyped("amount", "-0.01"),
        Rejects.CONSTRAINT,
        "amount",
        "value is below the minimum 0");
    assertReject(
        rejectTyped("kind", "z"), Rejects.CONSTRAINT, "kind", "value is not one of [x, y]");
    // The bounds themselves are allowed.
    assertThat(validateTyped(typedWith("n", "100")).onlyClean().getValue("n"), equalTo(100));
    assertThat(validateTyped(typedWith("n", "1")).onlyClean().getValue("n"), equalTo(1));
  }

  @Test
  void keyAndGroupByValuesLongerThanTheIndexLimitAreRejected() {
    String limit = "k".repeat(ParseAndValidate.MAX_INDEXED_CHARS);
    String over = limit + "k";
    String message = "value is longer than 500 characters (key and group-by columns are indexed)";
    assertReject(rejectTyped("id", over), Rejects.CONSTRAINT, "id", message);
    assertReject(rejectTyped("grp", over), Rejects.CONSTRAINT, "grp", message);
    assertThat(validateTyped(typedWith("id", limit)).onlyClean().getValue("id"), equalTo(limit));
    assertThat(
        validateTyped(typedWith("grp", " " + limit + " ")).onlyClean().getValue("grp"),
        equalTo(limit));
    // Other columns have no such limit.
    assertThat(validateTyped(typedWith("note", over)).onlyClean().getValue("note"), equalTo(over));
  }

  @Test
  void theFirstProblemInColumnOrderIsTheOneReported() {
    List<String> cells = typedCells();
    cells.set(TYPED_HEADER.indexOf("n"), "bad");
    cells.set(TYPED_HEADER.indexOf("kind"), "z");
    cells.set(TYPED_HEADER.indexOf("tags"), "");
    assertReject(validateTyped(cells).onlyRejected(), Rejects.TYPE, "n", "value not an int (int)");

    cells.set(TYPED_HEADER.indexOf("id"), "");
    assertReject(
        validateTyped(cells).onlyRejected(), Rejects.REQUIRED, "id", "required value is empty");

    // A bad partition comes before every field.
    Collected out = new Collected();
    validator(TYPED)
        .validate(
            FILE,
            4,
            cells,
            TYPED_COLUMNS,
            List.of("2024-03-05", "seven"),
            TYPED_HEADER.size(),
            TYPED_HEADER,
            out);
    assertThat(out.onlyRejected().getString("reason"), equalTo(Rejects.PARTITION));

    // A wrong cell count comes before everything.
    cells.add("one too many");
    out = new Collected();
    validator(TYPED)
        .validate(
            FILE,
            4,
            cells,
            TYPED_COLUMNS,
            List.of("2024-03-05", "seven"),
            TYPED_HEADER.size(),
            TYPED_HEADER,
            out);
    assertReject(
        out.onlyRejected(), Rejects.COLUMN_COUNT, null, "record has 16 fields, the header has 15");
  }

  @Test
  void deadLetterKeepsFileLineAndTheRecordAsCsv() {
    List<String> cells = typedWith("kind", "z");
    cells.set(TYPED_HEADER.indexOf("note"), "a,\"b\"");
    cells.set(TYPED_HEADER.indexOf("extra2"), null);
    Row r = validateTyped(cells).onlyRejected();
    assertThat(r.getString("source_file"), equalTo(FILE));
    assertThat(r.getInt64("line_number"), equalTo(12L));
    assertThat(r.getString("raw"), equalTo(Rejects.toCsv(cells, ',', '"')));
    assertThat(
        r.getString("raw"),
        equalTo(
            "id-1,42,9000000000,2.5e-1,12.5,yes,05/03/1990,"
                + "2024-03-05T13:45:30.123456789+02:00, a | |c ,p;q,z,\"a,\"\"b\"\"\",g,,"));
  }

  @Test
  void unknownColumnsAreRescuedAsJsonInFileOrder() {
    List<String> cells = typedCells();
    cells.set(TYPED_HEADER.indexOf("extra1"), " v\"1\\ ");
    cells.set(TYPED_HEADER.indexOf("extra2"), "a\tb");
    assertThat(
        validateTyped(cells).onlyClean().getString(DatasetDefinition.RESCUED),
        equalTo("{\"extra1\":\"v\\\"1\\\\\",\"extra2\":\"a\\u0009b\"}"));

    // Blank and null unknown cells are left out.
    cells.set(TYPED_HEADER.indexOf("extra1"), "  ");
    assertThat(
        validateTyped(cells).onlyClean().getString(DatasetDefinition.RESCUED),
        equalTo("{\"extra2\":\"a\\u0009b\"}"));
    cells.set(TYPED_HEADER.indexOf("extra2"), null);
    assertThat(validateTyped(cells).onlyClean().getString(DatasetDefinition.RESCUED), nullValue());
  }

  @Test
  void unknownColumnsFollowTheirCellIndexAndNeedTheHeader() {
    List<String> cells = typedCells();
    cells.set(TYPED_HEADER.indexOf("extra1"), "one");
    cells.set(TYPED_HEADER.indexOf("extra2"), "two");
    // Only extra2 is passed on as unknown.
    List<Integer> columns = TYPED_COLUMNS.subList(0, 14);
    columns = new ArrayList<>(columns);
    columns.set(13, 14);
    Collected out = new Collected();
    validator(TYPED)
        .validate(
            FILE, 2, cells, columns, TYPED_PARTITIONS, TYPED_HEADER.size(), TYPED_HEADER, out);
    assertThat(
        out.onlyClean().getString(DatasetDefinition.RESCUED), equalTo("{\"extra2\":\"two\"}"));

    // Without the header (the short overload) nothing is rescued.
    out = new Collected();
    validator(TYPED)
        .validate(FILE, 2, cells, TYPED_COLUMNS, TYPED_PARTITIONS, TYPED_HEADER.size(), out);
    Row r = out.onlyClean();
    assertThat(r.getSchema().hasField(DatasetDefinition.RESCUED), equalTo(true));
    assertThat(r.getValue(DatasetDefinition.RESCUED), nullValue());
    assertThat(r.getValue("id"), equalTo("id-1"));
  }

  @Test
  void withoutRescueThereIsNoRescuedColumn() {
    Row r = validateBilling(billingCells(), billingColumns()).onlyClean();
    assertThat(r.getSchema().hasField(DatasetDefinition.RESCUED), equalTo(false));
  }

  @Test
  void validatorCountsParsedRejectedAndEachReasonUnlessUncounted() throws IOException {
    CountingContainer counts = new CountingContainer();
    try (Closeable c = MetricsEnvironment.scopedMetricsContainer(counts)) {
      RecordValidator v = validator(TYPED);
      validateTyped(v, typedCells()).onlyClean();
      validateTyped(v, typedCells()).onlyClean();
      validateTyped(v, typedWith("n", "x")).onlyRejected();
      validateTyped(v, typedWith("kind", "z")).onlyRejected();
      validateTyped(v, typedWith("kind", "w")).onlyRejected();
    }
    assertThat(counts.values.get("rows-parsed"), equalTo(2L));
    assertThat(counts.values.get("rows-rejected"), equalTo(3L));
    assertThat(counts.values.get("rows-rejected-type"), equalTo(1L));
    assertThat(counts.values.get("rows-rejected-constraint"), equalTo(2L));
    assertThat(counts.namespaces, contains(ParseAndValidate.class.getName()));

    CountingContainer none = new CountingContainer();
    try (Closeable c = MetricsEnvironment.scopedMetricsContainer(none)) {
      RecordValidator v = new RecordValidator(TYPED).uncounted();
      v.setup();
      Row clean = validateTyped(v, typedCells()).onlyClean();
      assertThat(clean.getValue("n"), equalTo(42));
      assertReject(
          validateTyped(v, typedWith("n", "x")).onlyRejected(),
          Rejects.TYPE,
          "n",
          "value not an int (int)");
    }
    assertThat(none.values, equalTo(Map.of()));
  }

  /** A metrics container that only keeps counters, by name. */
  static final class CountingContainer implements MetricsContainer {
    private static final long serialVersionUID = 1L;
    final Map<String, Long> values = new HashMap<>();
    final java.util.Set<String> namespaces = new java.util.HashSet<>();

    @Override
    public Counter getCounter(MetricName name) {
      namespaces.add(name.getNamespace());
      return new Counter() {
        private static final long serialVersionUID = 1L;

        @Override
        public void inc() {
          inc(1);
        }

        @Override
        public void inc(long n) {
          values.merge(name.getName(), n, Long::sum);
        }

        @Override
        public void dec() {
          inc(-1);
        }

        @Override
        public void dec(long n) {
          inc(-n);
        }

        @Override
        public MetricName getName() {
          return name;
        }
      };
    }

    @Override
    public Distribution getDistribution(MetricName name) {
      throw new UnsupportedOperationException("not used");
    }

    @Override
    public Gauge getGauge(MetricName name) {
      throw new UnsupportedOperationException("not used");
    }

    @Override
    public StringSet getStringSet(MetricName name) {
      throw new UnsupportedOperationException("not used");
    }
  }
}
