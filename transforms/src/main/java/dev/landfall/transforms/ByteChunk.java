package dev.landfall.transforms;

import java.io.OutputStream;
import java.util.Arrays;

/**
 * A growable byte array written as a stream, unsynchronized: the chunks that keys and rows are
 * packed into before a shuffle ({@link FindDuplicateLines}, {@link DeduplicateByKey.Packer}).
 */
class ByteChunk extends OutputStream {
  byte[] bytes;
  int size;

  ByteChunk(int initialCapacity) {
    bytes = new byte[initialCapacity];
  }

  @Override
  public void write(int b) {
    ensure(1);
    bytes[size++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, bytes, size, len);
    size += len;
  }

  /** Makes room for {@code more} bytes. */
  final void ensure(int more) {
    if (size + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
  }

  /** The bytes written since the last take, as an array of their own; empties the chunk. */
  final byte[] take() {
    byte[] out = Arrays.copyOf(bytes, size);
    size = 0;
    return out;
  }
}
