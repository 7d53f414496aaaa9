package dev.landfall.io.parquet;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.postgres.Database;
import dev.landfall.io.postgres.DatasetTables;
import dev.landfall.io.postgres.PostgresTables;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

/**
 * Watch mode's Parquet of files closed together: one file per partition folder for all of them (a
 * merged file listing them, or a part file for one), from their stored rows; a file closed again
 * later replaces exactly its rows.
 */
class ExportFileToParquetTest extends PostgresTestBase {
  private static final DatasetDefinition DEF = DatasetDefinition.builtIn("billing");
  private static final String SCHEMA = "export_batch";
  private static final String A = "/in/date=2024-01-01/a.csv";
  private static final String B = "/in/date=2024-01-01/b.csv";
  private static final String C = "/in/date=2024-01-02/c.csv";

  @Test
  void filesClosedTogetherShareOneFilePerPartitionAndAReReadReplacesItsRows() throws Exception {
    Database db = new Database(postgres.jdbcUrl(), "postgres");
    DatasetTables tables = DatasetTables.of(DEF, SCHEMA);
    PostgresTables.createAll(db, tables, (c, s) -> {});
    insert(db, A, "2024-01-01", 3);
    insert(db, B, "2024-01-01", 2);
    insert(db, C, "2024-01-02", 4);
    Path out = dir.resolve("export-out");
    ExportFileToParquet export =
        new ExportFileToParquet(
            db,
            tables,
            out.toString(),
            new ParquetCompaction(128L << 20, 1 << 20).compactingAfter(16),
            1 << 20);

    assertThat(export.exportAll(List.of(C, B, A)), equalTo(9L));
    Path day1 = out.resolve("billing/date=2024-01-01");
    Path day2 = out.resolve("billing/date=2024-01-02");
    List<String> names = names(day1);
    assertThat(names.size(), equalTo(3)); // the merged file, its member list, _SUCCESS
    String members = names.stream().filter(n -> n.endsWith(".members")).findFirst().orElseThrow();
    assertThat(
        Files.readAllLines(day1.resolve(members)),
        equalTo(
            Stream.of(A, B)
                .map(WriteParquetPartitions::fileName)
                .sorted()
                .collect(Collectors.toList())));
    assertThat(names(day2), equalTo(List.of("_SUCCESS", WriteParquetPartitions.fileName(C))));
    assertThat(rows(day1), equalTo(List.of(A + "#0", A + "#1", A + "#2", B + "#0", B + "#1")));

    // b is read again with other rows and closed alone: its part file is newer than the merged
    // file, which drops b's rows.
    try (Connection c = db.connect()) {
      c.createStatement()
          .execute("DELETE FROM " + SCHEMA + ".billing WHERE source_file = '" + B + "'");
    }
    insert(db, B, "2024-01-01", 1);
    Thread.sleep(5);
    export.export(B);
    assertThat(rows(day1), equalTo(List.of(A + "#0", A + "#1", A + "#2", B + "#0")));
  }

  private static void insert(Database db, String file, String date, int n) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO "
                    + SCHEMA
                    + ".billing (date, event_id, event_time, account_id, service, cost, currency,"
                    + " source_file, source_line) VALUES (?::date, ?, now(), 'acct', 'compute', 1.5, 'USD',"
                    + " ?, ?)")) {
      for (int i = 0; i < n; i++) {
        s.setString(1, date);
        s.setString(2, file + "#" + i);
        s.setString(3, file);
        s.setLong(4, i + 2);
        s.addBatch();
      }
      s.executeBatch();
    }
  }

  private static List<String> names(Path folder) throws Exception {
    try (Stream<Path> files = Files.list(folder)) {
      return files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  /** The event ids in the folder's Parquet files, sorted. */
  private static List<String> rows(Path folder) throws Exception {
    List<String> ids = new ArrayList<>();
    for (String n : names(folder)) {
      if (!n.endsWith(".parquet")) {
        continue;
      }
      try (org.apache.parquet.hadoop.ParquetReader<GenericRecord> r =
          org.apache.parquet.avro.AvroParquetReader.<GenericRecord>builder(
                  org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                      new org.apache.hadoop.fs.Path(folder.resolve(n).toString()),
                      new org.apache.hadoop.conf.Configuration()))
              .build()) {
        for (GenericRecord g = r.read(); g != null; g = r.read()) {
          ids.add(String.valueOf(g.get("event_id")));
        }
      }
    }
    Collections.sort(ids);
    return ids;
  }
}
