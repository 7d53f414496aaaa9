package dev.landfall.io.csv;

import dev.landfall.io.files.HivePartitions;
import dev.landfall.transforms.ParseAndValidate;
import dev.landfall.transforms.RecordValidator;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import dev.landfall.transforms.values.Rejects;
import dev.landfall.transforms.values.ValueParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads CSV files with RFC 4180 rules (Apache Commons CSV: quoted delimiters, doubled quotes, line
 * breaks inside quotes, CRLF, LF or CR, a UTF-8 BOM, spaces around quoted values; blank lines are
 * skipped) into raw records ({@link DatasetSchemas#RAW}). Columns are matched to the definition by
 * header name (trimmed, case ignored); unknown columns are ignored, logged and counted once per file
 * ({@code files-with-unknown-columns}). A file that cannot be used as a whole (no header, a required
 * column missing from the header, a bad partition folder, corrupt gzip) yields one dead letter on
 * {@link #FILE_REJECTS} and no records; a file that breaks part-way (bytes that are not UTF-8,
 * broken quoting) yields one dead letter at the first line it cannot read, and the records before
 * it are kept.
 *
 * <p>{@link #validated()} also applies {@link ParseAndValidate}'s check to each record as it is
 * read, and emits {@link #CLEAN} rows and {@link #REJECTS} (file-level and row-level dead
 * letters together) instead of raw records. The result is the same as {@code ReadCsvFiles}
 * followed by {@code ParseAndValidate}, with one step fewer. On Flink's batch translation a
 * step's elements are serialized once for each of its outputs (every output is a consumer of the
 * step), so raw records handed to a separate validation step are serialized three more times.
 */
public class ReadCsvFiles extends PTransform<PCollection<FileIO.ReadableFile>, PCollectionTuple> {
  public static final TupleTag<Row> RECORDS = new TupleTag<Row>() {};
  public static final TupleTag<Row> FILE_REJECTS = new TupleTag<Row>() {};
  /** With {@link #validated()}: the clean rows (schema {@code DatasetSchemas.clean}). */
  public static final TupleTag<Row> CLEAN = ParseAndValidate.CLEAN;
  /** With {@link #validated()}: every dead letter, of whole files and of single records. */
  public static final TupleTag<Row> REJECTS = new TupleTag<Row>() {};
  /**
   * Per file, once it has been read: how many dead letters and records it produced (the items
   * the later steps must account for before the file is complete).
   */
  public static final TupleTag<KV<String, Long>> FILE_ITEMS = new TupleTag<KV<String, Long>>() {};

  private final DatasetDefinition definition;
  private final boolean validated;

  public ReadCsvFiles(DatasetDefinition definition) {
    this(definition, false);
  }

  private ReadCsvFiles(DatasetDefinition definition, boolean validated) {
    this.definition = definition;
    this.validated = validated;
  }

  /**
   * Reads and validates in one step; the outputs are {@link #CLEAN}, {@link #REJECTS} and {@link
   * #FILE_ITEMS}.
   */
  public ReadCsvFiles validated() {
    return new ReadCsvFiles(definition, true);
  }

  @Override
  public PCollectionTuple expand(PCollection<FileIO.ReadableFile> files) {
    if (validated) {
      PCollectionTuple out =
          files.apply(
              "ParseAndValidateRecords",
              ParDo.of(new ReadCsvFileFn(definition, new RecordValidator(definition)))
                  .withOutputTags(CLEAN, TupleTagList.of(REJECTS).and(FILE_ITEMS)));
      out.get(CLEAN).setCoder(DatasetSchemas.cleanCoder(definition));
      out.get(REJECTS).setRowSchema(DatasetSchemas.REJECT);
      out.get(FILE_ITEMS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
      return out;
    }
    PCollectionTuple out =
        files.apply(
            "ParseCsvRecords",
            ParDo.of(new ReadCsvFileFn(definition, null))
                .withOutputTags(RECORDS, TupleTagList.of(FILE_REJECTS).and(FILE_ITEMS)));
    out.get(RECORDS).setRowSchema(DatasetSchemas.RAW);
    out.get(FILE_REJECTS).setRowSchema(DatasetSchemas.REJECT);
    out.get(FILE_ITEMS).setCoder(KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));
    return out;
  }

  static class ReadCsvFileFn extends DoFn<FileIO.ReadableFile, Row> {
    private static final Logger LOG = LoggerFactory.getLogger(ReadCsvFiles.class);

    private final Counter filesRead = Metrics.counter(ReadCsvFiles.class, "files-read");
    private final Counter filesRejected = Metrics.counter(ReadCsvFiles.class, "files-rejected");
    private final Counter rowsRead = Metrics.counter(ReadCsvFiles.class, "rows-read");
    private final Counter bytesRead = Metrics.counter(ReadCsvFiles.class, "bytes-read");
    private final Counter filesWithUnknownColumns =
        Metrics.counter(ReadCsvFiles.class, "files-with-unknown-columns");

    private final DatasetDefinition def;
    /** Applied to each record as it is read; null: raw records go out on RECORDS. */
    private final RecordValidator validator;
    private transient CSVFormat format;
    private transient ValueParser[] partitionParsers;
    private transient Set<String> fieldNames;

    ReadCsvFileFn(DatasetDefinition def, RecordValidator validator) {
      this.def = def;
      this.validator = validator;
    }

    @Setup
    public void setup() {
      if (validator != null) {
        validator.setup();
      }
      format =
          CSVFormat.RFC4180.builder()
              .setDelimiter(def.csv.delimiter.charAt(0))
              .setQuote(def.csv.quote.charAt(0))
              .setIgnoreEmptyLines(true)
              .setIgnoreSurroundingSpaces(true)
              .get();
      fieldNames = new HashSet<>();
      def.fields.forEach(f -> fieldNames.add(f.name));
      partitionParsers = new ValueParser[def.partitions.size()];
      for (int i = 0; i < partitionParsers.length; i++) {
        DatasetDefinition.Partition p = def.partitions.get(i);
        partitionParsers[i] = new ValueParser(DatasetDefinition.partitionType(p), p.format);
      }
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, MultiOutputReceiver out) {
      String path = file.getMetadata().resourceId().toString();
      long items = read(file, path, out);
      out.get(FILE_ITEMS).output(KV.of(path, items));
    }

    /** Reads one file; returns the number of records and dead letters it emitted. */
    private long read(FileIO.ReadableFile file, String path, MultiOutputReceiver out) {
      List<String> partitions;
      try {
        partitions = HivePartitions.valuesOf(path, def.partitions);
        for (int i = 0; i < partitions.size(); i++) {
          try {
            partitionParsers[i].parse(partitions.get(i));
          } catch (ValueParser.BadValue e) {
            throw new HivePartitions.MissingPartition(
                "partition '" + def.partitions.get(i).name + "' value " + e.getMessage());
          }
        }
      } catch (HivePartitions.MissingPartition e) {
        rejectFile(out, path, 0, Rejects.PARTITION, e.getMessage());
        return 1;
      }
      partitions = Collections.unmodifiableList(partitions);
      filesRead.inc();
      bytesRead.inc(file.getMetadata().sizeBytes());
      if (file.getCompression() != Compression.UNCOMPRESSED) {
        String corrupt = checkCompressed(file);
        if (corrupt != null) {
          rejectFile(out, path, 0, Rejects.FILE, "corrupt or truncated gzip, no row read: " + corrupt);
          return 1;
        }
      }

      long lastLine = 0;
      long records = 0;
      try (Reader reader = open(file);
          CSVParser parser = CSVParser.builder().setReader(reader).setFormat(format).get()) {
        Iterator<CSVRecord> it = parser.iterator();
        List<Integer> columns;
        int width;
        if (def.csv.header) {
          if (!it.hasNext()) {
            rejectFile(out, path, 0, Rejects.HEADER, "file is empty: no header line");
            return 1;
          }
          CSVRecord header = it.next();
          lastLine = parser.getCurrentLineNumber();
          String problem = null;
          width = header.size();
          columns = new ArrayList<>(def.fields.size());
          Map<String, Integer> byName = new HashMap<>();
          for (int i = 0; i < header.size(); i++) {
            String name = header.get(i).strip().toLowerCase(Locale.ROOT);
            if (byName.put(name, i) != null && problem == null) {
              problem = "header names column '" + name + "' twice";
            }
          }
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
            problem = "the first line names none of the defined columns: the header is missing"
                + " (or the file belongs to another dataset)";
          } else if (problem == null && !missing.isEmpty()) {
            problem = "header lacks required column(s) " + missing;
          }
          if (problem != null) {
            rejectFile(out, path, 1, Rejects.HEADER, problem);
            return 1;
          }
          if (known < byName.size()) {
            noteUnknownColumns(path, byName.keySet());
          }
        } else {
          width = def.fields.size();
          Integer[] identity = new Integer[width];
          for (int i = 0; i < width; i++) {
            identity[i] = i;
          }
          columns = Arrays.asList(identity);
        }
        columns = Collections.unmodifiableList(columns);
        RecordValidator.Receiver validated = validator == null ? null
            : RecordValidator.Receiver.to(out.get(CLEAN), out.get(REJECTS));
        OutputReceiver<Row> raw = validator == null ? out.get(RECORDS) : null;
        while (it.hasNext()) {
          CSVRecord record = it.next();
          long endLine = parser.getCurrentLineNumber();
          List<String> cells = record.toList();
          long startLine = Math.max(lastLine + 1, endLine - lineBreaksIn(cells));
          lastLine = endLine;
          records++;
          if (validated != null) {
            validator.validate(path, startLine, cells, columns, partitions, width, validated);
          } else {
            raw.output(Row.withSchema(DatasetSchemas.RAW)
                .attachValues(path, startLine, cells, columns, partitions, width));
          }
        }
        return records;
      } catch (IOException | RuntimeException e) {
        rejectFile(out, path, lastLine + 1, Rejects.FILE,
            "cannot read past line " + lastLine + ": " + describe(e));
        return records + 1;
      } finally {
        rowsRead.inc(records);
        LOG.info("read {} records from {}", records, path);
      }
    }

    /** The file's text, strict UTF-8, without a leading byte order mark. */
    private static Reader open(FileIO.ReadableFile file) throws IOException {
      BufferedReader reader =
          new BufferedReader(new StrictUtf8Reader(Channels.newInputStream(file.open())), 1 << 16);
      reader.mark(1);
      if (reader.read() != '\ufeff') {
        reader.reset();
      }
      return reader;
    }

    /**
     * Reads a compressed file to its end once before any record is taken from it: gzip's checksum
     * comes last, so damage can otherwise surface only after wrong rows were read. Returns why the
     * file cannot be decompressed, or null.
     */
    private static String checkCompressed(FileIO.ReadableFile file) {
      byte[] buffer = new byte[1 << 16];
      try (InputStream in = Channels.newInputStream(file.open())) {
        while (in.read(buffer) >= 0) {
          // Only the decompressor's checks matter here.
        }
        return null;
      } catch (IOException | RuntimeException e) {
        return describe(e);
      }
    }

    /** Logs and counts, once per file, the header columns the definition does not name. */
    private void noteUnknownColumns(String path, Iterable<String> headerNames) {
      List<String> unknown = new ArrayList<>();
      for (String name : headerNames) {
        if (!fieldNames.contains(name)) {
          unknown.add(name);
        }
      }
      Collections.sort(unknown);
      filesWithUnknownColumns.inc();
      LOG.info("file {} has {} column(s) the definition does not name, ignored: {}", path,
          unknown.size(), unknown.size() > 20 ? unknown.subList(0, 20) + "..." : unknown);
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

    private void rejectFile(
        MultiOutputReceiver out, String path, long line, String reason, String message) {
      filesRejected.inc();
      LOG.warn("file {} rejected ({}): {}", path, reason, message);
      out.get(validator == null ? FILE_REJECTS : REJECTS)
          .output(Rejects.of(path, line, reason, null, message, null));
    }
  }
}
