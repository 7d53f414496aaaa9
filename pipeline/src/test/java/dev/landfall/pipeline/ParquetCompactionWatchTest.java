package dev.landfall.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThan;

import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Watch mode writes one Parquet file per input file; with {@code --compactAfterFiles} a partition
 * folder's small files are merged as they accumulate, so a long watch run leaves a few files per
 * partition instead of one per input file, holding exactly the stored rows.
 */
class ParquetCompactionWatchTest extends PostgresTestBase {
  @Test
  void watchModeMergesSmallFilesAsTheyAccumulate() throws Exception {
    Path input = dir.resolve("in");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(2_000, 2, 5, 0.01, 0.02, 5).writeTo(input);
    try (Stream<Path> files = Files.walk(input)) {
      for (Path p : files.filter(Files::isRegularFile).collect(Collectors.toList())) {
        Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
      }
    }
    Path work = dir.resolve("watch");
    RunSummary run =
        LandfallPipeline.run(
            EndToEndChecks.options(
                input,
                work,
                postgres.jdbcUrl(),
                "--dbSchema=compact_watch",
                "--watch",
                "--pollInterval=1s",
                "--stopAfterIdle=4s",
                "--compactAfterFiles=3"));
    assertThat(run.render(), run.succeeded(), equalTo(true));

    Path dataset = work.resolve("parquet").resolve("billing");
    List<Path> folders;
    try (Stream<Path> list = Files.list(dataset)) {
      folders = list.filter(Files::isDirectory).sorted().collect(Collectors.toList());
    }
    assertThat(folders, hasSize(2));
    for (Path folder : folders) {
      // 5 input files. After each file's write its folder is merged once it holds 3 small files,
      // so at the end fewer than 3 are left, one of them merged (how many depends on how the
      // files' writes interleave: 3 + 2 gives one file, 4 + 1 two).
      List<String> data = names(folder, ".parquet");
      assertThat(folder + ": " + data, data.size(), lessThan(3));
      List<String> merged =
          data.stream().filter(n -> n.startsWith("compact-")).collect(Collectors.toList());
      assertThat(folder + ": " + data, merged, hasSize(1));
      assertThat(names(folder, ".members"), equalTo(List.of("_" + merged.get(0) + ".members")));
    }
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = duck.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), count(DISTINCT event_id) FROM read_parquet('"
                    + dataset
                    + "/**/*.parquet', hive_partitioning = true)")) {
      r.next();
      assertThat(r.getLong(1), equalTo(exp.valid));
      assertThat(r.getLong(2), equalTo(exp.valid));
    }
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      assertThat(
          EndToEndChecks.scalar(c, "SELECT count(*) FROM compact_watch.billing"),
          equalTo(exp.valid));
    }
  }

  private static List<String> names(Path folder, String suffix) throws Exception {
    try (Stream<Path> list = Files.list(folder)) {
      return list.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(suffix) && !n.startsWith("."))
          .sorted()
          .collect(Collectors.toList());
    }
  }
}
