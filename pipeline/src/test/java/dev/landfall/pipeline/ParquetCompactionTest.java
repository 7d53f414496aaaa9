package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --compact}: the small Parquet files of each partition are merged into one, readers see
 * the same rows, and the merged files stay exact when an input file is read again afterwards
 * (a re-run rewrites its part file) and after a merge interrupted before it deleted its inputs.
 */
class ParquetCompactionTest {
  @TempDir Path dir;

  @Test
  void smallFilesAreMergedPerPartitionAndStayExact() throws Exception {
    Path input = dir.resolve("in");
    // No duplicate keys: a Parquet-only run de-duplicates only what it reads together, and this
    // test re-reads one file alone.
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(3_000, 3, 4, 0.01, 0.0, 11).writeTo(input);
    Path work = dir.resolve("work");
    Path parquet = work.resolve("parquet");
    backfill(input, work);
    assertThat(dataFiles(parquet), hasSize(12));
    String rows = rows(parquet);
    assertThat(rows, equalTo(exp.valid + " rows, " + exp.valid + " keys"));
    String content = content(parquet);
    Path before = dir.resolve("before");
    copyTree(parquet, before);

    RunSummary compacted = LandfallPipeline.run(EndToEndChecks.options(input, work, "",
        "--sinks=parquet", "--compact"));
    assertThat(compacted.render(), compacted.succeeded(), equalTo(true));
    assertThat(compacted.parquetFilesMerged, equalTo(12L));
    assertThat(compacted.parquetFilesWritten, equalTo(3L));
    List<String> merged = dataFiles(parquet);
    assertThat(merged, hasSize(3));
    assertThat(merged.stream().map(f -> Path.of(f).getFileName().toString())
        .collect(Collectors.toList()), everyItem(startsWith("compact-")));
    assertThat(content(parquet), equalTo(content));

    // Compacting again changes nothing.
    RunSummary again = LandfallPipeline.run(EndToEndChecks.options(input, work, "",
        "--sinks=parquet", "--compact"));
    assertThat(again.parquetFilesMerged, equalTo(0L));
    assertThat(dataFiles(parquet), equalTo(merged));

    // A merge cut off after its rename, before it deleted its inputs: the inputs (older than the
    // merged file) are back beside it. Readers would see every row twice; the next compaction
    // (or Parquet write into the folder) deletes them.
    try (Stream<Path> old = Files.walk(before)) {
      for (Path p : old.filter(p -> p.getFileName().toString().startsWith("part-"))
          .collect(Collectors.toList())) {
        Files.copy(p, parquet.resolve(before.relativize(p)), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
    assertThat(dataFiles(parquet), hasSize(15));
    LandfallPipeline.run(EndToEndChecks.options(input, work, "", "--sinks=parquet", "--compact"));
    assertThat(dataFiles(parquet), equalTo(merged));
    assertThat(content(parquet), equalTo(content));

    // One input file read again (a Parquet-only re-run has no ledger): its part file is written
    // anew and its rows leave the merged file, so they are still there once.
    Path one;
    try (Stream<Path> csv = Files.walk(input)) {
      one = csv.filter(p -> p.toString().endsWith(".csv")).sorted().skip(5).findFirst()
          .orElseThrow();
    }
    backfill(input, work, "--inputGlob=" + input.relativize(one));
    assertThat(dataFiles(parquet), hasSize(4));
    assertThat(content(parquet), equalTo(content));

    // Every input file read again: each merged file loses all its rows and goes away.
    backfill(input, work);
    assertThat(dataFiles(parquet), hasSize(12));
    assertThat(content(parquet), equalTo(content));
  }

  private static void backfill(Path input, Path work, String... extra) throws Exception {
    String[] args = Stream.concat(Stream.of("--sinks=parquet"), Stream.of(extra))
        .toArray(String[]::new);
    RunSummary run = LandfallPipeline.run(EndToEndChecks.options(input, work, "", args));
    assertThat(run.render(), run.succeeded(), equalTo(true));
  }

  /** The reader-visible Parquet files, relative to the output folder. */
  private static List<String> dataFiles(Path parquet) throws Exception {
    try (Stream<Path> walk = Files.walk(parquet.resolve("billing"))) {
      return walk.filter(Files::isRegularFile)
          .map(p -> parquet.relativize(p).toString())
          .filter(p -> p.endsWith(".parquet") && !Path.of(p).getFileName().toString()
              .startsWith("."))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  private static String rows(Path parquet) throws Exception {
    return query(parquet, "SELECT count(*) || ' rows, ' || count(DISTINCT event_id) || ' keys'");
  }

  /** Row count and an order-independent hash of every row, partition column included. */
  private static String content(Path parquet) throws Exception {
    return query(parquet, "SELECT count(*) || ':' || sum(hash(t)::hugeint)");
  }

  private static String query(Path parquet, String select) throws Exception {
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r = s.executeQuery(select + " FROM read_parquet('" + parquet
            + "/billing/**/*.parquet', hive_partitioning = true) t")) {
      r.next();
      return r.getString(1);
    }
  }

  private static void copyTree(Path from, Path to) throws Exception {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.collect(Collectors.toList())) {
        Path target = to.resolve(from.relativize(p));
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
