package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.fail;

import dev.landfall.io.ledger.FileLedger;
import dev.landfall.io.postgres.Database;
import dev.landfall.pipeline.options.LandfallOptions;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watch job's step names are a contract: Beam's FlinkRunner derives each operator's uid from
 * its step's full name, and a savepoint maps its state onto operators by uid. This test compares
 * the names of the default watch graph (PostgreSQL and Parquet sinks, the sample definition) with
 * the list kept in {@code deploy/flink/step-names-watch.txt}, so that renaming, adding or removing
 * a step is a deliberate change: update the list (run this test with {@code
 * -Dlandfall.updateStepNames=true}) and say in docs/flink.md how to upgrade a running watch.
 */
class StepNamesTest {
  static final Path LIST = Paths.get("..", "deploy", "flink", "step-names-watch.txt");

  @TempDir Path dir;

  @Test
  void theWatchJobHasTheListedStepNames() throws Exception {
    LandfallOptions options = options("--watch");
    RunPlan plan = RunPlan.from(options);
    Pipeline p = Pipeline.create(options);
    // The graph is built from resources alone: no server is asked anything (the URL is unused).
    Database db = new Database(options.getJdbcUrl(), options.getDbUser());
    LandfallGraph.build(
        p, plan, RunResources.withDatabase(db, new FileLedger(db, plan.tables()), true, 0));

    List<String> names = stepNames(p);

    if (Boolean.getBoolean("landfall.updateStepNames")) {
      Files.write(LIST, header(names.size()), StandardCharsets.UTF_8);
      Files.write(LIST, names, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
      return;
    }
    List<String> listed = listed();
    if (!names.equals(listed)) {
      Set<String> added = new LinkedHashSet<>(names);
      added.removeAll(listed);
      Set<String> removed = new LinkedHashSet<>(listed);
      removed.removeAll(names);
      fail(
          "The watch job's step names differ from "
              + LIST
              + " (Flink operator uids: a savepoint"
              + " of the previous build will not map onto the changed steps).\n"
              + "New or renamed: "
              + added
              + "\nGone: "
              + removed
              + "\n"
              + (added.isEmpty() && removed.isEmpty() ? "Same names, another order.\n" : "")
              + "If this is deliberate, run this test with -Dlandfall.updateStepNames=true and say in"
              + " docs/flink.md how to upgrade a running watch across it.");
    }
  }

  @Test
  void aBackfillGraphIsBuiltFromTheResourcesWithoutAskingTheDatabase() throws Exception {
    LandfallOptions options = options();
    RunPlan plan = RunPlan.from(options);
    Database db = new Database(options.getJdbcUrl(), options.getDbUser());
    FileLedger ledger = new FileLedger(db, plan.tables());

    // Nothing listens on port 9: a graph that asked the ledger would fail here.
    Pipeline later = Pipeline.create(options);
    LandfallGraph.build(later, plan, RunResources.withDatabase(db, ledger, true, -1));
    Pipeline first = Pipeline.create(options);
    LandfallGraph.build(first, plan, RunResources.withDatabase(db, ledger, false, -1));

    // What earlier runs left decides the graph: only a later backfill leaves out stored keys.
    assertThat(
        stepNames(later).stream().anyMatch(n -> n.startsWith("DropKeysStoredBefore")), is(true));
    assertThat(
        stepNames(first).stream().anyMatch(n -> n.startsWith("DropKeysStoredBefore")), is(false));
  }

  /**
   * The options of a run over a small generated input, writing to a database nothing listens on
   * (port 9): building a graph must not need it.
   */
  private LandfallOptions options(String... more) throws Exception {
    BillingSampleGenerator.standard(50, 1).writeTo(dir.resolve("in"));
    List<String> args =
        new ArrayList<>(
            List.of(
                "--input=" + dir.resolve("in"),
                "--workDir=" + dir.resolve("work"),
                "--output=" + dir.resolve("out"),
                "--jdbcUrl=jdbc:postgresql://127.0.0.1:9/unused",
                "--dbUser=postgres"));
    args.addAll(List.of(more));
    return LandfallPipeline.options(args.toArray(new String[0]));
  }

  /** Every step's full name (composites and primitives), in the graph's topological order. */
  static List<String> stepNames(Pipeline p) {
    List<String> names = new ArrayList<>();
    p.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode()) {
              names.add(node.getFullName());
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            names.add(node.getFullName());
          }
        });
    return names;
  }

  private static List<String> header(int count) {
    return List.of(
        "# The step names of the default watch job ("
            + count
            + " steps): the uids of"
            + " its Flink operators,",
        "# the contract a savepoint is restored by. Checked by StepNamesTest; regenerate with",
        "#   mvn -pl pipeline test -Dtest=StepNamesTest -Dlandfall.updateStepNames=true",
        "# and say in docs/flink.md how to upgrade a running watch when it changes.");
  }

  private static List<String> listed() throws IOException {
    return Files.readAllLines(LIST, StandardCharsets.UTF_8).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("#"))
        .collect(Collectors.toList());
  }
}
