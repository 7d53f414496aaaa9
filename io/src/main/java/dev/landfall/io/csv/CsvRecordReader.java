package dev.landfall.io.csv;

import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.csv.CSVException;

/**
 * Reads the records of a CSV text by exactly the rules of Apache Commons CSV 1.14.1's parser with
 * {@code CSVFormat.RFC4180}, a one-character delimiter and quote, {@code ignoreEmptyLines} and
 * {@code ignoreSurroundingSpaces}: the same records, the same cells, the same line number after
 * each record and the same errors ({@link CSVException} with commons-csv's messages) at the same
 * points. {@code CsvRecordReaderTest} compares the two on generated and hostile texts.
 *
 * <p>Why not commons-csv itself: it hands every character through three buffered readers and a
 * {@code StringBuilder}, which made it about a fifth of a backfill's CPU (every file is parsed
 * twice). This is the same state machine as commons-csv's {@code Lexer} and {@code
 * ExtendedBufferedReader}, kept in that shape on purpose so the two can be read side by side, over
 * one {@code char[]} buffer, with one shortcut: the characters of an unquoted cell are copied in
 * one run up to the next delimiter or line break.
 */
final class CsvRecordReader implements Closeable {
  private static final int EOF = -1;
  private static final int UNDEFINED = -2;
  private static final char CR = '\r';
  private static final char LF = '\n';

  /** Token types, as commons-csv's {@code Token.Type}. */
  private static final int TOKEN = 0;

  private static final int EORECORD = 1;
  private static final int EOF_TOKEN = 2;

  private final Reader in;
  private final char delimiter;
  private final char quote;

  private final char[] buf = new char[1 << 16];
  private int pos;
  private int limit;

  /** As commons-csv's {@code ExtendedBufferedReader}: the last character read, lines, position. */
  private int lastChar = UNDEFINED;

  private long lineNumber;
  private long position;

  private boolean isLastTokenDelimiter;

  /** The current token: its characters, and whether an end of input token carries a value. */
  private char[] token = new char[256];

  private int tokenLength;
  private boolean tokenReady;

  private final List<String> values = new ArrayList<>();

  /** Reads from {@code in} through this reader's own buffer (give it an unbuffered reader). */
  CsvRecordReader(Reader in, char delimiter, char quote) {
    if (delimiter == CR || delimiter == LF || quote == CR || quote == LF || delimiter == quote) {
      throw new IllegalArgumentException(
          "a CSV delimiter or quote cannot be a line break, and the"
              + " two cannot be the same character");
    }
    this.in = in;
    this.delimiter = delimiter;
    this.quote = quote;
  }

  /**
   * Skips a byte order mark at the start of the text, as if the text began after it (lines and
   * positions do not count it). Call before the first {@link #next}.
   */
  void skipByteOrderMark() throws IOException {
    if (position == 0 && peek() == '\ufeff') {
      pos++;
    }
  }

  /** The next record's cells, or null at the end of the input. */
  String[] next() throws IOException {
    values.clear();
    int type;
    do {
      type = nextToken();
      if (type != EOF_TOKEN || tokenReady) {
        values.add(new String(token, 0, tokenLength));
      }
    } while (type == TOKEN);
    return values.isEmpty() ? null : values.toArray(new String[0]);
  }

  /**
   * The line the reader stands on, as commons-csv's {@code CSVParser.getCurrentLineNumber()}: after
   * a record, the line its last character was on.
   */
  long lineNumber() {
    if (lastChar == CR || lastChar == LF || lastChar == UNDEFINED || lastChar == EOF) {
      return lineNumber;
    }
    return lineNumber + 1;
  }

  @Override
  public void close() throws IOException {
    lastChar = EOF;
    in.close();
  }

  // ---- The reader: commons-csv's ExtendedBufferedReader over one buffer.

