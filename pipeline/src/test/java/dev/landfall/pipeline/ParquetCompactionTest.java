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
 * A backfill's Parquet files are sized by data (one per partition here, not one per input file),
 * {@code --compact} leaves them alone, and they stay exact when input files are read again (a
 * Parquet-only re-run has no ledger: the newer file holding an input file wins) and when files an
 * earlier write replaced come back.
 */
class ParquetCompactionTest {
  @TempDir Path dir;

  @Test
  void aBackfillWritesFilesSizedByDataAndReReadsStayExact() throws Exception {
    Path input = dir.resolve("in");
    // No duplicate keys: a Parquet-only run de-duplicates only what it reads together, and this
    // test re-reads one file alone.
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(3_000, 3, 4, 0.01, 0.0, 11).writeTo(input);
    Path work = dir.resolve("work");
    Path parquet = work.resolve("parquet");
    // 12 small input files over 3 days: one file per partition, each listing its input files.
    backfill(input, work);
    List<String> first = dataFiles(parquet);
    assertThat(first, hasSize(3));
    assertThat(
        first.stream().map(f -> Path.of(f).getFileName().toString()).collect(Collectors.toList()),
        everyItem(startsWith("compact-")));
    String rows = rows(parquet);
    assertThat(rows, equalTo(exp.valid + " rows, " + exp.valid + " keys"));
    String content = content(parquet);
    Path before = dir.resolve("before");
    copyTree(parquet, before);

    // Compacting changes nothing: each partition is one file already.
    RunSummary compacted =
        LandfallPipeline.run(
            EndToEndChecks.options(input, work, "", "--sinks=parquet", "--compact"));
    assertThat(compacted.render(), compacted.succeeded(), equalTo(true));
    assertThat(compacted.parquetFilesMerged, equalTo(0L));
    assertThat(dataFiles(parquet), equalTo(first));

    // One input file read again (a Parquet-only re-run has no ledger): it is written anew, and
    // its rows leave the file that held them, so they are still there once.
    Path one;
    try (Stream<Path> csv = Files.walk(input)) {
      one =
          csv.filter(p -> p.toString().endsWith(".csv")).sorted().skip(5).findFirst().orElseThrow();
    }
    backfill(input, work, "--inputGlob=" + input.relativize(one));
    assertThat(dataFiles(parquet), hasSize(4));
    assertThat(content(parquet), equalTo(content));

    // Every input file read again: the older files lose all their rows and go away.
    backfill(input, work);
    List<String> again = dataFiles(parquet);
    assertThat(again, hasSize(3));
    assertThat(content(parquet), equalTo(content));

    // Files of an earlier write that should have been replaced come back under other names (a
    // copy, a cut-off clean-up): they are older than the files holding the same input files, so
    // the next compaction (or Parquet write into the folder) drops their rows.
    try (Stream<Path> old = Files.walk(before)) {
      for (Path p : old.filter(Files::isRegularFile).collect(Collectors.toList())) {
        String name =
            p.getFileName()
                .toString()
                .replaceAll("compact-[0-9a-f]{16}", "compact-0000000000000000");
        Files.copy(
            p,
            parquet.resolve(before.relativize(p)).resolveSibling(name),
            StandardCopyOption.COPY_ATTRIBUTES,
            StandardCopyOption.REPLACE_EXISTING);
      }
    }
    assertThat(dataFiles(parquet).size() > 3, equalTo(true));
    LandfallPipeline.run(EndToEndChecks.options(input, work, "", "--sinks=parquet", "--compact"));
    assertThat(dataFiles(parquet), equalTo(again));
    assertThat(content(parquet), equalTo(content));
  }

  private static void backfill(Path input, Path work, String... extra) throws Exception {
    String[] args =
        Stream.concat(Stream.of("--sinks=parquet"), Stream.of(extra)).toArray(String[]::new);
    RunSummary run = LandfallPipeline.run(EndToEndChecks.options(input, work, "", args));
    assertThat(run.render(), run.succeeded(), equalTo(true));
  }

  /** The reader-visible Parquet files, relative to the output folder. */
  private static List<String> dataFiles(Path parquet) throws Exception {
    try (Stream<Path> walk = Files.walk(parquet.resolve("billing"))) {
      return walk.filter(Files::isRegularFile)
          .map(p -> parquet.relativize(p).toString())
          .filter(
              p -> p.endsWith(".parquet") && !Path.of(p).getFileName().toString().startsWith("."))
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
        ResultSet r =
            s.executeQuery(
                select
                    + " FROM read_parquet('"
                    + parquet
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
