package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeduplicateByKeyTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final Schema CLEAN = DatasetSchemas.clean(DEF);

  static Row row(String id, String cost, String file, long line) {
    return Row.withSchema(CLEAN).attachValues(LocalDate.of(2024, 1, 1), id,
        Instant.parse("2024-01-01T00:00:00Z"), "a", "compute", null, null, null, null,
        new BigDecimal(cost), "USD", 0, file, line, null, null, null);
  }

  @ParameterizedTest(name = "buckets={0}")
  @ValueSource(ints = {0, 3})
  void smallestFileAndLineWinsAndDuplicatesAreCounted(int buckets) {
    Pipeline p = TestPipelines.direct();
    var out =
        p.apply(Create.of(
                    row("a", "1.0000", "/f/b.csv", 2),
                    row("a", "2.0000", "/f/a.csv", 9),
                    row("a", "3.0000", "/f/a.csv", 10),
                    row("b", "4.0000", "/f/b.csv", 3))
                .withRowSchema(CLEAN))
            .apply(new DeduplicateByKey(DEF).inBuckets(buckets))
            .apply(MapElements.into(TypeDescriptors.strings())
                .via(r -> r.getString("event_id") + "=" + r.getDecimal("cost").toPlainString()));
    PAssert.that(out).containsInAnyOrder("a=2.0000", "b=4.0000");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, "rows-duplicate"), equalTo(2L));
    assertThat(counter(result, "rows-valid"), equalTo(2L));
  }

  static long counter(PipelineResult result, String name) {
    return JobCounters.sum(result, DeduplicateByKey.class, name);
  }
}
