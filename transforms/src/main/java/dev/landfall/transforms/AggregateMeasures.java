package dev.landfall.transforms;

import dev.landfall.transforms.definition.ColumnType;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.CleanRowCoder;
import dev.landfall.transforms.values.DatasetSchemas;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.BigDecimalCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/**
 * Aggregates clean, de-duplicated rows per {@code aggregates.groupBy} with the definition's
 * measures. {@code count, sum, avg, min, max} are exact (decimal sums in {@link BigDecimal});
 * percentiles {@code pNN} come from a mergeable KLL sketch (k = {@value #SKETCH_K}, normalized rank
 * error about 0.8%). The output schema is {@link DatasetSchemas#aggregates}.
 */
public class AggregateMeasures extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** KLL accuracy parameter: about 0.8% normalized rank error at 99% confidence. */
  public static final int SKETCH_K = 400;

  /** Scale of averages of decimal and integer columns. */
  public static final int AVG_SCALE = 6;

  private final DatasetDefinition definition;
  private final int maxGroupsPerBundle;

  public AggregateMeasures(DatasetDefinition definition) {
    this(definition, MAX_GROUPS_PER_BUNDLE);
  }

  private AggregateMeasures(DatasetDefinition definition, int maxGroupsPerBundle) {
    this.definition = definition;
    this.maxGroupsPerBundle = maxGroupsPerBundle;
  }

  /** The same aggregation, handing partial totals on after {@code n} groups (for tests). */
  AggregateMeasures withMaxGroupsPerBundle(int n) {
    return new AggregateMeasures(definition, n);
  }

  /**
   * Groups a bundle keeps in memory before it hands their partial totals on; more groups than this
   * in one bundle are handed on in several parts (and merged after the shuffle).
   */
  static final int MAX_GROUPS_PER_BUNDLE = 5_000;

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    // Partial totals per group are built in each bundle before the shuffle: only one
    // accumulator per group and bundle is encoded and sorted, not every row.
    return rows
        .apply("TotalsPerBundle", RunRowTasks.single(partialTotalsCoder(), partialTotals()))
        .apply(mergePartialTotals());
  }

  /**
   * The first half of this transform as a task, to run with others over the same rows ({@link
   * RunRowTasks}): each group's partial totals, built per bundle and keyed by the group.
   */
  public RowTask<KV<String, Totals>> partialTotals() {
    return new PartialTotalsTask(definition, new MeasuresFn(definition), maxGroupsPerBundle);
  }

  /** The coder of {@link #partialTotals()}' output. */
  public Coder<KV<String, Totals>> partialTotalsCoder() {
    return KvCoder.of(StringUtf8Coder.of(), new TotalsCoder(DatasetSchemas.groups(definition),
        new MeasuresFn(definition).measureCount()));
  }

  /** The second half: merges the partial totals of each group into its aggregate row. */
  public PTransform<PCollection<KV<String, Totals>>, PCollection<Row>> mergePartialTotals() {
    Schema out = DatasetSchemas.aggregates(definition);
    MeasuresFn measures = new MeasuresFn(definition);
    return new PTransform<>("MergePartialTotals") {
      @Override
      public PCollection<Row> expand(PCollection<KV<String, Totals>> partials) {
        return partials
            .apply("CombineMeasures", Combine.perKey(new MergeTotalsFn(measures)))
            .apply(
                "ToAggregateRow",
                MapElements.into(TypeDescriptors.rows())
                    .via((KV<String, Row> kv) -> kv.getValue()))
            .setRowSchema(out);
      }
    };
  }

  /**
   * Adds each row to its group's running totals, kept per bundle in memory (at most {@link
   * #MAX_GROUPS_PER_BUNDLE} groups by default), and hands the totals on when the bundle ends.
   *
   * <p>A row finds its group by the group columns' values, read by position ({@link GroupValues}),
   * so that the text key of the shuffle ({@link DeduplicateByKey#keyOf}) is built once per group
   * and bundle rather than once per row. Values that are equal have the same text, so a group is
   * never merged with another; the merge after the shuffle goes by the text key in any case.
   */
  static final class PartialTotalsTask extends RowTask<KV<String, Totals>> {
    private final List<String> groupBy;
    private final MeasuresFn measures;
    private final int maxGroups;
    private transient Map<GroupValues, Totals> open;

    PartialTotalsTask(DatasetDefinition def, MeasuresFn measures, int maxGroups) {
      this.groupBy = def.aggregates.groupBy;
      this.measures = measures;
      this.maxGroups = maxGroups;
    }

    @Override
    public void startBundle() {
      open = new HashMap<>();
    }

    @Override
    public void process(Row row, Output<KV<String, Totals>> out) {
      GroupValues group = measures.groupOf(row);
      Totals acc = open.get(group);
      if (acc == null) {
        if (open.size() >= maxGroups) {
          // Hand on what is held so far; the combine after the shuffle merges the parts.
          handOn(out);
          open.clear();
        }
        acc = measures.createAccumulator();
        open.put(group, acc);
      }
      measures.addInput(acc, row);
    }

    @Override
    public void finishBundle(Output<KV<String, Totals>> out) {
      handOn(out);
      open = null;
    }

    private void handOn(Output<KV<String, Totals>> out) {
      open.forEach((g, a) -> out.output(KV.of(DeduplicateByKey.keyOf(a.group, groupBy), a)));
    }
  }

  /** The positions of {@code columns} in {@code schema}. */
  static int[] positions(Schema schema, List<String> columns) {
    int[] at = new int[columns.size()];
    for (int i = 0; i < at.length; i++) {
      at[i] = schema.indexOf(columns.get(i));
    }
    return at;
  }

  /** The values of a row's group columns, equal when each value is equal (NULLs too). */
  static final class GroupValues {
    private final Object[] values;
    private final int hash;

    GroupValues(Row row, int[] at) {
      values = new Object[at.length];
      for (int i = 0; i < at.length; i++) {
        values[i] = row.getValue(at[i]);
      }
      hash = Arrays.hashCode(values);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof GroupValues && Arrays.equals(values, ((GroupValues) o).values);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /** Merges the partial totals of a group and turns them into its aggregate row. */
  static final class MergeTotalsFn extends Combine.CombineFn<Totals, Totals, Row> {
    private final MeasuresFn measures;

    MergeTotalsFn(MeasuresFn measures) {
      this.measures = measures;
    }

    @Override
    public Totals createAccumulator() {
      return measures.createAccumulator();
    }

    @Override
    public Totals addInput(Totals acc, Totals part) {
      return measures.mergeAccumulators(List.of(acc, part));
    }

    @Override
    public Totals mergeAccumulators(Iterable<Totals> accs) {
      return measures.mergeAccumulators(accs);
    }

    @Override
    public Row extractOutput(Totals acc) {
      return measures.extractOutput(acc);
    }

    @Override
    public Coder<Totals> getAccumulatorCoder(CoderRegistry registry, Coder<Totals> inputCoder) {
      return inputCoder;
    }

    @Override
    public Coder<Row> getDefaultOutputCoder(CoderRegistry registry, Coder<Totals> inputCoder) {
      return measures.getDefaultOutputCoder(registry, null);
    }
  }

  /** Running totals of one measured column. */
  static final class Measure {
    long count;
    BigDecimal sum;
    BigDecimal min;
    BigDecimal max;
    KllDoublesSketch sketch;
  }

  /** Running totals of one group (its measures so far); opaque outside this class. */
  public static final class Totals {
    Row group;
    long rows;
    Measure[] measures;
  }

  static final class TotalsCoder extends CustomCoder<Totals> {
    private final Coder<Row> groupCoder;
    private final int measureCount;
    private static final Coder<BigDecimal> DEC = NullableCoder.of(BigDecimalCoder.of());

    TotalsCoder(Schema groups, int measureCount) {
      this.groupCoder = NullableCoder.of(CleanRowCoder.of(groups));
      this.measureCount = measureCount;
    }

    @Override
    public void encode(Totals acc, OutputStream out) throws IOException {
      groupCoder.encode(acc.group, out);
      DataOutputStream data = new DataOutputStream(out);
      data.writeLong(acc.rows);
      for (Measure m : acc.measures) {
        data.writeLong(m.count);
        data.flush();
        DEC.encode(m.sum, out);
        DEC.encode(m.min, out);
        DEC.encode(m.max, out);
        byte[] sketch = m.sketch == null ? new byte[0] : m.sketch.toByteArray();
        data.writeInt(m.sketch == null ? -1 : sketch.length);
        data.write(sketch);
      }
      data.flush();
    }

    @Override
    public Totals decode(InputStream in) throws IOException {
      Totals acc = new Totals();
      acc.group = groupCoder.decode(in);
      DataInputStream data = new DataInputStream(in);
      acc.rows = data.readLong();
      acc.measures = new Measure[measureCount];
      for (int i = 0; i < measureCount; i++) {
        Measure m = new Measure();
        m.count = data.readLong();
        m.sum = DEC.decode(in);
        m.min = DEC.decode(in);
        m.max = DEC.decode(in);
        int len = data.readInt();
        if (len >= 0) {
          byte[] bytes = new byte[len];
          data.readFully(bytes);
          m.sketch = KllDoublesSketch.heapify(Memory.wrap(bytes));
        }
        acc.measures[i] = m;
      }
      return acc;
    }
  }

  static final class MeasuresFn extends Combine.CombineFn<Row, Totals, Row> {
    private final DatasetDefinition def;
    private final List<String> measureColumns;
    private final boolean[] wantsSketch;
    private transient Schema groupSchema;
    private transient Schema outSchema;
    // The positions of the group and measure columns in the last input row's schema.
    private transient Schema rowSchema;
    private transient int[] groupAt;
    private transient int[] measureAt;

    int measureCount() {
      return measureColumns.size();
    }

    MeasuresFn(DatasetDefinition def) {
      this.def = def;
      this.measureColumns = new ArrayList<>(def.aggregates.measures.keySet());
      this.wantsSketch = new boolean[measureColumns.size()];
      for (int i = 0; i < wantsSketch.length; i++) {
        for (String fn : def.aggregates.measures.get(measureColumns.get(i))) {
          wantsSketch[i] |= DatasetDefinition.percentileRank(fn) > 0;
        }
      }
    }

    private Schema groupSchema() {
      if (groupSchema == null) {
        groupSchema = DatasetSchemas.groups(def);
      }
      return groupSchema;
    }

    private Schema outSchema() {
      if (outSchema == null) {
        outSchema = DatasetSchemas.aggregates(def);
      }
      return outSchema;
    }

    @Override
    public Totals createAccumulator() {
      Totals acc = new Totals();
      acc.measures = new Measure[measureColumns.size()];
      for (int i = 0; i < acc.measures.length; i++) {
        acc.measures[i] = new Measure();
      }
      return acc;
    }

    /** The values of {@code row}'s group columns. */
    GroupValues groupOf(Row row) {
      positionsIn(row.getSchema());
      return new GroupValues(row, groupAt);
    }

    private void positionsIn(Schema schema) {
      if (schema != rowSchema) {
        rowSchema = schema;
        groupAt = positions(schema, def.aggregates.groupBy);
        measureAt = positions(schema, measureColumns);
      }
    }

    @Override
    public Totals addInput(Totals acc, Row row) {
      positionsIn(row.getSchema());
      if (acc.group == null) {
        Object[] g = new Object[groupAt.length];
        for (int i = 0; i < g.length; i++) {
          g[i] = row.getValue(groupAt[i]);
        }
        acc.group = Row.withSchema(groupSchema()).attachValues(g);
      }
      acc.rows++;
      for (int i = 0; i < acc.measures.length; i++) {
        Object v = row.getValue(measureAt[i]);
        if (v == null) {
          continue;
        }
        Measure m = acc.measures[i];
        BigDecimal d = ParseAndValidate.toDecimal(v);
        m.count++;
        m.sum = m.sum == null ? d : m.sum.add(d);
        m.min = m.min == null || d.compareTo(m.min) < 0 ? d : m.min;
        m.max = m.max == null || d.compareTo(m.max) > 0 ? d : m.max;
        if (wantsSketch[i]) {
          if (m.sketch == null) {
            m.sketch = KllDoublesSketch.newHeapInstance(SKETCH_K);
          }
          m.sketch.update(((Number) v).doubleValue());
        }
      }
      return acc;
    }

    @Override
    public Totals mergeAccumulators(Iterable<Totals> accs) {
      Totals merged = createAccumulator();
      for (Totals a : accs) {
        if (merged.group == null) {
          merged.group = a.group;
        }
        merged.rows += a.rows;
        for (int i = 0; i < merged.measures.length; i++) {
          Measure into = merged.measures[i];
          Measure m = a.measures[i];
          into.count += m.count;
          if (m.sum != null) {
            into.sum = into.sum == null ? m.sum : into.sum.add(m.sum);
            into.min = into.min == null || m.min.compareTo(into.min) < 0 ? m.min : into.min;
            into.max = into.max == null || m.max.compareTo(into.max) > 0 ? m.max : into.max;
          }
          if (m.sketch != null) {
            if (into.sketch == null) {
              into.sketch = KllDoublesSketch.newHeapInstance(SKETCH_K);
            }
            into.sketch.merge(m.sketch);
          }
        }
      }
      return merged;
    }

    @Override
    public Row extractOutput(Totals acc) {
      Schema out = outSchema();
      Object[] values = new Object[out.getFieldCount()];
      int at = 0;
      for (int i = 0; i < acc.group.getFieldCount(); i++) {
        values[at++] = acc.group.getValue(i);
      }
      values[at++] = acc.rows;
      int mi = 0;
      for (Map.Entry<String, List<String>> e : def.aggregates.measures.entrySet()) {
        Measure m = acc.measures[mi++];
        boolean isDouble = def.typeOf(e.getKey()).kind() == ColumnType.Kind.DOUBLE;
        for (String fn : e.getValue()) {
          values[at++] = measure(fn, m, isDouble);
        }
      }
      return Row.withSchema(out).attachValues(values);
    }

    private static Object measure(String fn, Measure m, boolean isDouble) {
      if (fn.equals("count")) {
        return m.count;
      }
      if (m.count == 0) {
        return null;
      }
      double rank = DatasetDefinition.percentileRank(fn);
      if (rank > 0) {
        return m.sketch.getQuantile(rank);
      }
      BigDecimal v;
      switch (fn) {
        case "sum":
          v = m.sum;
          break;
        case "avg":
          v = m.sum.divide(BigDecimal.valueOf(m.count), MathContext.DECIMAL128)
              .setScale(Math.max(AVG_SCALE, m.sum.scale()), java.math.RoundingMode.HALF_UP);
          break;
        case "min":
          v = m.min;
          break;
        case "max":
          v = m.max;
          break;
        default:
          throw new IllegalStateException("unknown measure function " + fn);
      }
      return isDouble ? (Object) v.doubleValue() : v;
    }

    @Override
    public Coder<Totals> getAccumulatorCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return new TotalsCoder(DatasetSchemas.groups(def), measureColumns.size());
    }

    @Override
    public Coder<Row> getDefaultOutputCoder(CoderRegistry registry, Coder<Row> inputCoder) {
      return RowCoder.of(DatasetSchemas.aggregates(def));
    }
  }
}