  private boolean fill() throws IOException {
    int n;
    do {
      n = in.read(buf, 0, buf.length);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    pos = 0;
    limit = n;
    return true;
  }

  private int read() throws IOException {
    int current = pos < limit || fill() ? buf[pos++] : EOF;
    if (current == CR
        || current == LF && lastChar != CR
        || current == EOF && lastChar != CR && lastChar != LF && lastChar != EOF) {
      lineNumber++;
    }
    lastChar = current;
    position++;
    return current;
  }

  private int peek() throws IOException {
    return pos < limit || fill() ? buf[pos] : EOF;
  }

  // ---- The lexer: commons-csv's Lexer with no escape and no comments.

  private int nextToken() throws IOException {
    tokenLength = 0;
    tokenReady = false;
    int lastChar = this.lastChar;
    int c = read();
    boolean eol = readEndOfLine(c);
    // Empty lines are skipped.
    while (eol && isStartOfLine(lastChar)) {
      lastChar = c;
      c = read();
      eol = readEndOfLine(c);
      if (c == EOF) {
        return EOF_TOKEN;
      }
    }
    if (lastChar == EOF || !isLastTokenDelimiter && c == EOF) {
      return EOF_TOKEN;
    }
    // Surrounding spaces are ignored.
    while (Character.isWhitespace((char) c) && !isDelimiter(c) && !eol) {
      c = read();
      eol = readEndOfLine(c);
    }
    if (isDelimiter(c)) {
      return TOKEN;
    } else if (eol) {
      return EORECORD;
    } else if (c == quote) {
      return parseEncapsulatedToken();
    } else if (c == EOF) {
      tokenReady = true;
      return EOF_TOKEN;
    }
    return parseSimpleToken(c);
  }

  private int parseSimpleToken(int ch) throws IOException {
    int cur = ch;
    int type;
    while (true) {
      if (readEndOfLine(cur)) {
        type = EORECORD;
        break;
      }
      if (cur == EOF) {
        type = EOF_TOKEN;
        tokenReady = true;
        break;
      }
      if (isDelimiter(cur)) {
        type = TOKEN;
        break;
      }
      append((char) cur);
      // The shortcut: every character up to the next delimiter or line break in the buffer is
      // read and appended as the loop would (none of them moves the line count).
      int start = pos;
      int end = start;
      while (end < limit) {
        char x = buf[end];
        if (x == delimiter || x == LF || x == CR) {
          break;
        }
        end++;
      }
      if (end > start) {
        appendRun(start, end - start);
        pos = end;
        position += end - start;
        lastChar = buf[end - 1];
      }
      cur = read();
    }
    while (tokenLength > 0 && Character.isWhitespace(token[tokenLength - 1])) {
      tokenLength--;
    }
    return type;
  }

  private int parseEncapsulatedToken() throws IOException {
    long startLineNumber = lineNumber();
    int c;
    while (true) {
      c = read();
      if (c == quote) {
        if (peek() == quote) {
          c = read();
          append((char) c);
        } else {
          // The closing quote: only whitespace may come before the delimiter or line break.
          while (true) {
            c = read();
            if (isDelimiter(c)) {
              return TOKEN;
            }
            if (c == EOF) {
              tokenReady = true;
              return EOF_TOKEN;
            }
            if (readEndOfLine(c)) {
              return EORECORD;
            }
            if (!Character.isWhitespace((char) c)) {
              throw new CSVException(
                  "Invalid character between encapsulated token and delimiter"
                      + " at line: %,d, position: %,d",
                  lineNumber(), position);
            }
          }
        }
      } else if (c == EOF) {
        throw new CSVException(
            "(startline %,d) EOF reached before encapsulated token finished", startLineNumber);
      } else {
        append((char) c);
      }
    }
  }

  private boolean readEndOfLine(int ch) throws IOException {
    int cur = ch;
    if (cur == CR && peek() == LF) {
      cur = read();
    }
    return cur == LF || cur == CR;
  }

  private boolean isDelimiter(int ch) {
    isLastTokenDelimiter = ch == delimiter;
    return isLastTokenDelimiter;
  }

  private static boolean isStartOfLine(int ch) {
    return ch == LF || ch == CR || ch == UNDEFINED;
  }

  private void append(char c) {
    if (tokenLength == token.length) {
      token = Arrays.copyOf(token, token.length * 2);
    }
    token[tokenLength++] = c;
  }

  private void appendRun(int from, int length) {
    if (tokenLength + length > token.length) {
      token = Arrays.copyOf(token, Math.max(token.length * 2, tokenLength + length));
    }
    System.arraycopy(buf, from, token, tokenLength, length);
    tokenLength += length;
  }
}
