package dev.landfall.io.parquet;

import dev.landfall.io.files.Listings;
import dev.landfall.io.files.ResumingReadChannel;
import dev.landfall.io.postgres.Database;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions.StandardMoveOptions;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the small Parquet files of one partition folder into files of about a target size, and
 * keeps such merged files consistent with the per-input-file Parquet files the pipeline writes.
 *
 * <p>A merged file is {@code compact-<hash>.parquet}. Beside it, {@code
 * _compact-<hash>.parquet.members} lists the {@code part-*} files whose rows it holds and the older
 * merged files it replaced (readers skip names starting with {@code _} and {@code .}, as they skip
 * {@code _SUCCESS}). A merge writes the merged file under a hidden temporary name, writes the list,
 * renames the merged file into place and only then deletes its inputs.
 *
 * <p>{@link #reconcile} makes a folder consistent again after anything that happened since: an
 * input still present and older than the merged file is a leftover of an interrupted merge and is
 * deleted; a {@code part-*} file newer than the merged file was written again (a restart or {@code
 * --reingestChanged} re-read its input file), so the merged file is rewritten without that input
 * file's rows. Both the pipeline's Parquet writers and {@link #compact} call it, so readers see
 * every row once after each of them. Between a writer's rename and its reconcile a reader may
 * briefly see the old and new copies of a re-read file's rows.
 */
public final class ParquetCompaction implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ParquetCompaction.class);

  static final String COMPACT_PREFIX = "compact-";
  static final String PART_PREFIX = "part-";
  static final String PARQUET = ".parquet";
  static final String MEMBERS = ".members";

  /** {@code part-} and 16 hex digits: the part of a file name that names its input file. */
  private static final int PART_ID_LENGTH = PART_PREFIX.length() + 16;

  private final long targetBytes;
  private final int rowGroupBytes;
  private final int compactAfterFiles;
  private final Database locks;

  /**
   * @param targetBytes merged files are filled up to about this size; files at least this large are
   *     left alone
   * @param rowGroupBytes the row group size of the merged files
   */
  public ParquetCompaction(long targetBytes, int rowGroupBytes) {
    this(targetBytes, rowGroupBytes, 0, null);
  }

  private ParquetCompaction(
      long targetBytes, int rowGroupBytes, int compactAfterFiles, Database locks) {
    this.targetBytes = targetBytes;
    this.rowGroupBytes = rowGroupBytes;
    this.compactAfterFiles = compactAfterFiles;
    this.locks = locks;
  }

  /**
   * Works on a folder only while holding a PostgreSQL advisory lock on it, so that workers on other
   * machines (and a {@code --compact} run) never change one folder at the same time.
   */
  public ParquetCompaction withFolderLocks(Database db) {
    return new ParquetCompaction(targetBytes, rowGroupBytes, compactAfterFiles, db);
  }

  /** {@link #afterWrite} merges a folder once it holds this many small files (0: never). */
  public ParquetCompaction compactingAfter(int files) {
    return new ParquetCompaction(targetBytes, rowGroupBytes, files, locks);
  }

  /** What one {@link #compact} call did. */
  public static final class Result implements Serializable {
    private static final long serialVersionUID = 1L;
    public final long filesMerged;
    public final long filesWritten;
    public final long rows;

    Result(long filesMerged, long filesWritten, long rows) {
      this.filesMerged = filesMerged;
      this.filesWritten = filesWritten;
      this.rows = rows;
    }
  }

  /** The folders under {@code datasetFolder} that hold Parquet files. */
  public static List<String> partitionFolders(String datasetFolder) throws IOException {
    String root = datasetFolder.endsWith("/") ? datasetFolder : datasetFolder + "/";
    Set<String> folders = new TreeSet<>();
    for (List<MatchResult.Metadata> files :
        Listings.match(List.of(root + "**" + PARQUET, root + "*" + PARQUET))) {
      for (MatchResult.Metadata m : files) {
        folders.add(m.resourceId().getCurrentDirectory().toString());
      }
    }
    return new ArrayList<>(folders);
  }

  /** Reconciles the folder, then merges its files smaller than the target, in name order. */
  public Result compact(String folderSpec) throws IOException {
    ResourceId folder = FileSystems.matchNewResource(folderSpec, true);
    return locked(
        folder,
        () -> {
          reconcileUnlocked(folder);
          return mergeSmallFiles(folder, smallFiles(folder));
        });
  }

  /**
   * What a writer calls after it put a file into {@code folder}: reconciles it and, when it holds
   * {@link #compactingAfter} small files or more, merges them.
   */
  public Result afterWrite(ResourceId folder) throws IOException {
    return locked(
        folder,
        () -> {
          reconcileUnlocked(folder);
          if (compactAfterFiles <= 0) {
            return new Result(0, 0, 0);
          }
          List<MatchResult.Metadata> small = smallFiles(folder);
          return small.size() >= compactAfterFiles
              ? mergeSmallFiles(folder, small)
              : new Result(0, 0, 0);
        });
  }

  /**
   * What a backfill calls for each folder it wrote, once all its files are in place: reconciles the
   * folder and, when it holds more than {@code ceil(bytes / target) + 2} data files (several
   * workers each left a partly filled file, or files were closed early to bound memory), merges its
   * small files.
   */
  public Result reconcileAndBound(ResourceId folder) throws IOException {
    return locked(
        folder,
        () -> {
          reconcileUnlocked(folder);
          long bytes = 0;
          int count = 0;
          for (MatchResult.Metadata m : list(folder).values()) {
            if (isData(m.resourceId().getFilename())) {
              bytes += m.sizeBytes();
              count++;
            }
          }
          long bound = (bytes + targetBytes - 1) / targetBytes + 2;
          return count <= bound ? new Result(0, 0, 0) : mergeSmallFiles(folder, smallFiles(folder));
        });
  }

  private List<MatchResult.Metadata> smallFiles(ResourceId folder) throws IOException {
    List<MatchResult.Metadata> small = new ArrayList<>();
    for (MatchResult.Metadata m : list(folder).values()) {
      String name = m.resourceId().getFilename();
      if (isData(name) && m.sizeBytes() < targetBytes) {
        small.add(m);
      }
    }
    return small;
  }

  private Result mergeSmallFiles(ResourceId folder, List<MatchResult.Metadata> small)
      throws IOException {
    small.sort((a, b) -> a.resourceId().getFilename().compareTo(b.resourceId().getFilename()));
    long merged = 0;
    long written = 0;
    long rows = 0;
    List<MatchResult.Metadata> bin = new ArrayList<>();
    long binBytes = 0;
    for (int i = 0; i <= small.size(); i++) {
      MatchResult.Metadata next = i < small.size() ? small.get(i) : null;
      if (next == null || (!bin.isEmpty() && binBytes + next.sizeBytes() > targetBytes)) {
        if (bin.size() > 1) {
          rows += merge(folder, bin);
          merged += bin.size();
          written++;
        }
        bin = new ArrayList<>();
        binBytes = 0;
      }
      if (next != null) {
        bin.add(next);
        binBytes += next.sizeBytes();
      }
    }
    return new Result(merged, written, rows);
  }

  /** Merges {@code inputs} into one file; returns its row count. */
  private long merge(ResourceId folder, List<MatchResult.Metadata> inputs) throws IOException {
    Set<String> members = new TreeSet<>();
    List<ResourceId> toDelete = new ArrayList<>();
    for (MatchResult.Metadata in : inputs) {
      String name = in.resourceId().getFilename();
      members.add(name);
      toDelete.add(in.resourceId());
      if (name.startsWith(COMPACT_PREFIX)) {
        ResourceId list = membersOf(folder, name);
        for (String m : readMembers(list)) {
          if (m.startsWith(PART_PREFIX)) {
            members.add(m); // the parts it covers, so a later re-write of one is noticed
          }
        }
        toDelete.add(list);
      }
    }
    String name = COMPACT_PREFIX + hash(members) + PARQUET;
    long rows = rewrite(folder, name, members, inputs, Set.of());
    FileSystems.delete(toDelete, StandardMoveOptions.IGNORE_MISSING_FILES);
    LOG.info("compacted {} Parquet files ({} rows) into {}{}", inputs.size(), rows, folder, name);
    return rows;
  }

  /**
   * Makes the folder's merged files agree with its other files (see the class comment). Safe to
   * call at any time and any number of times; a folder without merged files costs one listing.
   */
  public void reconcile(ResourceId folder) throws IOException {
    locked(
        folder,
        () -> {
          reconcileUnlocked(folder);
          return null;
        });
  }

  private void reconcileUnlocked(ResourceId folder) throws IOException {
    Map<String, MatchResult.Metadata> files = list(folder);
    // Every merged file with its member list, read once: which input files (part ids) each holds.
    Map<String, MatchResult.Metadata> lists = new TreeMap<>();
    Map<String, Set<String>> membersOf = new HashMap<>();
    Map<String, Set<String>> partsOf = new HashMap<>();
    for (MatchResult.Metadata listMeta : files.values()) {
      String listName = listMeta.resourceId().getFilename();
      if (!listName.startsWith("_" + COMPACT_PREFIX) || !listName.endsWith(MEMBERS)) {
        continue;
      }
      String compactName = listName.substring(1, listName.length() - MEMBERS.length());
      if (!files.containsKey(compactName)) {
        // Interrupted before the rename (its inputs are intact), or replaced by a newer merge.
        FileSystems.delete(
            List.of(listMeta.resourceId()), StandardMoveOptions.IGNORE_MISSING_FILES);
        continue;
      }
      Set<String> members = new TreeSet<>(readMembers(listMeta.resourceId()));
      Set<String> parts = new HashSet<>();
      for (String m : members) {
        if (m.startsWith(PART_PREFIX)) {
          parts.add(partId(m));
        }
      }
      lists.put(compactName, listMeta);
      membersOf.put(compactName, members);
      partsOf.put(compactName, parts);
    }
    for (Map.Entry<String, MatchResult.Metadata> entry : lists.entrySet()) {
      String compactName = entry.getKey();
      MatchResult.Metadata listMeta = entry.getValue();
      MatchResult.Metadata compact = files.get(compactName);
      Set<String> members = membersOf.get(compactName);
      List<ResourceId> leftovers = new ArrayList<>();
      Set<String> rewritten = new HashSet<>();
      for (String member : members) {
        MatchResult.Metadata m = files.get(member);
        if (m == null) {
          continue;
        }
        if (m.lastModifiedMillis() <= compact.lastModifiedMillis()) {
          leftovers.add(m.resourceId());
          if (member.startsWith(COMPACT_PREFIX)) {
            leftovers.add(membersOf(folder, member));
          }
        } else if (member.startsWith(PART_PREFIX)) {
          rewritten.add(partId(member));
        }
      }
      // An input file a newer merged file holds too was written again (a re-run of a backfill
      // that writes merged files directly): the newer file keeps its rows. Of two equally old
      // files, the one with the greater name counts as newer, so exactly one keeps them.
      for (Map.Entry<String, Set<String>> other : partsOf.entrySet()) {
        MatchResult.Metadata o = files.get(other.getKey());
        boolean newer =
            o.lastModifiedMillis() > compact.lastModifiedMillis()
                || (o.lastModifiedMillis() == compact.lastModifiedMillis()
                    && other.getKey().compareTo(compactName) > 0);
        // A file this one lists and is not older than is one it merged (a leftover, deleted
        // above); one of the same name written since is newer and counts.
        boolean merged =
            members.contains(other.getKey())
                && o.lastModifiedMillis() <= compact.lastModifiedMillis();
        if (newer && !merged) {
          for (String part : partsOf.get(compactName)) {
            if (other.getValue().contains(part)) {
              rewritten.add(part);
            }
          }
        }
      }
      if (!leftovers.isEmpty()) {
        LOG.info(
            "deleting {} Parquet files already merged into {}{}",
            leftovers.size(),
            folder,
            compactName);
        FileSystems.delete(leftovers, StandardMoveOptions.IGNORE_MISSING_FILES);
      }
      if (rewritten.isEmpty()) {
        continue;
      }
      Set<String> kept = new TreeSet<>();
      for (String member : members) {
        if (member.startsWith(PART_PREFIX) && !rewritten.contains(partId(member))) {
          kept.add(member);
        }
      }
      LOG.info(
          "{}{}: {} of its input files were written again; dropping their rows from it",
          folder,
          compactName,
          rewritten.size());
      if (!kept.isEmpty()) {
        rewrite(folder, COMPACT_PREFIX + hash(kept) + PARQUET, kept, List.of(compact), rewritten);
      }
      FileSystems.delete(
          List.of(compact.resourceId(), listMeta.resourceId()),
          StandardMoveOptions.IGNORE_MISSING_FILES);
    }
  }

  /** The part of a {@code part-*} file name that names its input file. */
  private static String partId(String partName) {
    return partName.substring(0, Math.min(partName.length(), PART_ID_LENGTH));
  }

  /**
   * Writes {@code name} from the rows of {@code inputs} (minus those of the input files whose part
   * ids are in {@code dropParts}): a hidden temporary file, then the member list, then the rename.
   */
  private long rewrite(
      ResourceId folder,
      String name,
      Set<String> members,
      List<MatchResult.Metadata> inputs,
      Set<String> dropParts)
      throws IOException {
    ResourceId tmp =
        folder.resolve("." + name + ".inprogress", StandardResolveOptions.RESOLVE_FILE);
    ResourceId target = folder.resolve(name, StandardResolveOptions.RESOLVE_FILE);
    ParquetIO.Sink sink = null;
    Schema schema = schemaOf(inputs);
    long rows = 0;
    try {
      Schema recordSchema = null;
      boolean sameSchema = true;
      for (MatchResult.Metadata in : inputs) {
        try (ParquetReader<GenericRecord> reader =
            AvroParquetReader.<GenericRecord>builder(
                    new ReadParquetFiles.ChannelInputFile(ResumingReadChannel.openSeekable(in)))
                .withDataModel(GenericData.get())
                .build()) {
          for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
            if (!dropParts.isEmpty()
                && dropParts.contains(
                    WriteParquetPartitions.filePrefix(
                        String.valueOf(
                            r.get(
                                dev.landfall.transforms.definition.DatasetDefinition
                                    .SOURCE_FILE))))) {
              continue;
            }
            if (sink == null) {
              sink = ParquetRows.sink(schema, rowGroupBytes);
              sink.open(FileSystems.create(tmp, "application/octet-stream"));
            }
            if (r.getSchema() != recordSchema) {
              recordSchema = r.getSchema();
              sameSchema = recordSchema.equals(schema);
            }
            try {
              sink.write(sameSchema ? r : MergedSchema.convert(r, schema));
            } catch (IOException e) {
              throw new IOException(
                  in.resourceId()
                      + " cannot be merged with newer files: "
                      + e.getMessage()
                      + "; not merged",
                  e);
            }
            rows++;
          }
        }
      }
      if (sink == null) {
        return 0;
      }
      sink.flush();
      sink = null;
    } catch (IOException | RuntimeException e) {
      FileSystems.delete(List.of(tmp), StandardMoveOptions.IGNORE_MISSING_FILES);
      throw e;
    }
    writeMembers(membersOf(folder, name), members, inputs);
    FileSystems.rename(List.of(tmp), List.of(target));
    return rows;
  }

  /**
   * The schema of the merged file: the one schema of {@code inputs}, or, when a changed dataset
   * definition wrote them with different columns or types, the newest file's ({@link
   * MergedSchema}).
   */
  private static Schema schemaOf(List<MatchResult.Metadata> inputs) throws IOException {
    List<MatchResult.Metadata> byAge = new ArrayList<>(inputs);
    byAge.sort(java.util.Comparator.comparingLong(MatchResult.Metadata::lastModifiedMillis));
    List<Schema> schemas = new ArrayList<>();
    for (MatchResult.Metadata in : byAge) {
      try (org.apache.parquet.hadoop.ParquetFileReader reader =
          org.apache.parquet.hadoop.ParquetFileReader.open(
              new ReadParquetFiles.ChannelInputFile(ResumingReadChannel.openSeekable(in)))) {
        org.apache.parquet.hadoop.metadata.FileMetaData meta = reader.getFileMetaData();
        String avro = meta.getKeyValueMetaData().get("parquet.avro.schema");
        schemas.add(
            avro != null
                ? new Schema.Parser().parse(avro)
                : new org.apache.parquet.avro.AvroSchemaConverter().convert(meta.getSchema()));
      }
    }
    Schema first = schemas.get(0);
    return schemas.stream().allMatch(first::equals) ? first : MergedSchema.of(schemas);
  }

  @FunctionalInterface
  private interface FolderWork<T> {
    T run() throws IOException;
  }

  /** Runs {@code work} holding the folder's advisory lock, if locks are on. */
  private <T> T locked(ResourceId folder, FolderWork<T> work) throws IOException {
    if (locks == null) {
      return work.run();
    }
    long key =
        Long.parseUnsignedLong(
            WriteParquetPartitions.filePrefix("landfall-parquet-folder:" + folder)
                .substring(PART_PREFIX.length()),
            16);
    try {
      // The lock is the session's: closing the connection releases it, also when work fails.
      return locks.retrying(
          "locking the Parquet folder " + folder,
          c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_lock(?)")) {
              s.setLong(1, key);
              s.execute();
            }
            return work.run();
          });
    } catch (SQLException e) {
      throw new IOException("cannot lock the Parquet folder " + folder + ": " + e.getMessage(), e);
    }
  }

  /** True for a reader-visible Parquet data file this class may merge. */
  private static boolean isData(String name) {
    return name != null
        && name.endsWith(PARQUET)
        && (name.startsWith(PART_PREFIX) || name.startsWith(COMPACT_PREFIX));
  }

  /** A hidden temporary name in {@code folder} for a merged file being written. */
  static ResourceId temporaryFile(ResourceId folder) {
    return folder.resolve(
        "." + COMPACT_PREFIX + java.util.UUID.randomUUID() + ".inprogress",
        StandardResolveOptions.RESOLVE_FILE);
  }

  /**
   * Puts a merged file written under {@code temporary} into place as a writer does: its member list
   * ({@code part-*} names of the input files it holds) first, then the rename to {@code
   * compact-<hash of the members>.parquet}. Returns the final name.
   */
  static ResourceId publishMerged(ResourceId folder, ResourceId temporary, Set<String> members)
      throws IOException {
    String name = COMPACT_PREFIX + hash(members) + PARQUET;
    ResourceId target = folder.resolve(name, StandardResolveOptions.RESOLVE_FILE);
    writeMembers(membersOf(folder, name), members, List.of());
    FileSystems.rename(
        List.of(temporary), List.of(target), StandardMoveOptions.IGNORE_MISSING_FILES);
    return target;
  }

  static ResourceId membersOf(ResourceId folder, String compactName) {
    return folder.resolve("_" + compactName + MEMBERS, StandardResolveOptions.RESOLVE_FILE);
  }

  static void writeMembers(ResourceId list, Set<String> members, List<MatchResult.Metadata> inputs)
      throws IOException {
    Set<String> lines = new TreeSet<>(members);
    for (MatchResult.Metadata in : inputs) {
      lines.add(in.resourceId().getFilename()); // merged files it replaces, too
    }
    try (WritableByteChannel ch = FileSystems.create(list, "text/plain")) {
      ch.write(ByteBuffer.wrap((String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8)));
    }
  }

  private static List<String> readMembers(ResourceId list) throws IOException {
    List<String> out = new ArrayList<>();
    try {
      // A small file: read again from its start after a transient fault.
      out.addAll(
          ResumingReadChannel.retrying(
              "reading " + list,
              () -> {
                List<String> lines = new ArrayList<>();
                try (BufferedReader r =
                    new BufferedReader(
                        new InputStreamReader(
                            Channels.newInputStream(FileSystems.open(list)),
                            StandardCharsets.UTF_8))) {
                  for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (!line.isBlank()) {
                      lines.add(line.trim());
                    }
                  }
                }
                return lines;
              }));
    } catch (java.io.FileNotFoundException e) {
      return out;
    }
    return out;
  }

  /** The files directly in {@code folder}, by name. */
  private static Map<String, MatchResult.Metadata> list(ResourceId folder) throws IOException {
    Map<String, MatchResult.Metadata> files = new HashMap<>();
    for (MatchResult.Metadata m :
        Listings.match(folder.resolve("*", StandardResolveOptions.RESOLVE_FILE).toString())) {
      if (m.resourceId().getFilename() != null) {
        files.put(m.resourceId().getFilename(), m);
      }
    }
    return files;
  }

  static String hash(Set<String> names) {
    return WriteParquetPartitions.filePrefix(String.join("\n", names))
        .substring(PART_PREFIX.length());
  }
}
