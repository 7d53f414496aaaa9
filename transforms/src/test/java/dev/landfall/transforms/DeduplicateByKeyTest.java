package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeduplicateByKeyTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final Schema CLEAN = DatasetSchemas.clean(DEF);

  static Row row(String id, String cost, String file, long line) {
    return Row.withSchema(CLEAN)
        .attachValues(
            LocalDate.of(2024, 1, 1),
            id,
            Instant.parse("2024-01-01T00:00:00Z"),
            "a",
            "compute",
            null,
            null,
            null,
            null,
            new BigDecimal(cost),
            "USD",
            0,
            file,
            line,
            null,
            null,
            null);
  }

  @ParameterizedTest(name = "buckets={0}")
  @ValueSource(ints = {0, 3})
  void smallestFileAndLineWinsAndDuplicatesAreCounted(int buckets) {
    Pipeline p = TestPipelines.direct();
    var out =
        p.apply(
                Create.of(
                        row("a", "1.0000", "/f/b.csv", 2),
                        row("a", "2.0000", "/f/a.csv", 9),
                        row("a", "3.0000", "/f/a.csv", 10),
                        row("b", "4.0000", "/f/b.csv", 3))
                    .withRowSchema(CLEAN))
            .apply(new DeduplicateByKey(DEF).inBuckets(buckets))
            .apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        r -> r.getString("event_id") + "=" + r.getDecimal("cost").toPlainString()));
    PAssert.that(out).containsInAnyOrder("a=2.0000", "b=4.0000");
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, "rows-duplicate"), equalTo(2L));
    assertThat(counter(result, "rows-valid"), equalTo(2L));
  }

  @ParameterizedTest(name = "buckets={0}")
  @ValueSource(ints = {1, 3, 64})
  void packedRowsGiveTheSameWinnersAndPerFileDuplicateCounts(int buckets) {
    // Enough rows that chunks fill up and are handed on before the flush, text past 127 bytes
    // and outside ASCII, NULLs; every tenth key repeats in another file.
    DeduplicateByKey.Packer packer = new DeduplicateByKey.Packer(DEF, buckets);
    List<KV<Integer, byte[]>> chunks = new ArrayList<>();
    java.util.function.BiConsumer<Integer, byte[]> out = (b, c) -> chunks.add(KV.of(b, c));
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      String id = "é-" + i + "-" + "x".repeat(i % 200);
      packer.add(row(id, i + ".0000", "/f/b.csv", i + 2), out);
      if (i % 10 == 0) {
        packer.add(row(id, (100000 + i) + ".0000", "/f/a.csv", i + 2), out);
        expected.add(id + "=" + (100000 + i) + ".0000");
      } else {
        expected.add(id + "=" + i + ".0000");
      }
    }
    int before = chunks.size();
    packer.flush(out);
    if (buckets <= 3) {
      assertThat("full chunks were handed on before the flush", before > 0, equalTo(true));
    }
    assertThat(chunks.size() - before <= buckets, equalTo(true));
    for (KV<Integer, byte[]> c : chunks) {
      assertThat(c.getKey() >= 0 && c.getKey() < buckets, equalTo(true));
    }

    Pipeline p = TestPipelines.direct();
    var deduplicated =
        p.apply(Create.of(chunks).withCoder(DeduplicateByKey.chunkCoder()))
            .apply(DeduplicateByKey.packed(DEF));
    PAssert.that(
            deduplicated
                .unique()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            r ->
                                r.getString("event_id")
                                    + "="
                                    + r.getDecimal("cost").toPlainString())))
        .containsInAnyOrder(expected);
    PAssert.that(deduplicated.duplicates().apply(Sum.longsPerKey()))
        .containsInAnyOrder(KV.of("/f/b.csv", 500L));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    assertThat(counter(result, "rows-duplicate"), equalTo(500L));
    assertThat(counter(result, "rows-valid"), equalTo(5000L));
  }

  static long counter(PipelineResult result, String name) {
    return JobCounters.sum(result, DeduplicateByKey.class, name);
  }
}
