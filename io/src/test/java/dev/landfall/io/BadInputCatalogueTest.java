package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;

import dev.landfall.io.csv.ReadCsvFiles;
import dev.landfall.io.csv.ReadDeduplicatedCsv;
import dev.landfall.io.csv.ReadRawCsvRecords;
import dev.landfall.io.files.MatchInputFiles;
import dev.landfall.io.input.InputRead;
import dev.landfall.transforms.DeduplicateByKey;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.metrics.JobCounters;
import dev.landfall.transforms.values.DatasetSchemas;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input catalogue (issue 7): one test per case, each on a file generated into a temporary
 * folder and run through the pipeline's reading half ({@link MatchInputFiles}, then {@link
 * ReadDeduplicatedCsv} as in a backfill) on the DirectRunner. Every test checks the rows kept,
 * every dead letter (file, line, reason, column) and that the run accounts for every row read:
 * {@code rows-read = rows-valid + rows-duplicate + rows-rejected}. The README table "Bad input:
 * what happens" lists the same cases.
 */
class BadInputCatalogueTest {
  static final DatasetDefinition BILLING = DatasetDefinition.builtIn("billing");
  static final String HEADER =
      "event_id,event_time,account_id,service,region,resource_id,usage_quantity,unit_price,cost,currency";
  static final String DAY = "date=2024-01-01/";

  @TempDir Path dir;
  String glob = "**/*.csv*";

  /** How the files are read: as a backfill reads CSV files, unless a test says otherwise. */
  enum Reading {
    /** A backfill: keys first, then each file's winners ({@code ReadDeduplicatedCsv}). */
    TWICE,
    /** A watch run: read and validated in one step, then de-duplicated. */
    ONE_STEP,
    /** Parquet input's way: read, then validated in a step of its own. */
    SEPARATE_STEPS
  }

  Reading reading = Reading.TWICE;

  @Test
  void everyWayOfReadingGivesTheSameRowsDeadLettersAndCounts() throws Exception {
    write(
        DAY + "mixed.csv",
        HEADER
            + "\n"
            + row("e1")
            + "\n"
            + "e2,not-a-time,a,compute,r,x,1,1,2,USD\n"
            + "e3,2024-01-01T00:00:00Z,,compute,r,x,1,1,2,USD\n"
            + "e4,2024-01-01T00:00:00Z,a,compute\n"
            + row("e1")
            + "\n"
            + row("e5")
            + "\n");
    write(
        DAY + "no-cost.csv",
        HEADER.replace(",cost,", ",") + "\n" + "e6,2024-01-01T00:00:00Z,a,compute,r,x,1,1,USD\n");
    write("date=2024-13-01/bad-partition.csv", HEADER + "\n" + row("e7") + "\n");
    List<String> kept = List.of(DAY + "mixed.csv:2:e1", DAY + "mixed.csv:7:e5");
    List<String> rejects =
        List.of(
            DAY + "mixed.csv:3:type:event_time",
            DAY + "mixed.csv:4:required:account_id",
            DAY + "mixed.csv:5:column_count:null",
            DAY + "no-cost.csv:1:header:null",
            "date=2024-13-01/bad-partition.csv:0:partition:null");
    Map<String, Long> counts = new HashMap<>();
    for (Reading way : Reading.values()) {
      reading = way;
      Counts c = run(BILLING, kept, rejects, "header lacks required column(s) [cost]");
      for (String name :
          List.of(
              "rows-read",
              "rows-valid",
              "rows-duplicate",
              "rows-rejected",
              "files-read",
              "files-rejected")) {
        Long before = counts.putIfAbsent(name, c.get(name));
        if (before != null) {
          assertThat(name, c.get(name), equalTo(before));
        }
      }
    }
    assertThat(counts.get("rows-read"), equalTo(6L));
    assertThat(counts.get("rows-duplicate"), equalTo(1L));
  }

  // ---------------------------------------------------------------------------------------------
  // Files: empty, header problems, encodings, line endings, quoting, size, compression, binary.

