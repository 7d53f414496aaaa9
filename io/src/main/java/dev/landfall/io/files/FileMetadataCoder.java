package dev.landfall.io.files;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MetadataCoderV2;

/**
 * Encodes a matched file's metadata with every fact the file ledger compares: name, size,
 * modification time and checksum (the ETag on S3). Beam's {@code MetadataCoder}, the default coder
 * of {@code FileIO.matchAll()}'s output, drops the modification time, and {@code MetadataCoderV2}
 * the checksum, so a backfill recorded neither and the first watch after it took every file for
 * changed. Both discovery paths ({@link MatchInputFiles} and {@link WatchForStableFiles}) use this
 * coder, so the ledger sees the same facts whichever path found the file.
 */
public final class FileMetadataCoder extends AtomicCoder<MatchResult.Metadata> {
  private static final long serialVersionUID = 1L;
  private static final FileMetadataCoder INSTANCE = new FileMetadataCoder();
  private static final Coder<MatchResult.Metadata> V2 = MetadataCoderV2.of();
  private static final Coder<String> CHECKSUM = NullableCoder.of(StringUtf8Coder.of());

  private FileMetadataCoder() {}

  public static FileMetadataCoder of() {
    return INSTANCE;
  }

  @Override
  public void encode(MatchResult.Metadata m, OutputStream out) throws IOException {
    V2.encode(m, out);
    CHECKSUM.encode(m.checksum(), out);
  }

  @Override
  public MatchResult.Metadata decode(InputStream in) throws IOException {
    MatchResult.Metadata m = V2.decode(in);
    String checksum = CHECKSUM.decode(in);
    if (checksum == null) {
      return m;
    }
    return MatchResult.Metadata.builder()
        .setResourceId(m.resourceId())
        .setIsReadSeekEfficient(m.isReadSeekEfficient())
        .setSizeBytes(m.sizeBytes())
        .setLastModifiedMillis(m.lastModifiedMillis())
        .setChecksum(checksum)
        .build();
  }

  @Override
  public boolean consistentWithEquals() {
    return true;
  }
}
