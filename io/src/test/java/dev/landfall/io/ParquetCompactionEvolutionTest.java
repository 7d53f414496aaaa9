package dev.landfall.io;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.io.parquet.ParquetCompaction;
import dev.landfall.io.parquet.RowParquetSink;
import dev.landfall.transforms.definition.DatasetDefinition;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet files written under two versions of a definition are merged into the newer one: widened
 * types converted, a removed column left out, an added column NULL in the older rows.
 */
class ParquetCompactionEvolutionTest {
  private static final String V1 =
      "{\"name\": \"orders\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"int\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(10,2)\"},"
          + "{\"name\": \"shipped\", \"type\": \"date\"},"
          + "{\"name\": \"note\", \"type\": \"string\", \"required\": true}],"
          + " \"structs\": [{\"name\": \"usage\", \"fields\": {\"qty\": \"qty\", \"amount\": \"amount\"}}],"
          + " \"key\": [\"order_id\"]}";
  private static final String V2 =
      "{\"name\": \"orders\","
          + " \"partitions\": [{\"name\": \"day\", \"type\": \"date\"}], \"fields\": ["
          + "{\"name\": \"order_id\", \"type\": \"string\", \"required\": true},"
          + "{\"name\": \"qty\", \"type\": \"long\"},"
          + "{\"name\": \"amount\", \"type\": \"decimal(14,2)\"},"
          + "{\"name\": \"shipped\", \"type\": \"timestamp\"},"
          + "{\"name\": \"region\", \"type\": \"string\", \"required\": true}],"
          + " \"structs\": [{\"name\": \"usage\", \"fields\": {\"qty\": \"qty\", \"amount\": \"amount\"}}],"
          + " \"key\": [\"order_id\"]}";

  @TempDir Path dir;

  @Test
  void filesOfAnOlderDefinitionAreMergedIntoTheNewerOne() throws Exception {
    DatasetDefinition v1 = DatasetDefinition.fromJson(V1);
    DatasetDefinition v2 = DatasetDefinition.fromJson(V2);
    Path folder = Files.createDirectories(dir.resolve("orders/day=2024-03-01"));
    Path older =
        write(
            v1,
            folder.resolve("part-00000000000000a1.parquet"),
            "o1,3,2.50,2024-03-02,first",
            "o2,,,,second");
    Files.setLastModifiedTime(older, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    write(
        v2,
        folder.resolve("part-00000000000000b2.parquet"),
        "o3,5000000000,123456789012.34,2024-03-03T10:00:00Z,eu");

    ParquetCompaction.Result result =
        new ParquetCompaction(1L << 30, 1 << 20).compact(folder.toString());

    assertThat(result.filesMerged, equalTo(2L));
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute("SET TimeZone = 'UTC'");
      String file = folder.resolve("compact-*.parquet").toString();
      assertThat(
          rows(
              s,
              "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT *"
                  + " FROM read_parquet('"
                  + file
                  + "', hive_partitioning = false))"),
          equalTo(
              List.of(
                  "order_id VARCHAR",
                  "usage STRUCT(qty BIGINT, amount DECIMAL(14,2))",
                  "shipped TIMESTAMP WITH TIME ZONE",
                  "region VARCHAR",
                  "source_file VARCHAR",
                  "source_line BIGINT")));
      assertThat(
          rows(
              s,
              "SELECT order_id || ' ' || coalesce(usage.qty::text, '-') || ' '"
                  + " || coalesce(usage.amount::text, '-') || ' ' || coalesce(shipped::text, '-') || ' '"
                  + " || coalesce(region, '-') FROM read_parquet('"
                  + file
                  + "') ORDER BY order_id"),
          equalTo(
              List.of(
                  "o1 3 2.50 2024-03-02 00:00:00+00 -",
                  "o2 - - - -",
                  "o3 5000000000 123456789012.34 2024-03-03 10:00:00+00 eu")));
    }
  }

  private static Path write(DatasetDefinition def, Path file, String... lines) throws Exception {
    List<Row> rows = RowParquetSinkTest.rows(def, lines);
    RowParquetSink sink = new RowParquetSink(def, 1 << 20);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      sink.open(ch);
      for (Row r : rows) {
        sink.write(r);
      }
      sink.flush();
    }
    return file;
  }

  private static List<String> rows(Statement s, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}