  @Test
  void emptyFileIsRejectedOnceAsHeader() throws Exception {
    write(DAY + "empty.csv", "");
    write(DAY + "blank-lines.csv", "\n\r\n\n");
    Counts c =
        run(
            BILLING,
            List.of(),
            List.of(DAY + "empty.csv:0:header:null", DAY + "blank-lines.csv:0:header:null"),
            "file is empty");
    assertThat(c.get("rows-read"), equalTo(0L));
    assertThat(c.get("files-rejected"), equalTo(2L));
  }

  @Test
  void headerOnlyFileIsReadWithNoRowsAndNoDeadLetter() throws Exception {
    write(DAY + "header-only.csv", HEADER + "\n");
    Counts c = run(BILLING, List.of(), List.of());
    assertThat(c.get("rows-read"), equalTo(0L));
    assertThat(c.get("files-read"), equalTo(1L));
    assertThat(c.get("files-rejected"), equalTo(0L));
  }

  @Test
  void missingHeaderIsOneFileRejectNotARejectPerRow() throws Exception {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= 5000; i++) {
      sb.append(row("e" + i)).append('\n');
    }
    write(DAY + "no-header.csv", sb.toString());
    Counts c =
        run(
            BILLING,
            List.of(),
            List.of(DAY + "no-header.csv:1:header:null"),
            "names none of the defined columns");
    assertThat(c.get("rows-read"), equalTo(0L));
    assertThat(c.get("files-rejected"), equalTo(1L));
  }

  @Test
  void headerColumnsInAnotherOrderAreMatchedByName() throws Exception {
    write(
        DAY + "reordered.csv",
        "Currency , COST,service,account_id,event_time,event_id\n"
            + "EUR,2.5,storage,acct,2024-01-01T10:00:00Z,e1\n");
    run(
        BILLING,
        kept(
            r ->
                r.getString("event_id")
                    + "/"
                    + r.getString("currency")
                    + "/"
                    + r.getDecimal("cost").toPlainString()
                    + "/"
                    + r.getString("region")),
        List.of("e1/EUR/2.5000/null"),
        List.of());
  }

  @Test
  void extraUnknownColumnsAreIgnoredAndCountedOncePerFile() throws Exception {
    write(
        DAY + "extra.csv",
        "notes,"
            + HEADER
            + ",internal_flag\n"
            + "hello,"
            + row("e1")
            + ",x\n"
            + "world,"
            + row("e2")
            + ",y\n");
    write(DAY + "plain.csv", HEADER + "\n" + row("e3") + "\n");
    Counts c =
        run(
            BILLING,
            List.of(DAY + "extra.csv:2:e1", DAY + "extra.csv:3:e2", DAY + "plain.csv:2:e3"),
            List.of());
    assertThat(c.get("files-with-unknown-columns"), equalTo(1L));
    assertThat(c.get("files-rejected"), equalTo(0L));
  }

  @Test
  void requiredColumnMissingFromHeaderRejectsTheFile() throws Exception {
    write(
        DAY + "no-cost.csv",
        HEADER.replace(",cost,", ",") + "\n" + "e1,2024-01-01T00:00:00Z,a,compute,r,x,1,1,USD\n");
    run(
        BILLING,
        List.of(),
        List.of(DAY + "no-cost.csv:1:header:null"),
        "header lacks required column(s) [cost]");
  }

  @Test
  void utf8BomIsSkippedEvenBeforeAQuotedHeader() throws Exception {
    write(DAY + "bom.csv", "\ufeff" + HEADER + "\n" + row("e1") + "\n");
    write(
        DAY + "bom-quoted.csv",
        "\ufeff\"event_id\",\"event_time\",\"account_id\",\"service\",\"cost\",\"currency\"\n"
            + "\"e2\",\"2024-01-01T00:00:00Z\",\"a\",\"compute\",\"1\",\"USD\"\n");
    run(BILLING, List.of(DAY + "bom.csv:2:e1", DAY + "bom-quoted.csv:2:e2"), List.of());
  }

  @Test
  void crlfLfAndLoneCrLineEndingsKeepTheirLineNumbers() throws Exception {
    write(
        DAY + "endings.csv",
        HEADER
            + "\r\n"
            + row("e2")
            + "\r\n"
            + row("e3")
            + "\n"
            + row("e4")
            + "\r"
            + "\r\n"
            + row("e6").replace(",USD", ",GBP")
            + "\n"
            + row("e7"));
    run(
        BILLING,
        List.of(
            DAY + "endings.csv:2:e2",
            DAY + "endings.csv:3:e3",
            DAY + "endings.csv:4:e4",
            DAY + "endings.csv:7:e7"),
        List.of(DAY + "endings.csv:6:constraint:currency"));
  }

  @Test
  void quotedDelimitersDoubledQuotesAndLineBreaksInsideQuotes() throws Exception {
    write(
        DAY + "quoting.csv",
        HEADER
            + "\n"
            + "e2,2024-01-01T00:00:00Z,a,compute,r,\"x, \"\"y\"\"\",1,1,1,USD\n"
            + "e3,2024-01-01T00:00:00Z,a,compute,r,\"two\nlines\r\nthree\",1,1,1,USD\n"
            + "e6,2024-01-01T00:00:00Z,a,compute,r,z,1,1,-1,USD\n");
    run(
        BILLING,
        kept(
            r ->
                r.getString("event_id")
                    + "@"
                    + r.getInt64("source_line")
                    + "="
                    + r.getString("resource_id")),
        List.of("e2@2=x, \"y\"", "e3@3=two\nlines\r\nthree"),
        List.of(DAY + "quoting.csv:6:constraint:cost"));
  }

  @Test
  void unterminatedQuoteAtEndOfFileKeepsEarlierRowsAndNamesTheLine() throws Exception {
    write(
        DAY + "open-quote.csv",
        HEADER
            + "\n"
            + row("e2")
            + "\n"
            + row("e3")
            + "\n"
            + "e4,2024-01-01T00:00:00Z,a,compute,r,\"never closed,1,1,1,USD\n"
            + row("e5")
            + "\n");
    Counts c =
        run(
            BILLING,
            List.of(DAY + "open-quote.csv:2:e2", DAY + "open-quote.csv:3:e3"),
            List.of(DAY + "open-quote.csv:4:file:null"),
            "cannot read past line 3");
    assertThat(c.get("rows-read"), equalTo(2L));
  }

  @Test
  void tenMegabyteLineIsReadButNotIntoAnIndexedColumnAndItsDeadLetterRawIsCut() throws Exception {
    int size = 10 * 1024 * 1024;
    Path file = dir.resolve(DAY + "long-line.csv");
    Files.createDirectories(file.getParent());
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(HEADER + "\n");
      w.write("e2,2024-01-01T00:00:00Z,a,compute,r,");
      char[] chunk = new char[64 * 1024];
      Arrays.fill(chunk, 'x');
      for (int i = 0; i < size / chunk.length; i++) {
        w.write(chunk);
      }
      w.write(",1,1,1,USD\n");
      for (int i = 0; i < size / chunk.length; i++) {
        w.write(chunk); // one 10 MB cell and nothing else: wrong number of fields
      }
      w.write("\n" + row("e4") + "\n");
      for (int i = 0; i < size / chunk.length; i++) {
        w.write(chunk); // a 10 MB key: indexed in PostgreSQL, so it must not reach the database
      }
      w.write(row("") + "\n");
      w.write(row("e6").replace(",compute,", "," + "s".repeat(501) + ",") + "\n");
    }
    run(
        BILLING,
        kept(
            r ->
                r.getString("event_id")
                    + "@"
                    + r.getInt64("source_line")
                    + ":"
                    + r.getString("resource_id").length()),
        List.of("e2@2:" + size, "e4@4:1"),
        List.of(
            DAY + "long-line.csv:3:column_count:null",
            DAY + "long-line.csv:5:constraint:event_id",
            DAY + "long-line.csv:6:constraint:service"),
        "value is longer than 500 characters");
    Pipeline p = pipeline();
    PCollection<Row> rejects = readAndCheck(p, BILLING).get(ParseAndValidate.REJECTED);
    PAssert.that(
            rejects.apply(
                MapElements.into(TypeDescriptors.integers()).via(r -> r.getString("raw").length())))
        .satisfies(
            lengths -> {
              for (int n : lengths) {
                assertThat(n, lessThan(70_000));
              }
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void nonUtf8BytesRejectTheFileFromTheLineThatHasThem() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write((HEADER + "\n").getBytes(StandardCharsets.UTF_8));
    for (int i = 2; i <= 100; i++) {
      bytes.write((row("e" + i) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    // Line 101 is Latin-1 ("café" as 0x63 0x61 0x66 0xE9), then more good lines.
    bytes.write(row("e101").replace(",r,", ",caf\u00e9,").getBytes(StandardCharsets.ISO_8859_1));
    bytes.write('\n');
    for (int i = 102; i <= 110; i++) {
      bytes.write((row("e" + i) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    writeBytes(DAY + "latin1.csv", bytes.toByteArray());
    List<String> kept = new ArrayList<>();
    for (int i = 2; i <= 100; i++) {
      kept.add(DAY + "latin1.csv:" + i + ":e" + i);
    }
    Counts c = run(BILLING, kept, List.of(DAY + "latin1.csv:101:file:null"), "not valid UTF-8");
    assertThat(c.get("rows-read"), equalTo(99L));
  }

  @Test
  void truncatedGzipIsRejectedWholeAndNoneOfItsRowsAreLoaded() throws Exception {
    byte[] gz = gzip(rows(2, 2000), Deflater.DEFAULT_COMPRESSION);
    writeBytes(DAY + "cut-trailer.csv.gz", Arrays.copyOf(gz, gz.length - 8));
    writeBytes(DAY + "cut-half.csv.gz", Arrays.copyOf(gz, gz.length / 2));
    writeBytes(DAY + "good.csv.gz", gzip(HEADER + "\n" + row("g1") + "\n", 6));
    Counts c =
        run(
            BILLING,
            List.of(DAY + "good.csv.gz:2:g1"),
            List.of(DAY + "cut-trailer.csv.gz:0:file:null", DAY + "cut-half.csv.gz:0:file:null"),
            "corrupt or truncated gzip");
    assertThat(c.get("rows-read"), equalTo(1L));
    assertThat(c.get("files-rejected"), equalTo(2L));
  }

  @Test
  void corruptGzipCaughtOnlyByItsChecksumLoadsNoWrongRows() throws Exception {
    // Stored (uncompressed) deflate blocks: a flipped byte still inflates, only the CRC catches it.
    byte[] gz = gzip(rows(2, 50), Deflater.NO_COMPRESSION);
    String text = new String(gz, StandardCharsets.ISO_8859_1);
    int at = text.indexOf("e10,");
    gz[at + 1] = (byte) '9'; // e10 becomes e90, a wrong but well-formed row
    writeBytes(DAY + "bad-crc.csv.gz", gz);
    writeBytes(
        DAY + "not-gzip.csv.gz", "PK\u0003\u0004garbage".getBytes(StandardCharsets.ISO_8859_1));
    Counts c =
        run(
            BILLING,
            List.of(),
            List.of(DAY + "bad-crc.csv.gz:0:file:null", DAY + "not-gzip.csv.gz:1:header:null"));
    assertThat(c.get("rows-read"), equalTo(0L));
  }

  @Test
  void binaryFileNamedCsvIsOneFileReject() throws Exception {
    byte[] png = new byte[200_000];
    new Random(7).nextBytes(png);
    byte[] magic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    System.arraycopy(magic, 0, png, 0, magic.length);
    writeBytes(DAY + "image.csv", png);
    writeBytes(DAY + "zeros.csv", new byte[100_000]);
    Counts c =
        run(
            BILLING,
            List.of(),
            List.of(DAY + "image.csv:1:file:null", DAY + "zeros.csv:1:header:null"),
            "not valid UTF-8",
            "names none of the defined columns");
    assertThat(c.get("rows-read"), equalTo(0L));
  }

  // ---------------------------------------------------------------------------------------------
  // Paths.

  @Test
  void partitionValueThatDoesNotParseOrEscapesRejectsTheFile() throws Exception {
    write("date=notadate/a.csv", HEADER + "\n" + row("e1") + "\n");
    write("date=../b.csv", HEADER + "\n" + row("e2") + "\n");
    write("date=%2E%2E/c.csv", HEADER + "\n" + row("e3") + "\n");
    write("date=2024-01-01%2F..%2Fx/d.csv", HEADER + "\n" + row("e4") + "\n");
    write("date=/e.csv", HEADER + "\n" + row("e5") + "\n");
    Counts c =
        run(
            BILLING,
            List.of(),
            List.of(
                "date=notadate/a.csv:0:partition:null",
                "date=../b.csv:0:partition:null",
                "date=%2E%2E/c.csv:0:partition:null",
                "date=2024-01-01%2F..%2Fx/d.csv:0:partition:null",
                "date=/e.csv:0:partition:null"),
            "not an ISO date",
            "unusable value");
    assertThat(c.get("rows-read"), equalTo(0L));
  }

  @Test
  void fileOutsideThePartitionLayoutRejectsTheFile() throws Exception {
    write("misc/other.csv", HEADER + "\n" + row("e1") + "\n");
    write(DAY + "sub/nested.csv", HEADER + "\n" + row("e2") + "\n");
    write(DAY + "old.csv.bak", "not read");
    write("stray.csv", HEADER + "\n" + row("e3") + "\n");
    write("date=2024-01-01.csv", HEADER + "\n" + row("e4") + "\n");
    // Files directly under --input are listed too (the default glob **/*.csv* alone would need a
    // folder) and rejected for lacking the partition folder, like any file outside the layout.
    Counts c =
        run(
            BILLING,
            List.of(DAY + "sub/nested.csv:2:e2"),
            List.of(
                "misc/other.csv:0:partition:null",
                "stray.csv:0:partition:null",
                "date=2024-01-01.csv:0:partition:null"),
            "path has no folder 'date=<value>'");
    assertThat(c.get("files-skipped"), equalTo(1L));
    assertThat(c.get("files-matched"), equalTo(4L));
    // A glob that reaches them rejects them the same way.
    glob = "*.csv";
    run(
        BILLING,
        List.of(),
        List.of("stray.csv:0:partition:null", "date=2024-01-01.csv:0:partition:null"),
        "path has no folder 'date=<value>'");
  }

  // ---------------------------------------------------------------------------------------------
  // Values.

  @Test
  void whitespaceAroundValuesAndAroundQuotesIsTrimmed() throws Exception {
    write(
        DAY + "spaces.csv",
        " event_id , event_time ,account_id,service,cost,currency,resource_id\n"
            + "  e1 ,\t2024-01-01 10:00:00 , a , compute ,  1.5  , USD , \"x, y\" \n"
            + "e2,2024-01-01T10:00:00Z,   ,compute,1,USD,\n");
    run(
        BILLING,
        kept(
            r ->
                "["
                    + r.getString("event_id")
                    + "]["
                    + r.getString("account_id")
                    + "]["
                    + r.getString("currency")
                    + "]["
                    + r.getDecimal("cost").toPlainString()
                    + "]["
                    + r.getString("resource_id")
                    + "]"),
        List.of("[e1][a][USD][1.5000][x, y]"),
        List.of(DAY + "spaces.csv:3:required:account_id"));
  }

  @Test
  void exponentsAndThousandsSeparatorsAreRejectedForDecimalsAndIntegers() throws Exception {
    DatasetDefinition def = numbers();
    write(
        DAY + "numbers.csv",
        "id,amount,n,ratio\n"
            + "a,1.5,1,1.5e3\n"
            + "b,1e3,1,1\n"
            + "c,\"1,000.00\",1,1\n"
            + "d,1,\"1,000\",1\n"
            + "e,1,1e3,1\n"
            + "f,1,\uff11,1\n"
            + "g,1,1,\"1,5\"\n"
            + "h,1 000,1,1\n");
    run(
        def,
        kept(r -> r.getString("id") + "=" + r.getDouble("ratio")),
        List.of("a=1500.0"),
        List.of(
            DAY + "numbers.csv:3:type:amount",
            DAY + "numbers.csv:4:type:amount",
            DAY + "numbers.csv:5:type:n",
            DAY + "numbers.csv:6:type:n",
            DAY + "numbers.csv:7:type:n",
            DAY + "numbers.csv:8:type:ratio",
            DAY + "numbers.csv:9:type:amount"));
  }

  @Test
  void nanAndInfinityAreRejected() throws Exception {
    write(
        DAY + "nan.csv",
        "id,amount,n,ratio\n"
            + "a,1,1,0.5\n"
            + "b,1,1,NaN\n"
            + "c,1,1,Infinity\n"
            + "d,1,1,-Infinity\n"
            + "e,1,1,1e999\n"
            + "f,NaN,1,1\n"
            + "g,1,1,nan\n");
    run(
        numbers(),
        kept(r -> r.getString("id")),
        List.of("a"),
        List.of(
            DAY + "nan.csv:3:type:ratio",
            DAY + "nan.csv:4:type:ratio",
            DAY + "nan.csv:5:type:ratio",
            DAY + "nan.csv:6:type:ratio",
            DAY + "nan.csv:7:type:amount",
            DAY + "nan.csv:8:type:ratio"),
        "not a finite double");
  }

  @Test
  void decimalsOverTheDeclaredPrecisionOrScaleAreRejected() throws Exception {
    // cost is decimal(14,4): at most 10 digits before the point and 4 after.
    write(
        DAY + "precision.csv",
        HEADER
            + "\n"
            + row("e2").replace(",1.5,", ",9999999999.9999,")
            + "\n"
            + row("e3").replace(",1.5,", ",1.50000000,")
            + "\n"
            + row("e4").replace(",1.5,", ",1.23456,")
            + "\n"
            + row("e5").replace(",1.5,", ",10000000000,")
            + "\n"
            + row("e6").replace(",1.5,", ",0000000000001.5,")
            + "\n");
    run(
        BILLING,
        kept(r -> r.getString("event_id") + "=" + r.getDecimal("cost").toPlainString()),
        List.of("e2=9999999999.9999", "e3=1.5000", "e6=1.5000"),
        List.of(DAY + "precision.csv:4:type:cost", DAY + "precision.csv:5:type:cost"),
        "has more than 4 digits after the point",
        "too many digits before the point");
  }

  @Test
  void timestampsWithOffsetsAreConvertedToUtcAndWithoutZoneTakenAsUtc() throws Exception {
    write(
        DAY + "times.csv",
        HEADER
            + "\n"
            + row("e2").replace("2024-01-01T00:00:00Z", "2024-01-01T10:00:00+02:00")
            + "\n"
            + row("e3").replace("2024-01-01T00:00:00Z", "2024-01-01 10:00:00")
            + "\n"
            + row("e4").replace("2024-01-01T00:00:00Z", "2024-01-01T10:00:00.123456789-0530")
            + "\n"
            + row("e5").replace("2024-01-01T00:00:00Z", "2024-01-01T23:30:00-01")
            + "\n"
            + row("e6").replace("2024-01-01T00:00:00Z", "2024-01-01T10:00:00 CET")
            + "\n"
            + row("e7").replace("2024-01-01T00:00:00Z", "2024-01-01T10:00:00+25:00")
            + "\n"
            + row("e8").replace("2024-01-01T00:00:00Z", "1704103200")
            + "\n");
    run(
        BILLING,
        kept(
            r ->
                r.getString("event_id")
                    + "="
                    + r.getValue("event_time")
                    + "/h"
                    + r.getInt32("event_hour")),
        List.of(
            "e2=2024-01-01T08:00:00Z/h8",
            "e3=2024-01-01T10:00:00Z/h10",
            "e4=2024-01-01T15:30:00.123456Z/h15",
            "e5=2024-01-02T00:30:00Z/h0"),
        List.of(
            DAY + "times.csv:6:type:event_time",
            DAY + "times.csv:7:type:event_time",
            DAY + "times.csv:8:type:event_time"));
  }

  @Test
  void duplicateKeysWithDifferentContentKeepTheSmallestFileAndLine() throws Exception {
    write(
        "date=2024-01-02/b.csv",
        HEADER
            + "\n"
            + row("k1").replace(",1.5,", ",9,")
            + "\n"
            + row("k2").replace(",1.5,", ",2,")
            + "\n");
    write(
        "date=2024-01-01/a.csv",
        HEADER
            + "\n"
            + row("k3")
            + "\n"
            + row("k1").replace(",1.5,", ",1,")
            + "\n"
            + row(" k1 ").replace(",1.5,", ",7,")
            + "\n"
            + row("k2").replace(",1.5,", ",-2,")
            + "\n");
    // k2 on a.csv:5 is rejected (negative cost), so b.csv's k2 is the only valid one and wins.
    Counts c =
        run(
            BILLING,
            kept(
                r ->
                    r.getString("event_id")
                        + "="
                        + r.getDecimal("cost").stripTrailingZeros().toPlainString()
                        + "@"
                        + rel(r.getString("source_file"))
                        + ":"
                        + r.getInt64("source_line")),
            List.of(
                "k1=1@date=2024-01-01/a.csv:3",
                "k2=2@date=2024-01-02/b.csv:3",
                "k3=1.5@date=2024-01-01/a.csv:2"),
            List.of("date=2024-01-01/a.csv:5:constraint:cost"));
    assertThat(c.get("rows-duplicate"), equalTo(2L));
    assertThat(c.get("rows-valid"), equalTo(3L));
  }

  // ---------------------------------------------------------------------------------------------
  // Harness.

  /** A billing record with the given id, cost 1.5, in the file's header order. */
  static String row(String id) {
    return id + ",2024-01-01T00:00:00Z,a,compute,r,x,1,1,1.5,USD";
  }

  /** A billing file with rows e{from}..e{to} on lines from..to. */
  static String rows(int from, int to) {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (int i = from; i <= to; i++) {
      sb.append(row("e" + i)).append('\n');
    }
    return sb.toString();
  }

  /** A small definition with a decimal, an int and a double column. */
  static DatasetDefinition numbers() {
    return DatasetDefinition.fromJson(
        "{\"name\": \"numbers\","
            + "\"partitions\": [{\"name\": \"date\", \"type\": \"date\"}],"
            + "\"fields\": [{\"name\": \"id\", \"type\": \"string\"},"
            + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\"},"
            + "{\"name\": \"n\", \"type\": \"int\"},"
            + "{\"name\": \"ratio\", \"type\": \"double\"}],"
            + "\"key\": [\"id\"]}");
  }

  static byte[] gzip(String text, int level) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out =
        new GZIPOutputStream(bytes) {
          {
            def.setLevel(level);
          }
        }) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  private void write(String relative, String text) throws IOException {
    writeBytes(relative, text.getBytes(StandardCharsets.UTF_8));
  }

  private void writeBytes(String relative, byte[] bytes) throws IOException {
    Path p = dir.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.write(p, bytes);
  }

  static Pipeline pipeline() {
    PipelineOptions o = PipelineOptionsFactory.create();
    o.setRunner(DirectRunner.class);
    o.setStableUniqueNames(PipelineOptions.CheckEnabled.ERROR);
    return Pipeline.create(o);
  }

  /** The path of a source file relative to the test folder. */
  static String rel(String sourceFile) {
    int at = sourceFile.indexOf("/date=");
    int tmp = sourceFile.indexOf("/junit");
    if (tmp >= 0) {
      int slash = sourceFile.indexOf('/', tmp + 1);
      return sourceFile.substring(slash + 1);
    }
    return at >= 0 ? sourceFile.substring(at + 1) : sourceFile;
  }

  /** Describes kept rows by a function of the row instead of file:line:key. */
  static KeptBy kept(SerializableFunction<Row, String> describe) {
    return new KeptBy(describe);
  }

  static final class KeptBy {
    final SerializableFunction<Row, String> describe;

    KeptBy(SerializableFunction<Row, String> describe) {
      this.describe = describe;
    }
  }

  /** Counters of one run, summed by name. */
  static final class Counts {
    final Map<String, Long> byName = new HashMap<>();

    long get(String name) {
      return byName.getOrDefault(name, 0L);
    }
  }

  /**
   * The reading steps as the pipeline chains them for {@link #reading}; with {@code
   * SEPARATE_STEPS}, the dead letters of both levels are flattened.
   */
  private PCollectionTuple readAndCheck(Pipeline p, DatasetDefinition def) {
    PCollection<FileIO.ReadableFile> files =
        p.apply("DiscoverFiles", new MatchInputFiles(dir.toString(), glob));
    PCollection<Row> clean;
    PCollection<Row> rejects;
    if (reading == Reading.TWICE) {
      ReadDeduplicatedCsv.Result read =
          files.apply("ReadAndDeduplicateCsv", new ReadDeduplicatedCsv(def));
      return PCollectionTuple.of(ParseAndValidate.CLEAN, read.unique())
          .and(ParseAndValidate.REJECTED, read.rejects());
    }
    if (reading == Reading.SEPARATE_STEPS) {
      InputRead<Row> read = files.apply("ReadCsv", new ReadRawCsvRecords(def));
      PCollectionTuple checked = read.read().apply("ParseAndValidate", new ParseAndValidate(def));
      clean = checked.get(ParseAndValidate.CLEAN);
      rejects =
          PCollectionList.of(read.rejects())
              .and(checked.get(ParseAndValidate.REJECTED))
              .apply("CollectRejects", Flatten.pCollections())
              .setRowSchema(DatasetSchemas.REJECT);
    } else {
      InputRead<Row> read = files.apply("ReadAndValidateCsv", ReadCsvFiles.validated(def));
      clean = read.read();
      rejects = read.rejects();
    }
    PCollection<Row> unique = clean.apply("Deduplicate", new DeduplicateByKey(def));
    return PCollectionTuple.of(ParseAndValidate.CLEAN, unique)
        .and(ParseAndValidate.REJECTED, rejects);
  }

  private Counts run(
      DatasetDefinition def, List<String> kept, List<String> rejects, String... messageParts) {
    String key = def.key.get(0);
    return run(
        def,
        kept(
            r ->
                rel(r.getString(DatasetDefinition.SOURCE_FILE))
                    + ":"
                    + r.getInt64(DatasetDefinition.SOURCE_LINE)
                    + ":"
                    + r.getString(key)),
        kept,
        rejects,
        messageParts);
  }

  /**
   * Runs the reading half of the pipeline over the test folder and asserts the kept rows (as
   * described), the dead letters ({@code file:line:reason:column}), that some dead letter's message
   * contains each of {@code messageParts}, and that every row read is accounted for.
   */
  private Counts run(
      DatasetDefinition def,
      KeptBy describe,
      List<String> kept,
      List<String> rejects,
      String... messageParts) {
    Pipeline p = pipeline();
    PCollectionTuple out = readAndCheck(p, def);
    PAssert.that(
            out.get(ParseAndValidate.CLEAN)
                .apply(
                    "DescribeKept",
                    MapElements.into(TypeDescriptors.strings()).via(describe.describe)))
        .containsInAnyOrder(kept);
    PCollection<Row> dead = out.get(ParseAndValidate.REJECTED);
    PAssert.that(
            dead.apply(
                "DescribeRejects",
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        r ->
                            rel(r.getString("source_file"))
                                + ":"
                                + r.getInt64("line_number")
                                + ":"
                                + r.getString("reason")
                                + ":"
                                + r.getString("column_name"))))
        .containsInAnyOrder(rejects);
    List<String> parts = List.of(messageParts);
    PAssert.that(
            dead.apply(
                "Messages",
                MapElements.into(TypeDescriptors.strings()).via(r -> r.getString("message"))))
        .satisfies(
            messages -> {
              String all = String.join("\n", messages);
              for (String part : parts) {
                assertThat(all, containsString(part));
              }
              return null;
            });
    PipelineResult result = p.run();
    result.waitUntilFinish();
    Counts c = new Counts();
    for (MetricResult<Long> m :
        result.metrics().queryMetrics(MetricsFilter.builder().build()).getCounters()) {
      c.byName.merge(m.getName().getName(), JobCounters.value(m), Long::sum);
    }
    assertThat(
        "rows-read = rows-valid + rows-duplicate + rows-rejected " + c.byName,
        c.get("rows-read"),
        equalTo(c.get("rows-valid") + c.get("rows-duplicate") + c.get("rows-rejected")));
    assertThat("rows kept", c.get("rows-valid"), equalTo((long) kept.size()));
    return c;
  }
}
