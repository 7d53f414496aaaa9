package dev.landfall.transforms;

import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Tells when every item of an input file has reached its end: the reader reports how many items
 * (records and file-level dead letters) a file produced ({@link #EXPECTED}); the later steps
 * report, per file, how many of them they finished with ({@link #ACCOUNTED}: rows stored, rows
 * dropped as duplicates, dead letters stored). When the two meet, the file's path is emitted once,
 * with its item count.
 *
 * <p>State is two numbers per file still in flight, cleared as soon as the file completes, so it
 * does not grow with the number of files a long watch run has finished. The counter {@code
 * files-in-flight} (incremented when a file's state is created, decremented when it is cleared)
 * makes that observable.
 */
public class TrackFileCompletion
    extends PTransform<PCollectionTuple, PCollection<KV<String, Long>>> {
  /** Per file, the number of items it produced (may arrive in several parts). */
  public static final TupleTag<KV<String, Long>> EXPECTED = new TupleTag<KV<String, Long>>() {};

  /**
   * Per file, a number of items finished with (rows stored, duplicates dropped, rejects stored).
   */
  public static final TupleTag<KV<String, Long>> ACCOUNTED = new TupleTag<KV<String, Long>>() {};

  private static final int EXPECT = 0;
  private static final int ACCOUNT = 1;

  @Override
  public PCollection<KV<String, Long>> expand(PCollectionTuple input) {
    PCollection<KV<String, KV<Integer, Long>>> expected =
        input.get(EXPECTED).apply("TagExpected", tagWith(EXPECT));
    PCollection<KV<String, KV<Integer, Long>>> accounted =
        input.get(ACCOUNTED).apply("TagAccounted", tagWith(ACCOUNT));
    return PCollectionList.of(expected)
        .and(accounted)
        .apply("CollectPerFile", Flatten.pCollections())
        .apply("CompleteFiles", ParDo.of(new CompleteFn()))
        .setCoder(countCoder());
  }

  private static MapElements<KV<String, Long>, KV<String, KV<Integer, Long>>> tagWith(int kind) {
    return MapElements.into(
            TypeDescriptors.kvs(
                TypeDescriptors.strings(),
                TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.longs())))
        .via((KV<String, Long> kv) -> KV.of(kv.getKey(), KV.of(kind, kv.getValue())));
  }

  static class CompleteFn extends DoFn<KV<String, KV<Integer, Long>>, KV<String, Long>> {
    private final Counter inFlight = Metrics.counter(TrackFileCompletion.class, "files-in-flight");
    private final Counter completed = Metrics.counter(TrackFileCompletion.class, "files-completed");

    @StateId("expected")
    private final StateSpec<ValueState<Long>> expectedSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("accounted")
    private final StateSpec<ValueState<Long>> accountedSpec = StateSpecs.value(VarLongCoder.of());

    @ProcessElement
    public void process(
        @Element KV<String, KV<Integer, Long>> event,
        @StateId("expected") ValueState<Long> expected,
        @StateId("accounted") ValueState<Long> accounted,
        OutputReceiver<KV<String, Long>> out) {
      Long want = expected.read();
      Long have = accounted.read();
      if (want == null && have == null) {
        inFlight.inc();
      }
      long n = event.getValue().getValue();
      if (event.getValue().getKey() == EXPECT) {
        want = (want == null ? 0 : want) + n;
        expected.write(want);
      } else {
        have = (have == null ? 0 : have) + n;
        accounted.write(have);
      }
      if (want != null && (have == null ? 0 : have) >= want) {
        expected.clear();
        accounted.clear();
        inFlight.dec();
        completed.inc();
        out.output(KV.of(event.getKey(), want));
      }
    }
  }

  /** The coder of both inputs. */
  public static KvCoder<String, Long> countCoder() {
    return KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
  }
}
