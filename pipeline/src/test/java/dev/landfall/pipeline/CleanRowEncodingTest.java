package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.CleanRowCoder;
import dev.landfall.transforms.values.DatasetSchemas;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PValue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clean rows cross every hop of the graph in the compact {@link CleanRowCoder}: no collection of
 * the graph, in any mode, holds clean rows (alone, keyed or grouped) in Beam's {@code RowCoder},
 * which cost several times as much per row (docs/performance.md).
 */
class CleanRowEncodingTest extends PostgresTestBase {
  @ParameterizedTest
  @ValueSource(strings = {"backfill", "backfill-buckets", "parquet-only", "parquet-input", "watch"})
  void noCollectionHoldsCleanRowsInRowCoder(String mode) throws Exception {
    Pipeline pipeline = graph(mode);
    Schema clean = DatasetSchemas.clean(def);
    List<String> slow = new ArrayList<>();
    int[] compact = {0};
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public void visitValue(PValue value, TransformHierarchy.Node producer) {
            if (value instanceof PCollection) {
              Coder<?> coder = ((PCollection<?>) value).getCoder();
              if (holdsCleanRowsInRowCoder(coder, clean)) {
                slow.add(value.getName() + ": " + coder);
              }
              if (usesCleanRowCoder(coder, clean)) {
                compact[0]++;
              }
            }
          }
        });
    assertThat(slow, empty());
    assertThat("the clean rows were found at all", compact[0], greaterThan(0));
  }

  /**
   * In a backfill no collection of clean rows is read by more than one step: the sinks of clean
   * rows run in one step, which on Flink gets the rows as objects from the step before it instead
   * of a serialized copy per sink.
   */
  @ParameterizedTest
  @ValueSource(strings = {"backfill", "backfill-buckets", "parquet-only"})
  void noCollectionOfCleanRowsIsReadByTwoStepsInABackfill(String mode) throws Exception {
    Pipeline pipeline = graph(mode);
    Schema clean = DatasetSchemas.clean(def);
    Map<String, List<String>> readers = new TreeMap<>();
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            for (PCollection<?> in : node.getInputs().values()) {
              if (in.getCoder() instanceof CleanRowCoder
                  && ((CleanRowCoder) in.getCoder()).getSchema().equals(clean)) {
                readers
                    .computeIfAbsent(in.getName(), k -> new ArrayList<>())
                    .add(node.getFullName());
              }
            }
          }
        });
    assertThat("collections of clean rows were found at all", readers.size(), greaterThan(0));
    readers.forEach(
        (collection, steps) -> assertThat(collection + " is read by " + steps, steps, hasSize(1)));
  }

  private DatasetDefinition def;

  /** The graph of a run in {@code mode}, built without running it. */
  private Pipeline graph(String mode) throws Exception {
    Path input = dir.resolve("in-" + mode);
    Files.createDirectories(input.resolve("date=2024-01-01"));
    List<String> args = new ArrayList<>(List.of("--dbSchema=enc"));
    switch (mode) {
      case "backfill-buckets":
        args.add("--dedupeBuckets=8");
        break;
      case "parquet-only":
        args.add("--sinks=parquet");
        break;
      case "parquet-input":
        args.add("--format=parquet");
        break;
      case "watch":
        args.add("--watch=true");
        break;
      default:
        args.add("--dedupeBuckets=0");
    }
    LandfallOptions options =
        EndToEndChecks.options(
            input, dir.resolve("work-" + mode), postgres.jdbcUrl(), args.toArray(new String[0]));
    RunPlan plan = RunPlan.from(options);
    def = plan.definition();
    Database db = new Database(options.getJdbcUrl(), options.getDbUser());
    PostgresTables.createAll(
        db, DatasetTables.of(def, options.getDbSchema()), FileLedger::createTables);
    Pipeline pipeline = Pipeline.create(options);
    LandfallGraph.build(pipeline, plan, RunSetup.resources(plan, db, -1));
    return pipeline;
  }

  private static boolean holdsCleanRowsInRowCoder(Coder<?> coder, Schema clean) {
    return anyPart(
        coder,
        c ->
            (c instanceof SchemaCoder && ((SchemaCoder<?>) c).getSchema().equals(clean))
                || (c instanceof RowCoder && ((RowCoder) c).getSchema().equals(clean)));
  }

  private static boolean usesCleanRowCoder(Coder<?> coder, Schema clean) {
    return anyPart(
        coder, c -> c instanceof CleanRowCoder && ((CleanRowCoder) c).getSchema().equals(clean));
  }

  /** True when {@code coder} or any coder it is built from (key, value, element...) matches. */
  private static boolean anyPart(Coder<?> coder, Predicate<Coder<?>> test) {
    if (test.test(coder)) {
      return true;
    }
    for (Coder<?> c : components(coder)) {
      if (anyPart(c, test)) {
        return true;
      }
    }
    return false;
  }

  private static List<? extends Coder<?>> components(Coder<?> coder) {
    List<? extends Coder<?>> args = coder.getCoderArguments();
    return args == null ? List.of() : args;
  }
}
