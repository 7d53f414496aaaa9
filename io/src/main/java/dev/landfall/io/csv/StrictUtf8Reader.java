package dev.landfall.io.csv;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes UTF-8 strictly, handing out every character that precedes a bad byte before it fails with
 * {@link NotUtf8Exception}. ({@link java.io.InputStreamReader} drops the characters it has already
 * decoded from the same 8 KB block, so the CSV reader would lose the good records just before the
 * bad line and report the wrong line.)
 */
final class StrictUtf8Reader extends Reader {
  /** The input holds bytes that are not UTF-8: another encoding, or not text at all. */
  static final class NotUtf8Exception extends IOException {
    private static final long serialVersionUID = 1L;

    NotUtf8Exception() {
      super("bytes that are not valid UTF-8 (is the file in another encoding, or binary?)");
    }
  }

  private final InputStream in;
  private final CharsetDecoder decoder =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
  private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16);
  private boolean eof;
  private boolean finished;
  private IOException failure;

  StrictUtf8Reader(InputStream in) {
    this.in = in;
    bytes.flip();
  }

  @Override
  public int read(char[] cbuf, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    CharBuffer out = CharBuffer.wrap(cbuf, off, len);
    int start = out.position();
    while (out.position() == start) {
      if (failure != null) {
        throw failure;
      }
      if (finished) {
        return -1;
      }
      CoderResult r = decoder.decode(bytes, out, eof);
      if (r.isError()) {
        failure = new NotUtf8Exception();
      } else if (r.isUnderflow()) {
        if (eof) {
          decoder.flush(out);
          finished = true;
        } else {
          bytes.compact();
          int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
          if (n < 0) {
            eof = true;
          } else {
            bytes.position(bytes.position() + n);
          }
          bytes.flip();
        }
      }
    }
    return out.position() - start;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
