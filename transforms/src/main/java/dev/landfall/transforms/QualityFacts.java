package dev.landfall.transforms;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * What a run's data-quality report needs, computed in the job (for a dry run, which has no database
 * to ask): one JSON line per input file ({@code "kind": "file"}: items, rows stored, rejected rows,
 * file dead letters, why it was quarantined or rejected), one per reject reason and column ({@code
 * "reject"}: count and up to {@value #EXAMPLES} example lines, the first by file and line), and one
 * for the columns of the clean rows ({@code "columns"}: rows, and per column the non-empty count,
 * minimum and maximum; lookup columns left out). Every aggregate is bounded: nothing grows with the
 * rows, only the file lines with the number of files.
 */
public class QualityFacts extends PTransform<PCollectionTuple, PCollection<String>> {
  /** The clean rows, one per key. */
  public static final TupleTag<Row> ROWS = new TupleTag<Row>() {};

  /** Dead letters, rows and files. */
  public static final TupleTag<Row> REJECTS = new TupleTag<Row>() {};

  /** Per file, its items (records and file dead letters). */
  public static final TupleTag<KV<String, Long>> FILE_ITEMS = new TupleTag<KV<String, Long>>() {};

  static final int EXAMPLES = 3;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DatasetDefinition definition;

  public QualityFacts(DatasetDefinition definition) {
    this.definition = definition;
  }

  @Override
  public PCollection<String> expand(PCollectionTuple in) {
    PCollection<Row> rows = in.get(ROWS);
    PCollection<Row> rejects = in.get(REJECTS);
    KvCoder<String, Long> counts = KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of());

    PCollection<KV<String, Long>> stored =
        rows.apply(
                "RowFiles",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.longs()))
                    .via((Row r) -> KV.of(r.getString(DatasetDefinition.SOURCE_FILE), 1L)))
            .apply("RowsPerFile", Sum.longsPerKey());
    PCollection<KV<String, FileRejects>> perFileRejects =
        rejects
            .apply(
                "RejectFiles",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.rows()))
                    .via((Row r) -> KV.of(r.getString(DatasetSchemas.RAW_FILE), r)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), rejects.getCoder()))
            .apply("RejectsPerFile", Combine.perKey(new FileRejectsFn()));
    TupleTag<Long> itemsTag = new TupleTag<Long>() {};
    TupleTag<Long> storedTag = new TupleTag<Long>() {};
    TupleTag<FileRejects> rejectsTag = new TupleTag<FileRejects>() {};
    PCollection<String> files =
        KeyedPCollectionTuple.of(itemsTag, in.get(FILE_ITEMS))
            .and(storedTag, stored.setCoder(counts))
            .and(
                rejectsTag,
                perFileRejects.setCoder(
                    KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(FileRejects.class))))
            .apply("FileFacts", CoGroupByKey.create())
            .apply(
                "FileLines",
                ParDo.of(
                    new DoFn<KV<String, CoGbkResult>, String>() {
                      @ProcessElement
                      public void process(
                          @Element KV<String, CoGbkResult> e, OutputReceiver<String> out) {
                        ObjectNode o = JSON.createObjectNode();
                        o.put("kind", "file");
                        o.put("path", e.getKey());
                        o.put("items", sum(e.getValue().getAll(itemsTag)));
                        o.put("stored", sum(e.getValue().getAll(storedTag)));
                        FileRejects r = e.getValue().getOnly(rejectsTag, new FileRejects());
                        o.put("rejectedRows", r.rows);
                        o.put("fileRejects", r.files);
                        o.put("quarantined", r.quarantined);
                        o.put("error", r.error);
                        out.output(o.toString());
                      }
                    }));

    PCollection<String> reasons =
        rejects
            .apply(
                "RejectReasons",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.rows()))
                    .via(
                        (Row r) ->
                            KV.of(
                                r.getString("reason")
                                    + "\t"
                                    + (r.getString("column_name") == null
                                        ? ""
                                        : r.getString("column_name")),
                                r)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), rejects.getCoder()))
            .apply("ExamplesPerReason", Combine.perKey(new ExamplesFn()))
            .apply(
                "ReasonLines",
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        (KV<String, Examples> e) -> {
                          ObjectNode o = JSON.createObjectNode();
                          o.put("kind", "reject");
                          String[] rc = e.getKey().split("\t", 2);
                          o.put("reason", rc[0]);
                          o.put("column", rc[1].isEmpty() ? null : rc[1]);
                          o.put("count", e.getValue().count);
                          ArrayNode list = o.putArray("examples");
                          for (String[] x : e.getValue().examples) {
                            list.addObject()
                                .put("file", x[0])
                                .put("line", Long.parseLong(x[1]))
                                .put("message", x[2])
                                .put("raw", x[3]);
                          }
                          return o.toString();
                        }));

    Schema schema = DatasetSchemas.clean(definition);
    List<String> profiled = new ArrayList<>();
    java.util.Set<String> looked = new java.util.HashSet<>();
    definition.lookups.forEach(l -> looked.addAll(l.columns));
    for (Schema.Field f : schema.getFields()) {
      String n = f.getName();
      // Lookup columns are filled from the database after this step, if at all.
      boolean skip =
          looked.contains(n)
              || n.equals(DatasetDefinition.SOURCE_FILE)
              || n.equals(DatasetDefinition.SOURCE_LINE)
              || n.equals(DatasetDefinition.RESCUED)
              || f.getType().getTypeName() == Schema.TypeName.ARRAY
              || f.getType().getTypeName() == Schema.TypeName.ITERABLE
              || f.getType().getTypeName() == Schema.TypeName.MAP;
      if (!skip) {
        profiled.add(n);
      }
    }
    PCollection<String> columns =
        rows.apply("ColumnProfile", Combine.globally(new ProfileFn(profiled)))
            .apply(
                "ColumnLines",
                MapElements.into(TypeDescriptors.strings()).via((Profile p) -> p.toJson(profiled)));

    return PCollectionList.of(files)
        .and(reasons)
        .and(columns)
        .apply("AllFacts", Flatten.pCollections());
  }

  private static long sum(Iterable<Long> values) {
    long s = 0;
    for (long v : values) {
      s += v;
    }
    return s;
  }

  /**
   * A combination of rows into a small {@link Serializable} accumulator that is also its output,
   * both encoded with {@link SerializableCoder} (they are few: one per file, reason or run).
   */
  abstract static class Accumulating<A extends Serializable> extends Combine.CombineFn<Row, A, A> {
    private final Class<A> type;

    Accumulating(Class<A> type) {
      this.type = type;
    }

    @Override
    public A extractOutput(A acc) {
      return acc;
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<A> getAccumulatorCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry,
        org.apache.beam.sdk.coders.Coder<Row> inputCoder) {
      return SerializableCoder.of(type);
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<A> getDefaultOutputCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry,
        org.apache.beam.sdk.coders.Coder<Row> inputCoder) {
      return SerializableCoder.of(type);
    }
  }

  /** A file's dead letters. */
  static final class FileRejects implements Serializable {
    private static final long serialVersionUID = 1L;
    long rows;
    long files;
    String quarantined;
    String error;
  }

  static final class FileRejectsFn extends Accumulating<FileRejects> {
    FileRejectsFn() {
      super(FileRejects.class);
    }

    @Override
    public FileRejects createAccumulator() {
      return new FileRejects();
    }

    @Override
    public FileRejects addInput(FileRejects acc, Row r) {
      String reason = r.getString("reason");
      long line = r.getInt64(DatasetSchemas.RAW_LINE);
      if (reason.equals(Rejects.QUARANTINED) && line == 0) {
        acc.files++;
        acc.quarantined = r.getString("message");
      } else if (reason.equals(Rejects.HEADER)
          || reason.equals(Rejects.PARTITION)
          || reason.equals(Rejects.FILE)) {
        acc.files++;
        String error = reason + ": " + r.getString("message");
        acc.error = acc.error == null || error.compareTo(acc.error) < 0 ? error : acc.error;
      } else {
        acc.rows++;
      }
      return acc;
    }

    @Override
    public FileRejects mergeAccumulators(Iterable<FileRejects> accs) {
      FileRejects m = new FileRejects();
      for (FileRejects a : accs) {
        m.rows += a.rows;
        m.files += a.files;
        m.quarantined = m.quarantined != null ? m.quarantined : a.quarantined;
        if (a.error != null && (m.error == null || a.error.compareTo(m.error) < 0)) {
          m.error = a.error;
        }
      }
      return m;
    }
  }

  /** A reason's count and its first examples (file, line, message, raw), by file and line. */
  static final class Examples implements Serializable {
    private static final long serialVersionUID = 1L;
    long count;
    List<String[]> examples = new ArrayList<>();

    private static final Comparator<String[]> ORDER =
        Comparator.<String[], String>comparing(x -> x[0])
            .thenComparingLong(x -> Long.parseLong(x[1]));

    void add(String[] example) {
      examples.add(example);
      examples.sort(ORDER);
      while (examples.size() > EXAMPLES) {
        examples.remove(examples.size() - 1);
      }
    }
  }

  static final class ExamplesFn extends Accumulating<Examples> {
    ExamplesFn() {
      super(Examples.class);
    }

    @Override
    public Examples createAccumulator() {
      return new Examples();
    }

    @Override
    public Examples addInput(Examples acc, Row r) {
      acc.count++;
      String raw = r.getString("raw");
      acc.add(
          new String[] {
            r.getString(DatasetSchemas.RAW_FILE),
            Long.toString(r.getInt64(DatasetSchemas.RAW_LINE)),
            r.getString("message"),
            raw == null ? null : raw.length() > 300 ? raw.substring(0, 300) + "\u2026" : raw
          });
      return acc;
    }

    @Override
    public Examples mergeAccumulators(Iterable<Examples> accs) {
      Examples m = new Examples();
      for (Examples a : accs) {
        m.count += a.count;
        a.examples.forEach(m::add);
      }
      return m;
    }
  }

  /** Rows counted, and per profiled column its non-empty count, minimum and maximum. */
  static final class Profile implements Serializable {
    private static final long serialVersionUID = 1L;
    long rows;
    long[] nonEmpty;
    Object[] min;
    Object[] max;

    Profile(int columns) {
      nonEmpty = new long[columns];
      min = new Object[columns];
      max = new Object[columns];
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    void take(int i, Object v) {
      if (v == null || (v instanceof String && ((String) v).isEmpty())) {
        return;
      }
      nonEmpty[i]++;
      if (!(v instanceof Comparable)) {
        return;
      }
      if (min[i] == null || ((Comparable) v).compareTo(min[i]) < 0) {
        min[i] = v;
      }
      if (max[i] == null || ((Comparable) v).compareTo(max[i]) > 0) {
        max[i] = v;
      }
    }

    String toJson(List<String> names) {
      ObjectNode o = JSON.createObjectNode();
      o.put("kind", "columns");
      o.put("rows", rows);
      ArrayNode list = o.putArray("columns");
      for (int i = 0; i < names.size(); i++) {
        list.addObject()
            .put("name", names.get(i))
            .put("nonEmpty", nonEmpty[i])
            .put("min", min[i] == null ? null : min[i].toString())
            .put("max", max[i] == null ? null : max[i].toString());
      }
      return o.toString();
    }
  }

  static final class ProfileFn extends Accumulating<Profile> {
    private final List<String> columns;

    ProfileFn(List<String> columns) {
      super(Profile.class);
      this.columns = new ArrayList<>(columns);
    }

    @Override
    public Profile createAccumulator() {
      return new Profile(columns.size());
    }

    @Override
    public Profile addInput(Profile acc, Row r) {
      acc.rows++;
      for (int i = 0; i < columns.size(); i++) {
        acc.take(i, r.getValue(columns.get(i)));
      }
      return acc;
    }

    @Override
    public Profile mergeAccumulators(Iterable<Profile> accs) {
      Profile m = createAccumulator();
      for (Profile a : accs) {
        m.rows += a.rows;
        for (int i = 0; i < columns.size(); i++) {
          long before = m.nonEmpty[i];
          m.take(i, a.min[i]);
          m.take(i, a.max[i]);
          m.nonEmpty[i] = before + a.nonEmpty[i];
        }
      }
      return m;
    }
  }
}
