package dev.landfall.io.csv;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/**
 * {@link CsvRecordReader} against the parser it replaces, Apache Commons CSV 1.14.1 with the
 * settings landfall used ({@code RFC4180}, ignore empty lines, ignore surrounding spaces): on every
 * text both must give the same records, the same line number after each record, and fail at the
 * same record with the same error.
 */
class CsvRecordReaderTest {

  /** Characters that steer the parser (and two that only look like it), for generated texts. */
  private static final char[] ALPHABET = {
    'a', 'b', 'c', ' ', ' ', '\t', ',', ',', '"', '"', '\r', '\n', '\n', ';', '\'', 'é', '\u2003',
    '\u00a0', '\u000b', '\u001c', '\ud83d', '\ude00'
  };

  @Test
  void plainRecordsWithTheirLines() throws IOException {
    List<String> got =
        parse(
            new CsvRecordReader(
                new StringReader("id,name\r\n1, Ann \n\n2,\"Bo, \"\"B\"\"\nC\"\n3,"), ',', '"'));
    assertThat(got, contains("[id, name]@1", "[1, Ann]@2", "[2, Bo, \"B\"\nC]@5", "[3, ]@6"));
  }

  @Test
  void aByteOrderMarkIsSkippedOnlyAtTheStart() throws IOException {
    CsvRecordReader reader = new CsvRecordReader(new StringReader("\ufeffa,\ufeffb\n"), ',', '"');
    reader.skipByteOrderMark();
    assertThat(parse(reader), contains("[a, \ufeffb]@1"));
  }

  @Test
  void sameAsCommonsCsvOnGeneratedTexts() throws IOException {
    Random random = new Random(20261204L);
    char[][] dialects = {{',', '"'}, {';', '\''}, {'\t', '"'}, {' ', '"'}};
    for (int i = 0; i < 200_000; i++) {
      char[] dialect = dialects[i % dialects.length];
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(i % 10 == 0 ? 200 : 30);
      for (int j = 0; j < length; j++) {
        text.append(ALPHABET[random.nextInt(ALPHABET.length)]);
      }
      assertSame(text.toString(), dialect[0], dialect[1], 1 + random.nextInt(8));
    }
  }

  @Test
  void sameAsCommonsCsvOnRecordsLongerThanTheBuffer() throws IOException {
    Random random = new Random(42);
    StringBuilder text = new StringBuilder("h1,h2,h3\n");
    for (int r = 0; r < 300; r++) {
      for (int c = 0; c < 3; c++) {
        int length = random.nextInt(r % 50 == 0 ? 200_000 : 500);
        boolean quoted = random.nextBoolean();
        text.append(quoted ? "\"" : "  ");
        for (int j = 0; j < length; j++) {
          char ch = ALPHABET[random.nextInt(6)];
          text.append(ch);
          if (quoted && random.nextInt(1000) == 0) {
            text.append("\"\"\r\n");
          }
        }
        text.append(quoted ? "\" " : " ")
            .append(c < 2 ? "," : random.nextBoolean() ? "\r\n" : "\n");
      }
    }
    assertSame(text.toString(), ',', '"', 1 << 16);
    assertSame(text.toString(), ',', '"', 4093);
  }

  @Test
  void sameAsCommonsCsvOnHostileTexts() throws IOException {
    String[] texts = {
      "",
      "\n",
      "\r\n\r\n",
      " ",
      " \n ",
      ",",
      ",\n",
      "a,",
      "a,\n",
      "\"",
      "\"a",
      "\"a\"b,c",
      "\"a\" ,b",
      "\"a\"\t\n",
      "a\"b\",c",
      "\"\"\"\"",
      "\"a\"\"",
      " \" a \" ",
      "a\rb\r\rc",
      "a\r\nb\n\rc",
      "\n\n\na,b\n\n",
      "a,b\n\"c\nd",
      "\ufeffa,b",
      "\t\t,\t",
      "x,\"y\"z",
      "x,\"y\"\r",
      "x,\"y\"\r\n\r\n",
      "\u2003a\u2003,\u00a0b\u00a0"
    };
    for (String text : texts) {
      for (int chunk : new int[] {1, 2, 3, 1 << 16}) {
        assertSame(text, ',', '"', chunk);
      }
    }
  }

