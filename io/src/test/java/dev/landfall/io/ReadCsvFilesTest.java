package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.csv.ReadRawCsvRecords;
import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.input.InputRead;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReadCsvFilesTest {
  static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  static final String HEADER =
      "event_id,event_time,account_id,service,region,resource_id,usage_quantity,unit_price,cost,currency";

  @TempDir Path dir;

  static Pipeline pipeline() {
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    return Pipeline.create(o);
  }

  private void write(String relative, String text) throws Exception {
    Path p = dir.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.write(p, text.getBytes(StandardCharsets.UTF_8));
  }

  private InputRead<Row> read(Pipeline p) {
    return p.apply(new MatchInputFiles(dir.toString(), "**/*.csv*"))
        .apply(new ReadRawCsvRecords(DEF));
  }

  /** file-name:line:cells-count, or file-name:line:reason for dead letters. */
  private static MapElements<Row, String> describeRecords() {
    return MapElements.into(TypeDescriptors.strings())
        .via(
            r ->
                Path.of(r.getString("source_file")).getFileName()
                    + ":"
                    + r.getInt64("line_number")
                    + ":"
                    + r.<String>getArray("cells").size());
  }

  @Test
  void rfc4180QuotingBomCrlfGzipAndHeaderOrder() throws Exception {
    // BOM, CRLF, quoted comma, doubled quotes and a line break inside quotes, blank line.
    write(
        "date=2024-01-01/a.csv",
        "\ufeff"
            + HEADER
            + "\r\n"
            + "e1,2024-01-01T00:00:00Z,a,compute,r,\"x, \"\"y\"\"\",1,1,1,USD\r\n"
            + "e2,2024-01-01T00:00:00Z,a,compute,r,\"two\r\nlines\",1,1,1,USD\r\n"
            + "\r\n"
            + "e3,2024-01-01T00:00:00Z,a,compute,r,z,1,1,1,USD\r\n");
    // Columns in another order plus an unknown column; gzip.
    Path gz = dir.resolve("date=2024-01-02/b.csv.gz");
    Files.createDirectories(gz.getParent());
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(
          ("currency,cost,extra,event_id,event_time,account_id,service\n"
                  + "EUR,2.5,zzz,e4,2024-01-02 10:00:00,b,storage\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    Pipeline p = pipeline();
    InputRead<Row> out = read(p);
    PAssert.that(out.read().apply(describeRecords()))
        .containsInAnyOrder("a.csv:2:10", "a.csv:3:10", "a.csv:6:10", "b.csv.gz:2:7");
    PAssert.that(
            out.read()
                .apply(
                    "Cells",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            r ->
                                r.<String>getArray("cells").stream()
                                    .skip(5)
                                    .findFirst()
                                    .orElse(""))))
        .satisfies(
            cells -> {
              List<String> all = new java.util.ArrayList<>();
              cells.forEach(all::add);
              assertThat(all.contains("x, \"y\""), equalTo(true));
              assertThat(all.contains("two\r\nlines"), equalTo(true));
              return null;
            });
    PAssert.that(out.rejects()).empty();
    p.run().waitUntilFinish();
  }

  @Test
  void unusableFilesGiveOneDeadLetterEach() throws Exception {
    write("date=2024-01-01/empty.csv", "");
    write("date=2024-01-01/nokey.csv", "event_time,cost\n2024-01-01T00:00:00Z,1\n");
    write("date=notadate/bad-partition.csv", HEADER + "\n");
    write("elsewhere/no-partition.csv", HEADER + "\n");
    write(
        "date=2024-01-01/open-quote.csv",
        HEADER
            + "\n"
            + "e1,2024-01-01T00:00:00Z,a,compute,r,z,1,1,1,USD\n"
            + "e2,2024-01-01T00:00:00Z,a,compute,r,\"never closed,1,1,1,USD\n");
    Pipeline p = pipeline();
    InputRead<Row> out = read(p);
    PAssert.that(
            out.rejects()
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            r ->
                                Path.of(r.getString("source_file")).getFileName()
                                    + ":"
                                    + r.getString("reason"))))
        .containsInAnyOrder(
            "empty.csv:header",
            "nokey.csv:header",
            "bad-partition.csv:partition",
            "no-partition.csv:partition",
            "open-quote.csv:file");
    PAssert.that(out.read().apply(describeRecords())).containsInAnyOrder("open-quote.csv:2:10");
    p.run().waitUntilFinish();
  }
}
