package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

class RunRowTasksTest {
  static final Schema SCHEMA = Schema.builder().addStringField("name").addInt64Field("n").build();
  static final TupleTag<String> NAMES = new TupleTag<>("names") {};
  static final TupleTag<Long> TOTAL = new TupleTag<>("total") {};

  /** Hands on each row's name as it passes. */
  static final class Names extends RowTask<String> {
    @Override
    public void process(Row row, Output<String> out) {
      out.output(row.getString("name"));
    }
  }

  /** Adds up {@code n} over a bundle and hands the total on at its end. */
  static final class Total extends RowTask<Long> {
    private transient long sum;

    @Override
    public void startBundle() {
      sum = 0;
    }

    @Override
    public void process(Row row, Output<Long> out) {
      sum += row.getInt64("n");
    }

    @Override
    public void finishBundle(Output<Long> out) {
      out.output(sum);
    }
  }

  @Test
  void everyTaskSeesEveryRowAndHasItsOwnOutput() {
    List<Row> rows = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (long i = 1; i <= 100; i++) {
      rows.add(Row.withSchema(SCHEMA).addValues("r" + i, i).build());
      names.add("r" + i);
    }
    Pipeline p = TestPipelines.direct();
    PCollectionTuple out =
        p.apply(Create.of(rows).withRowSchema(SCHEMA))
            .apply(
                RunRowTasks.of(NAMES, StringUtf8Coder.of(), new Names())
                    .and(TOTAL, VarLongCoder.of(), new Total()));
    PAssert.that(out.get(NAMES)).containsInAnyOrder(names);
    // Bundles may split the rows any way; their totals add up to 1 + ... + 100.
    PAssert.thatSingleton(out.get(TOTAL).apply(Sum.longsGlobally())).isEqualTo(5050L);
    p.run().waitUntilFinish();
  }

  @Test
  void twoTasksMayNotShareAnOutput() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RunRowTasks.of(NAMES, StringUtf8Coder.of(), new Names())
                    .and(new TupleTag<String>("names"), StringUtf8Coder.of(), new Names()));
    assertThat(e.getMessage(), containsString("names"));
  }

  @Test
  void rowsOutsideTheGlobalWindowAreRefused() {
    Pipeline p = TestPipelines.direct();
    PCollection<Row> windowed =
        p.apply(Create.of(Row.withSchema(SCHEMA).addValues("a", 1L).build()).withRowSchema(SCHEMA))
            .apply(Window.into(FixedWindows.of(Duration.standardMinutes(1))));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> windowed.apply(RunRowTasks.of(NAMES, StringUtf8Coder.of(), new Names())));
    assertThat(e.getMessage(), containsString("global window"));
  }
}
