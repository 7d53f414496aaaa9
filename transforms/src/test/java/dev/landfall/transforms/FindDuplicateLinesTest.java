package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FindDuplicateLinesTest {
  static KV<String, Long> at(String key, int file, long line) {
    return KV.of(key, FindDuplicateLines.position(file, line));
  }

  @ParameterizedTest(name = "buckets={0}")
  @ValueSource(ints = {0, 3})
  void everyPositionButTheSmallestOfItsKeyLoses(int buckets) {
    Pipeline p = TestPipelines.direct();
    PCollection<String> losers = p
        .apply(Create.of(
                at("a", 1, 2), // loses to file 0
                at("a", 0, 9), // the smallest of "a"
                at("a", 0, 10),
                at("b", 1, 3), // alone
                at("c", 2, 5),
                at("c", 2, 4), // same file: the earlier line wins
                at("c", 3, 1),
                at("d", 0, 1L << 39)) // a large line number survives the packing
            .withCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())))
        .apply(new FindDuplicateLines().inBuckets(buckets))
        .apply(MapElements.into(TypeDescriptors.strings())
            .via(kv -> kv.getKey() + ":" + kv.getValue()));
    PAssert.that(losers).containsInAnyOrder("1:2", "0:10", "2:5", "3:1");
    p.run().waitUntilFinish();
  }

  @Test
  void aPositionKeepsItsFileAndLineAndOrdersByFileThenLine() {
    long p = FindDuplicateLines.position(7, 123_456_789_012L);
    assertThat(FindDuplicateLines.fileRank(p), equalTo(7));
    assertThat(FindDuplicateLines.line(p), equalTo(123_456_789_012L));
    assertThat(FindDuplicateLines.position(1, 1) < FindDuplicateLines.position(1, 2), equalTo(true));
    assertThat(FindDuplicateLines.position(1, 999_999) < FindDuplicateLines.position(2, 1),
        equalTo(true));
    assertThrows(IllegalArgumentException.class, () -> FindDuplicateLines.position(-1, 1));
    assertThrows(IllegalArgumentException.class, () -> FindDuplicateLines.position(1, 1L << 40));
  }
}
