package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;

class ParseAndValidateTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final String HEADER =
      "event_id,event_time,account_id,service,region,resource_id,usage_quantity,unit_price,cost,currency";

  /** A raw record of the billing header, cells given in header order. */
  static Row raw(long line, String... cells) {
    List<String> header = Arrays.asList(HEADER.split(","));
    Integer[] columns = new Integer[DEF.fields.size()];
    for (int i = 0; i < columns.length; i++) {
      columns[i] = header.indexOf(DEF.fields.get(i).name);
    }
    return Row.withSchema(DatasetSchemas.RAW)
        .attachValues(
            "/in/date=2024-01-01/a.csv",
            line,
            Arrays.asList(cells),
            Arrays.asList(columns),
            List.of("2024-01-01"),
            header.size());
  }

  static Row good(long line, String id) {
    return raw(
        line,
        id,
        "2024-01-01 10:00:00",
        "acct-1",
        "compute",
        "eu-west-1",
        "r 1",
        "1.500",
        "2.000000",
        "3.0000",
        "EUR");
  }

  @Test
  void validRowIsTypedEnrichedAndNoDeadLetter() {
    Pipeline p = TestPipelines.direct();
    PCollectionTuple out =
        p.apply(Create.of(good(2, "e1")).withRowSchema(DatasetSchemas.RAW))
            .apply(new ParseAndValidate(DEF));
    PAssert.that(out.get(ParseAndValidate.CLEAN))
        .satisfies(
            rows -> {
              Row r = rows.iterator().next();
              assertThat(r.getValue("date"), equalTo(LocalDate.of(2024, 1, 1)));
              assertThat(r.getValue("event_time"), equalTo(Instant.parse("2024-01-01T10:00:00Z")));
              assertThat(r.getDecimal("cost"), equalTo(new BigDecimal("3.0000")));
              assertThat(r.getInt32("event_hour"), equalTo(10));
              assertThat(r.getString("resource_id"), equalTo("r 1"));
              assertThat(r.getString("source_file"), equalTo("/in/date=2024-01-01/a.csv"));
              assertThat(r.getInt64("source_line"), equalTo(2L));
              return null;
            });
    PAssert.that(out.get(ParseAndValidate.REJECTED)).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void everyRejectReasonIsReportedWithFileLineAndColumn() {
    Pipeline p = TestPipelines.direct();
    PCollectionTuple out =
        p.apply(
                Create.of(
                        good(2, "ok"),
                        raw(3, "short", "2024-01-01T10:00:00Z", "acct-1"),
                        raw(
                            4,
                            "e4",
                            "2024-01-01T10:00:00Z",
                            " ",
                            "compute",
                            "r",
                            "x",
                            "1",
                            "1",
                            "1",
                            "USD"),
                        raw(
                            5,
                            "e5",
                            "2024-01-01T10:00:00Z",
                            "a",
                            "compute",
                            "r",
                            "x",
                            "1",
                            "1",
                            "12.5 EUR",
                            "USD"),
                        raw(
                            6,
                            "e6",
                            "2024-01-01T10:00:00Z",
                            "a",
                            "compute",
                            "r",
                            "x",
                            "1",
                            "1",
                            "-1",
                            "USD"),
                        raw(
                            7,
                            "e7",
                            "2024-01-01T10:00:00Z",
                            "a",
                            "compute",
                            "r",
                            "x",
                            "1",
                            "1",
                            "1",
                            "GBP"))
                    .withRowSchema(DatasetSchemas.RAW))
            .apply(new ParseAndValidate(DEF));
    PCollection<String> rejects =
        out.get(ParseAndValidate.REJECTED)
            .apply(
                "RejectSummary",
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        r ->
                            r.getInt64("line_number")
                                + ":"
                                + r.getString("reason")
                                + ":"
                                + r.getString("column_name")));
    PAssert.that(rejects)
        .containsInAnyOrder(
            "3:column_count:null",
            "4:required:account_id",
            "5:type:cost",
            "6:constraint:cost",
            "7:constraint:currency");
    PAssert.that(
            out.get(ParseAndValidate.CLEAN)
                .apply(
                    "CleanIds",
                    MapElements.into(TypeDescriptors.strings()).via(r -> r.getString("event_id"))))
        .containsInAnyOrder("ok");
    PAssert.that(
            out.get(ParseAndValidate.REJECTED)
                .apply(
                    "RawTexts",
                    MapElements.into(TypeDescriptors.strings()).via(r -> r.getString("raw"))))
        .satisfies(
            raws -> {
              assertThat(raws.iterator().hasNext(), equalTo(true));
              for (String s : raws) {
                assertThat(s.isEmpty(), equalTo(false));
              }
              return null;
            });
    p.run().waitUntilFinish();
  }
}
