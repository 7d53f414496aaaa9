package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.parquet.ParquetCompaction;
import dev.landfall.io.parquet.WriteParquetBySize;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet files sized by data: whole input files are added to one open file per partition until it
 * holds about the target size; each file lists the input files it holds; an input file written
 * again replaces exactly its rows once the folder is reconciled.
 */
class WriteParquetBySizeTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final Schema CLEAN = DatasetSchemas.clean(DEF);

  @TempDir Path dir;

  static Pipeline pipeline() {
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    return Pipeline.create(o);
  }

  static Row row(String id, String file, long line) {
    // The partition value of the row, as the reader takes it from the file's folder.
    LocalDate day = LocalDate.parse(file.replaceAll(".*date=([0-9-]+)/.*", "$1"));
    return Row.withSchema(CLEAN)
        .attachValues(
            day,
            id,
            Instant.parse("2024-01-01T00:00:00Z"),
            "a",
            "compute",
            null,
            null,
            null,
            null,
            new BigDecimal("1.5000"),
            "USD",
            0,
            file,
            line,
            null,
            null,
            null);
  }

  /** Emits the rows in this order from one element, as one input file's reading does. */
  static final class EmitInOrder extends DoFn<Integer, Row> {
    private final List<String> spec;

    EmitInOrder(List<String> spec) {
      this.spec = spec;
    }

    @ProcessElement
    public void process(OutputReceiver<Row> out) {
      int line = 1;
      for (String s : spec) {
        String[] idAndFile = s.split("@");
        out.output(row(idAndFile[0], idAndFile[1], ++line));
      }
    }
  }

  private PCollection<KV<String, String>> write(Pipeline p, long target, String... rows) {
    return p.apply(Create.of(1))
        .apply(ParDo.of(new EmitInOrder(List.of(rows))))
        .setCoder(DatasetSchemas.cleanCoder(DEF))
        .apply(new WriteParquetBySize(DEF, dir.toString(), 1 << 20, target));
  }

  private String folder(String day) {
    return WriteParquetPartitions.datasetFolder(dir.toString(), DEF) + "/date=" + day + "/";
  }

  private static List<String> names(String folder) throws Exception {
    try (Stream<Path> files = Files.list(Path.of(folder))) {
      return files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  /** The rows of the folder's Parquet files, as "event_id@source_file". */
  private static List<String> rows(String folder) throws Exception {
    List<String> ids = new java.util.ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of(folder))) {
      for (Path f :
          files
              .filter(
                  f ->
                      f.getFileName().toString().startsWith("compact-")
                          || f.getFileName().toString().startsWith("part-"))
              .collect(Collectors.toList())) {
        try (org.apache.parquet.hadoop.ParquetReader<GenericRecord> r =
            org.apache.parquet.avro.AvroParquetReader.<GenericRecord>builder(
                    org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                        new org.apache.hadoop.fs.Path(f.toString()),
                        new org.apache.hadoop.conf.Configuration()))
                .build()) {
          for (GenericRecord g = r.read(); g != null; g = r.read()) {
            ids.add(g.get("event_id") + "@" + g.get("source_file"));
          }
        }
      }
    }
    java.util.Collections.sort(ids);
    return ids;
  }

  private static String part(String sourceFile) {
    return WriteParquetPartitions.filePrefix(sourceFile) + "-00000-of-00001.parquet";
  }

  @Test
  void inputFilesOfAPartitionShareAFileThatListsThem() throws Exception {
    Pipeline p = pipeline();
    PCollection<KV<String, String>> written =
        write(
            p,
            128L << 20,
            "e1@/in/date=2024-01-01/a.csv",
            "e2@/in/date=2024-01-01/a.csv",
            "e3@/in/date=2024-01-02/c.csv",
            "e4@/in/date=2024-01-01/b.csv");
    PAssert.that(
            written.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via((KV<String, String> kv) -> kv.getKey())))
        .containsInAnyOrder("date=2024-01-01", "date=2024-01-02");
    p.run().waitUntilFinish();

    List<String> day1 = names(folder("2024-01-01"));
    assertThat(day1.size(), equalTo(2));
    assertThat(
        day1.get(0).startsWith("_compact-") && day1.get(0).endsWith(".parquet.members"),
        equalTo(true));
    assertThat(day1.get(1), equalTo(day1.get(0).substring(1, day1.get(0).length() - 8)));
    assertThat(
        Files.readAllLines(Path.of(folder("2024-01-01"), day1.get(0))),
        equalTo(
            Stream.of(part("/in/date=2024-01-01/a.csv"), part("/in/date=2024-01-01/b.csv"))
                .sorted()
                .collect(Collectors.toList())));
    assertThat(
        rows(folder("2024-01-01")),
        equalTo(
            List.of(
                "e1@/in/date=2024-01-01/a.csv",
                "e2@/in/date=2024-01-01/a.csv",
                "e4@/in/date=2024-01-01/b.csv")));
    assertThat(rows(folder("2024-01-02")), equalTo(List.of("e3@/in/date=2024-01-02/c.csv")));
  }

  @Test
  void aFileIsClosedOnceItHoldsTheTargetSizeAfterWholeInputFiles() throws Exception {
    Pipeline p = pipeline();
    write(
        p,
        1,
        "e1@/in/date=2024-01-01/a.csv",
        "e2@/in/date=2024-01-01/a.csv",
        "e3@/in/date=2024-01-01/b.csv");
    p.run().waitUntilFinish();
    List<String> parquet =
        names(folder("2024-01-01")).stream()
            .filter(n -> n.endsWith(".parquet"))
            .collect(Collectors.toList());
    assertThat("one per input file: each fills the target", parquet.size(), equalTo(2));
    assertThat(
        rows(folder("2024-01-01")),
        equalTo(
            List.of(
                "e1@/in/date=2024-01-01/a.csv",
                "e2@/in/date=2024-01-01/a.csv",
                "e3@/in/date=2024-01-01/b.csv")));
  }

  @Test
  void anInputFileWrittenAgainReplacesExactlyItsRowsOnceTheFolderIsReconciled() throws Exception {
    Pipeline first = pipeline();
    write(
        first,
        128L << 20,
        "e1@/in/date=2024-01-01/a.csv",
        "e2@/in/date=2024-01-01/b.csv",
        "e3@/in/date=2024-01-01/c.csv");
    first.run().waitUntilFinish();
    Thread.sleep(5); // a newer modification time (ties are broken by name, also checked below)
    // A re-run that groups differently: b and c again (b with a changed row), a not at all.
    Pipeline second = pipeline();
    write(second, 128L << 20, "e2x@/in/date=2024-01-01/b.csv", "e3@/in/date=2024-01-01/c.csv");
    second.run().waitUntilFinish();
    assertThat(
        "before the reconcile both copies are there",
        rows(folder("2024-01-01")).size(),
        equalTo(5));

    new ParquetCompaction(128L << 20, 1 << 20)
        .reconcileAndBound(
            org.apache.beam.sdk.io.FileSystems.matchNewResource(folder("2024-01-01"), true));
    assertThat(
        rows(folder("2024-01-01")),
        equalTo(
            List.of(
                "e1@/in/date=2024-01-01/a.csv",
                "e2x@/in/date=2024-01-01/b.csv",
                "e3@/in/date=2024-01-01/c.csv")));
    assertThat(
        "the older file now holds only a",
        names(folder("2024-01-01")).stream()
            .filter(n -> n.endsWith(".members"))
            .map(
                n -> {
                  try {
                    return Files.readAllLines(Path.of(folder("2024-01-01"), n)).stream()
                        .filter(m -> m.startsWith("part-"))
                        .collect(Collectors.toList());
                  } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                })
            .sorted(java.util.Comparator.comparing(List::size))
            .collect(Collectors.toList()),
        equalTo(
            List.of(
                List.of(part("/in/date=2024-01-01/a.csv")),
                Stream.of(part("/in/date=2024-01-01/b.csv"), part("/in/date=2024-01-01/c.csv"))
                    .sorted()
                    .collect(Collectors.toList()))));
  }

  @Test
  void rowsOfAFileAfterItsRowsWereClosedFailTheStepInsteadOfWritingThemTwice() {
    Pipeline p = pipeline();
    write(
        p,
        128L << 20,
        "e1@/in/date=2024-01-01/a.csv",
        "e2@/in/date=2024-01-01/b.csv",
        "e3@/in/date=2024-01-01/a.csv");
    Exception e = assertThrows(Exception.class, () -> p.run().waitUntilFinish());
    assertThat(e.getMessage(), containsString("arrived after its Parquet rows were written"));
  }
}
