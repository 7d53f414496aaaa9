package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.io.parquet.ParquetRows;
import dev.landfall.io.parquet.WriteParquetPartitions;
import dev.landfall.io.parquet.WriteParquetPerFile;
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
import org.apache.beam.sdk.io.parquet.ParquetIO;
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

class WriteParquetPerFileTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final Schema CLEAN = DatasetSchemas.clean(DEF);

  @TempDir Path dir;

  static Pipeline pipeline() {
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    return Pipeline.create(o);
  }

  static Row row(String id, String file, long line) {
    return Row.withSchema(CLEAN).attachValues(LocalDate.of(2024, 1, 1), id,
        Instant.parse("2024-01-01T00:00:00Z"), "a", "compute", null, null, null, null,
        new BigDecimal("1.5000"), "USD", 0, file, line, null, null, null);
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

  private PCollection<KV<String, String>> write(Pipeline p, String... rows) {
    return p.apply(Create.of(1))
        .apply(ParDo.of(new EmitInOrder(List.of(rows))))
        .setCoder(DatasetSchemas.cleanCoder(DEF))
        .apply(new WriteParquetPerFile(DEF, dir.toString(), 1 << 20));
  }

  @Test
  void oneFilePerInputFileNamedAsTheShuffledWriterNamesIt() throws Exception {
    Pipeline p = pipeline();
    PCollection<KV<String, String>> written =
        write(p, "e1@/in/date=2024-01-01/a.csv", "e2@/in/date=2024-01-01/a.csv",
            "e3@/in/date=2024-01-01/b.csv");
    String folder = WriteParquetPartitions.datasetFolder(dir.toString(), DEF) + "/date=2024-01-01/";
    String a = WriteParquetPartitions.filePrefix("/in/date=2024-01-01/a.csv");
    String b = WriteParquetPartitions.filePrefix("/in/date=2024-01-01/b.csv");
    PAssert.that(written).containsInAnyOrder(
        KV.of("date=2024-01-01/" + a, folder + WriteParquetPartitions.fileName(
            "/in/date=2024-01-01/a.csv")),
        KV.of("date=2024-01-01/" + b, folder + b + "-00000-of-00001.parquet"));
    p.run().waitUntilFinish();

    try (Stream<Path> files = Files.list(Path.of(folder))) {
      assertThat(files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.toList()),
          equalTo(Stream.of(a, b).map(x -> x + "-00000-of-00001.parquet").sorted()
              .collect(Collectors.toList())));
    }
    Pipeline read = pipeline();
    PCollection<String> ids = read
        .apply(ParquetIO.read(ParquetRows.avroSchema(DEF)).from(folder + "*.parquet"))
        .apply(MapElements.into(TypeDescriptors.strings())
            .via((GenericRecord r) -> r.get("event_id") + "@" + r.get("source_file")));
    PAssert.that(ids).containsInAnyOrder("e1@/in/date=2024-01-01/a.csv",
        "e2@/in/date=2024-01-01/a.csv", "e3@/in/date=2024-01-01/b.csv");
    read.run().waitUntilFinish();
  }

  @Test
  void rowsOfAFileAfterItsFileWasClosedFailTheStepInsteadOfReplacingIt() {
    Pipeline p = pipeline();
    write(p, "e1@/in/date=2024-01-01/a.csv", "e2@/in/date=2024-01-01/b.csv",
        "e3@/in/date=2024-01-01/a.csv");
    Exception e = assertThrows(Exception.class, () -> p.run().waitUntilFinish());
    assertThat(e.getMessage(), containsString("arrived after its Parquet file was written"));
  }
}
