package dev.landfall.io.csv;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.io.files.ResumingReadChannel;
import dev.landfall.io.input.InputFiles;
import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.Rejects;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.values.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reading of one CSV file, shared by every step that reads CSV files ({@link ReadCsvFiles} and
 * {@link ReadDeduplicatedCsv}'s two passes): the file's partition values and header checked, then
 * each record handed on with its line, or one dead letter for a file that cannot be read. A reader
 * that is not {@link #counting} (a first pass over files that are read again) counts nothing and
 * logs nothing, so each file and record is counted once per run.
 */
final class CsvFileReader implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ReadCsvFiles.class);

  /** What a file yields. */
  interface Records {
    /**
     * One record: {@code cells} as read, {@code columns} the cell index of each defined field (-1:
     * not in the header), {@code partitions} the file's partition values as text, {@code width} the
     * header's number of columns. When the definition rescues unknown columns, {@code columns} goes
     * on with the cell index of each unknown column and {@code header} names the cells (else it is
     * null).
     */
    void record(
        String path,
        long line,
        List<String> cells,
        List<Integer> columns,
        List<String> partitions,
        int width,
        List<String> header);

    /** The dead letter of a file that cannot be read (further). */
    void fileRejected(Row deadLetter);

    /**
     * These records of a quarantined file: each valid record becomes a dead letter of reason {@link
     * Rejects#QUARANTINED} with {@code message} and the record as CSV ({@code delimiter}, {@code
     * quote}); the others keep their own reasons.
     */
    default Records quarantined(String message, char delimiter, char quote) {
      throw new UnsupportedOperationException("these records cannot be quarantined");
    }

    /**
     * Each record checked by {@code validator} into {@code rows}; file dead letters to {@code
     * files}.
     */
    static Records validating(
        RecordValidator validator, RecordValidator.Receiver rows, Consumer<Row> files) {
      return new Records() {
        @Override
        public void record(
            String path,
            long line,
            List<String> cells,
            List<Integer> columns,
            List<String> partitions,
            int width,
            List<String> header) {
          validator.validate(path, line, cells, columns, partitions, width, header, rows);
        }

        @Override
        public void fileRejected(Row deadLetter) {
          files.accept(deadLetter);
        }

        @Override
        public Records quarantined(String message, char delimiter, char quote) {
          return new Records() {
            @Override
            public void record(
                String path,
                long line,
                List<String> cells,
                List<Integer> columns,
                List<String> partitions,
                int width,
                List<String> header) {
              validator.validate(
                  path,
                  line,
                  cells,
                  columns,
                  partitions,
                  width,
                  header,
                  new RecordValidator.Receiver() {
                    @Override
                    public void clean(Row row) {
                      validator.countRejected(Rejects.QUARANTINED);
                      rows.rejected(
                          Rejects.of(
                              path,
                              line,
                              Rejects.QUARANTINED,
                              null,
                              message,
                              Rejects.toCsv(cells, delimiter, quote)));
                    }

                    @Override
                    public void rejected(Row deadLetter) {
                      rows.rejected(deadLetter);
                    }
                  });
            }

            @Override
            public void fileRejected(Row deadLetter) {
              files.accept(deadLetter);
            }
          };
        }
      };
    }
  }

  private final InputFiles.Counters counters = new InputFiles.Counters();
  private final Counter filesWithUnknownColumns =
      Metrics.counter(ReadCsvFiles.class, "files-with-unknown-columns");

  private final DatasetDefinition def;
  private final boolean counting;
  private transient char delimiter;
  private transient char quote;
  private final InputFiles.Partitions partitionValues;
  private transient Set<String> fieldNames;

  /**
   * With quality rules ({@link DatasetDefinition#maxRejectedShare}): a reader of the same files
   * that counts nothing, and a validator that counts nothing, to measure a file before it is read.
   */
  private final CsvFileReader measuring;

  private final RecordValidator gate;
  private final Counter filesQuarantined = Metrics.counter(ReadCsvFiles.class, "files-quarantined");

  CsvFileReader(DatasetDefinition def, boolean counting) {
    this(def, counting, def.maxRejectedShare() >= 0);
  }

  private CsvFileReader(DatasetDefinition def, boolean counting, boolean gated) {
    this.def = def;
    this.counting = counting;
    this.partitionValues = new InputFiles.Partitions(def);
    this.measuring = gated ? new CsvFileReader(def, false, false) : null;
    this.gate = gated ? new RecordValidator(def).uncounted() : null;
  }

  /** Builds the parser settings; call once (a DoFn's {@code @Setup}) before {@link #read}. */
  void setup() {
    delimiter = def.csv.delimiter.charAt(0);
    quote = def.csv.quote.charAt(0);
    fieldNames = new HashSet<>();
    def.fields.forEach(f -> fieldNames.add(f.name));
    if (measuring != null) {
      measuring.setup();
      gate.setup();
    }
  }

  /**
   * Reads one file; returns the number of records and dead letters it emitted. With quality rules,
   * the file is first read and validated once, counting nothing, to measure its share of rejected
   * records; a file over the limit is quarantined before any of its records is handed on: a dead
   * letter for the file (line 0, reason {@link Rejects#QUARANTINED}) and one per record ({@link
   * Records#quarantined}).
   */
  long read(FileIO.ReadableFile file, String path, Records out) {
    if (measuring != null) {
      long[] counts = new long[3]; // valid, rejected, file dead letters
      RecordValidator.Receiver tally =
          new RecordValidator.Receiver() {
            @Override
            public void clean(Row row) {
              counts[0]++;
            }

            @Override
            public void rejected(Row deadLetter) {
              counts[1]++;
            }
          };
      measuring.readRecords(
          file,
          path,
          new Records() {
            @Override
            public void record(
                String p,
                long line,
                List<String> cells,
                List<Integer> columns,
                List<String> partitions,
                int width,
                List<String> header) {
              gate.validate(p, line, cells, columns, partitions, width, header, tally);
            }

            @Override
            public void fileRejected(Row deadLetter) {
              counts[2]++;
            }
          });
      long records = counts[0] + counts[1];
      double limit = def.maxRejectedShare();
      // A file rejected as a whole gets its own dead letter below, not a quarantine.
      if (counts[2] == 0 && records > 0 && counts[1] > limit * records) {
        String message =
            String.format(
                java.util.Locale.ROOT,
                "file quarantined: %d of its %d"
                    + " records (%.1f%%) were rejected, more than quality.maxRejectedShare %s allows;"
                    + " fix the file or the definition, then --reingest=quarantined",
                counts[1],
                records,
                100.0 * counts[1] / records,
                limit);
        if (counting) {
          filesQuarantined.inc();
          LOG.warn("{}: {}", path, message);
        }
        out.fileRejected(Rejects.of(path, 0, Rejects.QUARANTINED, null, message, null));
        return 1 + readRecords(file, path, out.quarantined(message, delimiter, quote));
      }
    }
    return readRecords(file, path, out);
  }

  /** {@link #read} without the quality rules. */
  private long readRecords(FileIO.ReadableFile file, String path, Records out) {
    List<String> partitions = checkFile(file, path, out);
    if (partitions == null) {
      return 1;
    }
    long lastLine = 0;
    long records = 0;
    try (CsvRecordReader parser = open(file)) {
      Layout layout;
      if (def.csv.header) {
        String[] header = parser.next();
        if (header == null) {
          rejectFile(out, path, 0, Rejects.HEADER, "file is empty: no header line");
          return 1;
        }
        lastLine = parser.lineNumber();
        layout = headerLayout(header, path, out);
        if (layout == null) {
          return 1;
        }
      } else {
        layout = positionalLayout();
      }
      List<Integer> columns = layout.columns;
      List<String> names = layout.names;
      int width = layout.width;
      String[] record;
      while ((record = parser.next()) != null) {
        long endLine = parser.lineNumber();
        List<String> cells = Arrays.asList(record);
        // A record on one line starts there; else count the line breaks inside its cells.
        long startLine =
            endLine == lastLine + 1
                ? endLine
                : Math.max(lastLine + 1, endLine - lineBreaksIn(cells));
        lastLine = endLine;
        records++;
        out.record(path, startLine, cells, columns, partitions, width, names);
      }
      return records;
    } catch (IOException | RuntimeException e) {
      rejectFile(
          out,
          path,
          lastLine + 1,
          Rejects.FILE,
          "cannot read past line " + lastLine + ": " + describe(e));
      return records + 1;
    } finally {
      countRecords(path, records);
    }
  }

  /** How the cells of a file's records map to the definition's fields, worked out once a file. */
  private static final class Layout {
    /** The cell index of each defined field (-1: absent), then of each rescued unknown column. */
    final List<Integer> columns;

    /** The header's names when unknown columns are rescued, else null. */
    final List<String> names;

    /** The number of columns of the header (without one: of the definition). */
    final int width;

    Layout(List<Integer> columns, List<String> names, int width) {
      this.columns = columns;
      this.names = names;
      this.width = width;
    }
  }

  /**
   * The checks made before a file is parsed: its partition values (from its path) and, for a
   * compressed file, that it decompresses to its end; the file is counted as read (with its bytes)
   * once its partition values are known. Returns the partition values as text (unmodifiable), or
   * null when the file was rejected (its dead letter already handed to {@code out}).
   */
  private List<String> checkFile(FileIO.ReadableFile file, String path, Records out) {
    List<String> partitions;
    try {
      partitions = partitionValues.of(path);
    } catch (HivePartitions.MissingPartition e) {
      rejectFile(out, path, 0, Rejects.PARTITION, e.getMessage());
      return null;
    }
    if (counting) {
      counters.filesRead.inc();
      counters.bytesRead.inc(file.getMetadata().sizeBytes());
    }
    if (file.getCompression() != Compression.UNCOMPRESSED) {
      String corrupt = checkCompressed(file);
      if (corrupt != null) {
        rejectFile(
            out, path, 0, Rejects.FILE, "corrupt or truncated gzip, no row read: " + corrupt);
        return null;
      }
    }
    return partitions;
  }

  /**
   * The layout a file's header line gives: each defined field found by name, the unknown columns
   * rescued (kept after the fields) or noted as the definition says. Returns null when the header
   * is refused (a name given twice, no defined column, a required column missing, an unknown column
   * the definition rejects), its dead letter already handed to {@code out}.
   */
  private Layout headerLayout(String[] header, String path, Records out) {
    List<Integer> columns = new ArrayList<>(def.fields.size());
    Map<String, Integer> byName = new HashMap<>();
    List<String> headerNames = new ArrayList<>(header.length);
    String problem = readHeaderNames(header, headerNames, byName);
    List<String> missing = new ArrayList<>();
    int known = 0;
    for (DatasetDefinition.Field f : def.fields) {
      Integer idx = byName.get(f.name);
      if (idx == null && def.isRequired(f.name)) {
        missing.add(f.name);
      }
      known += idx == null ? 0 : 1;
      columns.add(idx == null ? -1 : idx);
    }
    if (known == 0) {
      problem =
          "the first line names none of the defined columns: the header is missing"
              + " (or the file belongs to another dataset)";
    } else if (problem == null && !missing.isEmpty()) {
      problem = "header lacks required column(s) " + missing;
    }
    List<String> unknown = new ArrayList<>();
    for (String name : headerNames) {
      if (!fieldNames.contains(name)) {
        unknown.add(name);
      }
    }
    if (problem == null && !unknown.isEmpty() && def.rejectsUnknownColumns()) {
      problem =
          "header has column(s) the definition does not name: "
              + shortList(unknown)
              + " (the definition's unknownColumns is reject)";
    }
    if (problem != null) {
      rejectFile(out, path, 1, Rejects.HEADER, problem);
      return null;
    }
    List<String> names = null;
    if (!unknown.isEmpty() && def.rescuesUnknownColumns()) {
      for (int i = 0; i < headerNames.size(); i++) {
        if (!fieldNames.contains(headerNames.get(i))) {
          columns.add(i);
        }
      }
      names = Collections.unmodifiableList(headerNames);
    }
    if (!unknown.isEmpty() && counting) {
      noteUnknownColumns(path, unknown);
    }
    return new Layout(Collections.unmodifiableList(columns), names, header.length);
  }

  /**
   * Puts the header's names (stripped, lower case) into {@code names}, in order, and the index of
   * each into {@code byName} (the last, for a name given twice). Returns the problem of the first
   * name given twice, or null.
   */
  private static String readHeaderNames(
      String[] header, List<String> names, Map<String, Integer> byName) {
    String problem = null;
    for (int i = 0; i < header.length; i++) {
      String name = header[i].strip().toLowerCase(Locale.ROOT);
      names.add(name);
      if (byName.put(name, i) != null && problem == null) {
        problem = "header names column '" + name + "' twice";
      }
    }
    return problem;
  }

  /** The layout of a file without a header line: the defined fields in order, one a column. */
  private Layout positionalLayout() {
    int width = def.fields.size();
    Integer[] identity = new Integer[width];
    for (int i = 0; i < width; i++) {
      identity[i] = i;
    }
    return new Layout(Collections.unmodifiableList(Arrays.asList(identity)), null, width);
  }

  /** Counts and logs, once a file has been read (or given up on), the records it yielded. */
  private void countRecords(String path, long records) {
    if (counting) {
      counters.rowsRead.inc(records);
      LOG.info("read {} records from {}", records, path);
    }
  }

  /** The file's records, read as strict UTF-8 without a leading byte order mark. */
  private CsvRecordReader open(FileIO.ReadableFile file) throws IOException {
    CsvRecordReader parser =
        new CsvRecordReader(
            new StrictUtf8Reader(Channels.newInputStream(ResumingReadChannel.open(file))),
            delimiter,
            quote);
    try {
      parser.skipByteOrderMark();
    } catch (IOException | RuntimeException e) {
      try {
        parser.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return parser;
  }

  /**
   * Reads a compressed file to its end once before any record is taken from it: gzip's checksum
   * comes last, so damage can otherwise surface only after wrong rows were read. Returns why the
   * file cannot be decompressed, or null.
   */
  private static String checkCompressed(FileIO.ReadableFile file) {
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Channels.newInputStream(ResumingReadChannel.open(file))) {
      while (in.read(buffer) >= 0) {
        // Only the decompressor's checks matter here.
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return describe(e);
    }
  }

  /** Logs and counts, once per file, the header columns the definition does not name. */
  private void noteUnknownColumns(String path, List<String> unknown) {
    filesWithUnknownColumns.inc();
    LOG.info(
        "file {} has {} column(s) the definition does not name, {}: {}",
        path,
        unknown.size(),
        def.rescuesUnknownColumns() ? "kept in " + DatasetDefinition.RESCUED : "ignored",
        shortList(unknown));
  }

  private static String shortList(List<String> names) {
    List<String> sorted = new ArrayList<>(names);
    Collections.sort(sorted);
    return (sorted.size() > 20 ? sorted.subList(0, 20) + "..." : sorted).toString();
  }

  private static int lineBreaksIn(List<String> cells) {
    int n = 0;
    for (String c : cells) {
      if (c.length() > 0 && (c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0)) {
        for (int i = 0; i < c.length(); i++) {
          char ch = c.charAt(i);
          if (ch == '\n' || (ch == '\r' && (i + 1 == c.length() || c.charAt(i + 1) != '\n'))) {
            n++;
          }
        }
      }
    }
    return n;
  }

  private static String describe(Exception e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    if (t instanceof StrictUtf8Reader.NotUtf8Exception) {
      return m;
    }
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private void rejectFile(Records out, String path, long line, String reason, String message) {
    if (counting) {
      counters.filesRejected.inc();
      LOG.warn("file {} rejected ({}): {}", path, reason, message);
    }
    out.fileRejected(Rejects.of(path, line, reason, null, message, null));
  }
}
