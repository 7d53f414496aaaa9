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
  @ValueSource(ints = {0, 1, 3, 1024})
  void everyPositionButTheSmallestOfItsKeyLoses(int buckets) {
    Pipeline p = TestPipelines.direct();
    PCollection<String> losers =
        p.apply(
                Create.of(
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
            .apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(kv -> kv.getKey() + ":" + kv.getValue()));
    PAssert.that(losers).containsInAnyOrder("1:2", "0:10", "2:5", "3:1");
    p.run().waitUntilFinish();
  }

  @Test
  void chunksCarryManyPairsAndKeysOfAnyLengthAndScript() {
    // Enough pairs that chunks fill up and are handed on before the bundle ends.
    int keys = 20_000;
    java.util.List<KV<String, Long>> pairs = new java.util.ArrayList<>();
    String longKey = "k".repeat(5_000) + "\u00e9\u4e2d\ud83d\ude00";
    for (int i = 0; i < keys; i++) {
      pairs.add(at("key-" + i, 1, i + 1));
      if (i % 7 == 0) {
        pairs.add(at("key-" + i, 0, i + 1)); // wins: an earlier file
      }
    }
    pairs.add(at(longKey, 2, 1));
    pairs.add(at(longKey, 2, 2));
    Pipeline p = TestPipelines.direct();
    PCollection<Long> losers =
        p.apply(Create.of(pairs).withCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())))
            .apply(new FindDuplicateLines().inBuckets(5))
            .apply(
                MapElements.into(TypeDescriptors.longs())
                    .via(kv -> kv.getKey() * 1_000_000L + kv.getValue()));
    java.util.List<Long> expected = new java.util.ArrayList<>();
    for (int i = 0; i < keys; i += 7) {
      expected.add(1_000_000L + i + 1);
    }
    expected.add(2_000_002L);
    PAssert.that(losers).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
  }

  @Test
  void chunksPackedByTheCallerGiveTheSameLosers() {
    // A caller (the first pass of a backfill) packs pairs itself, two packers as two workers.
    FindDuplicateLines.Packer first = new FindDuplicateLines.Packer(3);
    FindDuplicateLines.Packer second = new FindDuplicateLines.Packer(3);
    java.util.List<KV<Integer, byte[]>> chunks = new java.util.ArrayList<>();
    FindDuplicateLines.Packer.Emit emit = (b, chunk) -> chunks.add(KV.of(b, chunk));
    java.util.List<Long> expected = new java.util.ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      first.add("key-" + i, FindDuplicateLines.position(1, i + 1), emit);
      if (i % 3 == 0) {
        second.add("key-" + i, FindDuplicateLines.position(0, i + 1), emit); // wins
        expected.add(1_000_000L + i + 1);
      }
    }
    first.flush(emit);
    second.flush(emit);
    assertThat(chunks.size() > 6, equalTo(true)); // full chunks were handed on before the flush
    Pipeline p = TestPipelines.direct();
    PCollection<Long> losers =
        p.apply(Create.of(chunks).withCoder(FindDuplicateLines.PACKED_CODER))
            .apply(FindDuplicateLines.fromPacked())
            .apply(
                MapElements.into(TypeDescriptors.longs())
                    .via(kv -> kv.getKey() * 1_000_000L + kv.getValue()));
    PAssert.that(losers).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
  }

  @Test
  void bucketsRefuseWindowedInput() {
    Pipeline p = TestPipelines.direct();
    PCollection<KV<String, Long>> windowed =
        p.apply(
                Create.of(at("a", 0, 1))
                    .withCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of())))
            .apply(
                org.apache.beam.sdk.transforms.windowing.Window.into(
                    org.apache.beam.sdk.transforms.windowing.FixedWindows.of(
                        org.joda.time.Duration.standardMinutes(1))));
    assertThrows(
        IllegalArgumentException.class,
        () -> windowed.apply(new FindDuplicateLines().inBuckets(4)));
  }

  @Test
  void aPositionKeepsItsFileAndLineAndOrdersByFileThenLine() {
    long p = FindDuplicateLines.position(7, 123_456_789_012L);
    assertThat(FindDuplicateLines.fileRank(p), equalTo(7));
    assertThat(FindDuplicateLines.line(p), equalTo(123_456_789_012L));
    assertThat(
        FindDuplicateLines.position(1, 1) < FindDuplicateLines.position(1, 2), equalTo(true));
    assertThat(
        FindDuplicateLines.position(1, 999_999) < FindDuplicateLines.position(2, 1), equalTo(true));
    assertThrows(IllegalArgumentException.class, () -> FindDuplicateLines.position(-1, 1));
    assertThrows(IllegalArgumentException.class, () -> FindDuplicateLines.position(1, 1L << 40));
  }
}
