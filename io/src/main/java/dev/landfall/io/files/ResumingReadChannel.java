package dev.landfall.io.files;

import dev.landfall.io.retry.Retry;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.time.Duration;
import java.util.Collections;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * Reads an object of a remote file system (S3) to its end through network faults: when a read
 * breaks off in the middle of the object (a connection cut, reset or timed out after the response
 * started, which the AWS SDK does not retry) it is resumed from the byte reached with a ranged
 * read, after checking that the object still has the size and modification time it was listed with;
 * a read that ends before the listed size is a fault too, never a shorter file. Resumes back off
 * through landfall's one retry policy ({@link #RESUMES}, a WARN line each); when they are used up,
 * or the fault is permanent (403, a vanished or changed object), the read fails with the reason,
 * and the file is rejected as any unreadable file is. Nothing of a file is lost or read twice: the
 * caller sees one stream of the object's bytes.
 *
 * <p>Local files are read as before ({@link FileIO.ReadableFile#open}): a local read does not break
 * off in the middle, and a local file that changes while read is the stability rule's case.
 */
public final class ResumingReadChannel implements SeekableByteChannel {
  /** Consecutive attempts of one read: 5 within about 15 s (1, 2, 4, 8 s apart). */
  static final Retry RESUMES = new Retry(5, Duration.ofSeconds(1), Duration.ofSeconds(8));

  private static final Counter RESUMED =
      Metrics.counter(ResumingReadChannel.class, "input-reads-resumed");

  private final MatchResult.Metadata file;
  private final Retry retry;
  private SeekableByteChannel in;

  /** The bytes handed on so far: where a resumed read starts. */
  private long position;

  /** Whether a read failed since the channel was opened: the next open is a resume. */
  private boolean broken;

  private boolean open = true;

  ResumingReadChannel(MatchResult.Metadata file, Retry retry) {
    this.file = file;
    this.retry = retry;
  }

  /**
   * The file's bytes, decompressed as {@code file} says: for a remote object through a resuming
   * channel, for a local file as {@link FileIO.ReadableFile#open} gives them.
   */
  public static ReadableByteChannel open(FileIO.ReadableFile file) throws IOException {
    if (!resumable(file.getMetadata())) {
      return file.open();
    }
    return file.getCompression()
        .readDecompressed(new ResumingReadChannel(file.getMetadata(), RESUMES));
  }

  /**
   * The file's bytes as a seekable channel (a Parquet file's): for a remote object a resuming one,
   * for a local file {@link FileSystems#open}'s.
   */
  public static SeekableByteChannel openSeekable(MatchResult.Metadata file) throws IOException {
    if (!resumable(file)) {
      return (SeekableByteChannel) FileSystems.open(file.resourceId());
    }
    return new ResumingReadChannel(file, RESUMES);
  }

  /**
   * Runs {@code read}, a read of a small file from its start, again after a transient fault, as a
   * read of an object is resumed ({@link #RESUMES}); rethrows a permanent fault as it is.
   */
  public static <T> T retrying(String what, Retry.Attempt<T, IOException> read) throws IOException {
    return RESUMES.run(what, read, ResumingReadChannel::isTransient, ResumingReadChannel::describe);
  }

  /** Whether reads of {@code file} are resumed: remote objects of a known size. */
  static boolean resumable(MatchResult.Metadata file) {
    return !"file".equals(file.resourceId().getScheme()) && file.sizeBytes() >= 0;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    int start = dst.position();
    long size = file.sizeBytes();
    return retry.run(
        "reading " + file.resourceId() + " (at byte " + position + " of " + size + ")",
        () -> {
          // A failed read may have put some bytes into dst before it broke: they are read again.
          dst.position(start);
          try {
            if (in == null) {
              in = openAt(position);
            }
            int n = in.read(dst);
            if (n < 0) {
              if (position < size) {
                throw new EndedEarly(
                    "the object ended at byte "
                        + position
                        + " of the "
                        + size
                        + " it was listed with");
              }
              return -1;
            }
            position += n;
            if (position > size) {
              throw new Changed(
                  "changed while it was read: more than the " + size + " bytes it was listed with");
            }
            return n;
          } catch (IOException | RuntimeException e) {
            broken = true;
            closeInput();
            throw e;
          }
        },
        ResumingReadChannel::isTransient,
        ResumingReadChannel::describe);
  }

  /** Opens the object at byte {@code at}; after a failure, only if it is still the same object. */
  private SeekableByteChannel openAt(long at) throws IOException {
    if (broken) {
      checkUnchanged();
      RESUMED.inc();
    }
    ReadableByteChannel c = FileSystems.open(file.resourceId());
    if (!(c instanceof SeekableByteChannel)) {
      c.close();
      throw new Changed(
          "cannot resume a read of "
              + file.resourceId()
              + ": its file system"
              + " gives no seekable channel");
    }
    SeekableByteChannel s = (SeekableByteChannel) c;
    if (at > 0) {
      s.position(at);
    }
    return s;
  }

  /**
   * Fails (permanently) when the object is gone, or its size or modification time (to the second: a
   * listing and a HEAD give it at different precisions) differs from the listed one.
   */
  private void checkUnchanged() throws IOException {
    MatchResult m =
        FileSystems.match(Collections.singletonList(file.resourceId().toString())).get(0);
    if (m.status() == MatchResult.Status.NOT_FOUND) {
      throw new FileNotFoundException(file.resourceId() + " vanished while it was read");
    }
    MatchResult.Metadata now = m.metadata().get(0);
    boolean timesKnown = now.lastModifiedMillis() > 0 && file.lastModifiedMillis() > 0;
    if (now.sizeBytes() != file.sizeBytes()
        || (timesKnown && now.lastModifiedMillis() / 1000 != file.lastModifiedMillis() / 1000)) {
      throw new Changed(
          "changed while it was read: listed with "
              + file.sizeBytes()
              + " bytes, modified "
              + file.lastModifiedMillis()
              + "; now "
              + now.sizeBytes()
              + " bytes, modified "
              + now.lastModifiedMillis());
    }
  }

  /**
   * Whether a failed read of a remote object is worth another attempt: connection faults and server
   * errors are, a refused or missing object (a 4xx answer other than 408 and 429), a vanished or
   * changed object are not.
   */
  static boolean isTransient(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Changed
          || t instanceof FileNotFoundException
          || t instanceof ClosedChannelException) {
        return false;
      }
      if (t instanceof SdkServiceException) {
        int status = ((SdkServiceException) t).statusCode();
        return status >= 500 || status == 408 || status == 429 || status == 0;
      }
    }
    return e instanceof IOException;
  }

  /** A fault as one line: the innermost message that says something. */
  static String describe(Exception e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    String message = cause.getMessage();
    return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  private void closeInput() {
    if (in != null) {
      try {
        in.close();
      } catch (IOException | RuntimeException ignored) {
        // A broken connection: nothing more to release.
      }
      in = null;
    }
  }

  @Override
  public long position() throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    if (newPosition != position) {
      closeInput(); // the next read opens the object there
      position = newPosition;
    }
    return this;
  }

  @Override
  public long size() throws IOException {
    if (!open) {
      throw new ClosedChannelException();
    }
    return file.sizeBytes();
  }

  @Override
  public int write(ByteBuffer src) {
    throw new java.nio.channels.NonWritableChannelException();
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new java.nio.channels.NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() throws IOException {
    open = false;
    if (in != null) {
      SeekableByteChannel c = in;
      in = null;
      c.close();
    }
  }

  /** An object that ended before its listed size: transient (the connection was cut). */
  static final class EndedEarly extends IOException {
    private static final long serialVersionUID = 1L;

    EndedEarly(String message) {
      super(message);
    }
  }

  /** An object that changed (or cannot be resumed) while it was read: permanent. */
  static final class Changed extends IOException {
    private static final long serialVersionUID = 1L;

    Changed(String message) {
      super(message);
    }
  }
}
