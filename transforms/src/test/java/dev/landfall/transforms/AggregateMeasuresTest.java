package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class AggregateMeasuresTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");

  @Test
  void exactMeasuresAndPercentileWithinOnePercentRank() {
    Random rnd = new Random(7);
    List<Row> rows = new ArrayList<>();
    BigDecimal sum = BigDecimal.ZERO;
    List<BigDecimal> costs = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      BigDecimal cost = BigDecimal.valueOf(rnd.nextInt(1_000_000), 4);
      costs.add(cost);
      sum = sum.add(cost);
      rows.add(DeduplicateByKeyTest.row("e" + i, cost.toPlainString(), "/f", i));
    }
    costs.sort(null);
    BigDecimal expectedSum = sum;
    Pipeline p = TestPipelines.direct();
    PCollection<Row> agg =
        p.apply(Create.of(rows).withRowSchema(DeduplicateByKeyTest.CLEAN))
            .apply(new AggregateMeasures(DEF));
    PAssert.that(agg).satisfies(out -> {
      Row r = out.iterator().next();
      assertThat(r.getString("service"), equalTo("compute"));
      assertThat(r.getInt64("row_count"), equalTo(20_000L));
      assertThat(r.getInt64("cost_count"), equalTo(20_000L));
      assertThat(r.getDecimal("cost_sum"), equalTo(expectedSum));
      assertThat(r.getDecimal("cost_min"), equalTo(costs.get(0)));
      assertThat(r.getDecimal("cost_max"), equalTo(costs.get(costs.size() - 1)));
      assertThat(r.getDecimal("cost_avg").doubleValue(),
          closeTo(expectedSum.doubleValue() / 20_000, 1e-6));
      // The reported p90 must sit between the true 89th and 91st percentiles.
      double p90 = r.getDouble("cost_p90");
      assertThat(p90 >= costs.get(17_800).doubleValue(), equalTo(true));
      assertThat(p90 <= costs.get(18_200).doubleValue(), equalTo(true));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /**
   * Partial totals handed on in many small parts (one group kept per bundle) merge to the same
   * exact measures per group as one pass.
   */
  @Test
  void partialTotalsHandedOnInPartsMergeToTheSameGroups() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      Row r = DeduplicateByKeyTest.row("e" + i, (i % 7) + ".5000", "/f", i);
      rows.add(Row.fromRow(r).withFieldValue("service", "s" + (i % 3))
          .withFieldValue("currency", i % 2 == 0 ? "USD" : "EUR").build());
    }
    Pipeline p = TestPipelines.direct();
    PCollection<Row> agg =
        p.apply(Create.of(rows).withRowSchema(DeduplicateByKeyTest.CLEAN))
            .apply(new AggregateMeasures(DEF).withMaxGroupsPerBundle(1));
    PAssert.that(agg).satisfies(out -> {
      int groups = 0;
      for (Row r : out) {
        groups++;
        int s = Integer.parseInt(r.getString("service").substring(1));
        int c = r.getString("currency").equals("USD") ? 0 : 1;
        long n = 0;
        BigDecimal sum = BigDecimal.ZERO;
        BigDecimal max = null;
        for (int i = 0; i < 3_000; i++) {
          if (i % 3 == s && i % 2 == c) {
            n++;
            BigDecimal v = new BigDecimal((i % 7) + ".5000");
            sum = sum.add(v);
            max = max == null || v.compareTo(max) > 0 ? v : max;
          }
        }
        assertThat(r.getInt64("row_count"), equalTo(n));
        assertThat(r.getDecimal("cost_sum"), equalTo(sum));
        assertThat(r.getDecimal("cost_max"), equalTo(max));
      }
      assertThat(groups, equalTo(6));
      return null;
    });
    p.run().waitUntilFinish();
  }

  /**
   * A bundle's partial totals find a row's group by the values of its group columns (read by
   * position, from rows of two equal schemas) and key each group by the same text as {@link
   * DeduplicateByKey#keyOf}: one output per group, NULL apart from the text "null".
   */
  @Test
  void partialTotalsGroupRowsByValueAndKeyEachGroupByItsText() throws Exception {
    Schema other = DatasetSchemas.clean(DEF);
    assertThat(other != DeduplicateByKeyTest.CLEAN, equalTo(true));
    List<String> groupBy = DEF.aggregates.groupBy;
    String[] texts = {"a", "b", "null", null};
    Random rnd = new Random(11);
    Map<String, Long> expected = new HashMap<>();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      Row base = DeduplicateByKeyTest.row("e" + i, "1.0000", "/f", i);
      List<Object> values = new ArrayList<>(base.getValues());
      values.set(base.getSchema().indexOf("date"), LocalDate.of(2024, 1, 1 + rnd.nextInt(3)));
      for (String g : groupBy) {
        if (!g.equals("date")) {
          values.set(base.getSchema().indexOf(g), texts[rnd.nextInt(texts.length)]);
        }
      }
      Row row = Row.withSchema(i % 2 == 0 ? DeduplicateByKeyTest.CLEAN : other)
          .attachValues(values);
      rows.add(row);
      expected.merge(DeduplicateByKey.keyOf(row, groupBy), 1L, Long::sum);
    }
    RowTask<KV<String, AggregateMeasures.Totals>> task = new AggregateMeasures(DEF).partialTotals();
    Map<String, Long> got = new HashMap<>();
    List<String> keys = new ArrayList<>();
    RowTask.Output<KV<String, AggregateMeasures.Totals>> out = kv -> {
      keys.add(kv.getKey());
      got.merge(kv.getKey(), kv.getValue().rows, Long::sum);
    };
    task.startBundle();
    for (Row row : rows) {
      task.process(row, out);
    }
    task.finishBundle(out);
    assertThat(got, equalTo(expected));
    assertThat(keys.size(), equalTo(expected.size()));
    assertThat(expected.size() > 30, equalTo(true));
  }
}