  @Test
  void aFailingSourceFailsAfterTheSameRecords() throws IOException {
    String good = "a,b\nc,\"d\ne\"\nf,g";
    for (int cut = 0; cut <= good.length(); cut++) {
      String head = good.substring(0, cut);
      assertThat(
          head,
          outcome(new CsvRecordReader(new FailingReader(head, 2), ',', '"')),
          equalTo(commonsOutcome(new FailingReader(head, 1 << 16), ',', '"')));
    }
  }

  @Test
  void aDelimiterMustDifferFromTheQuoteAndFromLineBreaks() {
    assertThrows(
        IllegalArgumentException.class, () -> new CsvRecordReader(new StringReader(""), '"', '"'));
    assertThrows(
        IllegalArgumentException.class, () -> new CsvRecordReader(new StringReader(""), '\n', '"'));
  }

  private static void assertSame(String text, char delimiter, char quote, int chunk)
      throws IOException {
    List<String> expected = commonsOutcome(new StringReader(text), delimiter, quote);
    List<String> got =
        outcome(new CsvRecordReader(new ChunkedReader(text, chunk), delimiter, quote));
    if (!got.equals(expected)) {
      assertThat(
          "text "
              + escape(text)
              + " delimiter "
              + escape(String.valueOf(delimiter))
              + " chunk "
              + chunk,
          got,
          equalTo(expected));
    }
  }

  /** Each record with the line after it, then "error ..." if reading failed. */
  private static List<String> outcome(CsvRecordReader reader) {
    List<String> out = new ArrayList<>();
    try (reader) {
      String[] record;
      while ((record = reader.next()) != null) {
        out.add(Arrays.toString(record) + "@" + reader.lineNumber());
      }
    } catch (IOException e) {
      out.add("error " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
    return out;
  }

  private static List<String> parse(CsvRecordReader reader) throws IOException {
    List<String> out = outcome(reader);
    for (String s : out) {
      if (s.startsWith("error")) {
        throw new IOException(s);
      }
    }
    return out;
  }

  private static List<String> commonsOutcome(Reader source, char delimiter, char quote)
      throws IOException {
    CSVFormat format =
        CSVFormat.RFC4180
            .builder()
            .setDelimiter(delimiter)
            .setQuote(quote)
            .setIgnoreEmptyLines(true)
            .setIgnoreSurroundingSpaces(true)
            .get();
    List<String> out = new ArrayList<>();
    try (CSVParser parser =
        CSVParser.builder().setReader(new BufferedReader(source)).setFormat(format).get()) {
      Iterator<CSVRecord> it = parser.iterator();
      while (it.hasNext()) {
        CSVRecord record = it.next();
        out.add(Arrays.toString(record.values()) + "@" + parser.getCurrentLineNumber());
      }
    } catch (UncheckedIOException e) {
      Throwable t = e.getCause();
      out.add("error " + t.getClass().getSimpleName() + ": " + t.getMessage());
    }
    return out;
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
    }
    return b.append('"').toString();
  }

  /** Hands out a text at most {@code chunk} characters a read, to cross buffer ends anywhere. */
  private static class ChunkedReader extends Reader {
    private final String text;
    private final int chunk;
    private int at;

    ChunkedReader(String text, int chunk) {
      this.text = text;
      this.chunk = chunk;
    }

    @Override
    public int read(char[] cbuf, int off, int len) throws IOException {
      if (at == text.length()) {
        return -1;
      }
      int n = Math.min(Math.min(len, chunk), text.length() - at);
      text.getChars(at, at + n, cbuf, off);
      at += n;
      return n;
    }

    @Override
    public void close() {}
  }

  /** Hands out a text, then fails as the strict UTF-8 decoder does on a bad byte. */
  private static final class FailingReader extends ChunkedReader {
    private boolean done;

    FailingReader(String text, int chunk) {
      super(text, chunk);
    }

    @Override
    public int read(char[] cbuf, int off, int len) throws IOException {
      int n = done ? -1 : super.read(cbuf, off, len);
      if (n < 0) {
        done = true;
        throw new StrictUtf8Reader.NotUtf8Exception();
      }
      return n;
    }
  }
}
