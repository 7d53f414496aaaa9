package dev.landfall.transforms.definition;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The dataset definition: the JSON contract that describes one CSV dataset (its CSV dialect, Hive
 * partition columns, typed fields with constraints, key, event time and aggregates). Everything the
 * pipeline derives (row schemas, SQL tables, Parquet schema) comes from this one object.
 *
 * <p>Load it with {@link #fromJson(String)} or {@link #load(InputStream)}; both validate it and
 * fail with a message that names the offending key.
 */
public final class DatasetDefinition implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern PERCENTILE = Pattern.compile("p([1-9][0-9]?)");

  /** The CSV dialect. */
  public static final class Csv implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public boolean header = true;
    @JsonProperty public String delimiter = ",";
    @JsonProperty public String quote = "\"";
  }

  /** A Hive partition column, read from {@code name=value} path segments. */
  public static final class Partition implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public String name;
    @JsonProperty public String type = "string";
    @JsonProperty public String format;
    @JsonProperty public String description;
    @JsonIgnore transient ColumnType parsedType;
  }

  /** A CSV column, matched by header name. */
  public static final class Field implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public String name;
    @JsonProperty public String type;
    @JsonProperty public boolean required;
    @JsonProperty public BigDecimal min;
    @JsonProperty public BigDecimal max;
    @JsonProperty public List<String> allowed;
    @JsonProperty public String format;
    @JsonProperty public String description;

    /**
     * When set, the cell is a list: split on this text into items (trimmed, empty ones dropped),
     * each checked against {@code allowed}; stored as {@code text[]} and a Parquet list.
     */
    @JsonProperty public String split;
  }

  /**
   * A group of fields stored together as one nested column (a struct) in Parquet: {@code fields}
   * maps each member's name inside the struct to the field it comes from. PostgreSQL keeps the flat
   * columns, which is what SQL clients expect.
   */
  public static final class Struct implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public String name;
    @JsonProperty public LinkedHashMap<String, String> fields = new LinkedHashMap<>();
    @JsonProperty public String description;
  }

  /** A column derived from a timestamp or date column: {@code date, year, month, day, hour}. */
  public static final class Derived implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public String name;
    @JsonProperty public String from;
    @JsonProperty public String part;
    @JsonProperty public String description;
  }

  /** Aggregates: group columns and, per measured column, the functions to compute. */
  public static final class Aggregates implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public List<String> groupBy = new ArrayList<>();
    @JsonProperty public LinkedHashMap<String, List<String>> measures = new LinkedHashMap<>();
  }

  /**
   * A PostgreSQL view for dashboards. {@code sql} is a SELECT in which {@code ${rows}}, {@code
   * ${agg}}, {@code ${rejects}} and {@code ${schema}} stand for the quoted tables and schema. It is
   * trusted configuration, run as written by whoever owns the definition.
   */
  public static final class View implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public String name;
    @JsonProperty public String description;
    @JsonProperty public String sql;
  }

  /**
   * A dimension table in PostgreSQL (in the dataset's schema) joined on one column: each row gets
   * the lookup's {@code columns} (as text) for its {@code on} value, or nulls when the value is
   * unknown. The columns follow the row into PostgreSQL and Parquet.
   */
  public static final class Lookup implements Serializable {
    private static final long serialVersionUID = 1L;
    @JsonProperty public String table;
    @JsonProperty public String on;
    @JsonProperty public List<String> columns = new ArrayList<>();
    @JsonProperty public String description;

    /**
     * A slowly changing dimension (type 2): the table holds versions of each {@code on} value,
     * valid from this column (inclusive) to {@link #validTo} (exclusive; NULL: still valid), and
     * each row takes the version valid at its {@code eventTime}. Absent from the JSON when not set
     * (the hash of definitions without it stays the same).
     */
    @JsonProperty
    @com.fasterxml.jackson.annotation.JsonInclude(
        com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public String validFrom;

    /** The end of a version's validity (exclusive), NULL for the current version. */
    @JsonProperty
    @com.fasterxml.jackson.annotation.JsonInclude(
        com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public String validTo;

    /** True for a lookup of versions valid over time (see {@link #validFrom}). */
    public boolean asOf() {
      return validFrom != null;
    }
  }

  @JsonProperty public String name;
  @JsonProperty public String description;
  @JsonProperty public Csv csv = new Csv();
  @JsonProperty public List<Partition> partitions = new ArrayList<>();
  @JsonProperty public List<Field> fields = new ArrayList<>();
  @JsonProperty public List<Derived> derived = new ArrayList<>();
  @JsonProperty public List<String> key = new ArrayList<>();
  @JsonProperty public String eventTime;
  @JsonProperty public Aggregates aggregates;
  @JsonProperty public List<View> views = new ArrayList<>();
  @JsonProperty public List<Lookup> lookups = new ArrayList<>();
  @JsonProperty public List<Struct> structs = new ArrayList<>();

  /**
   * What happens to CSV columns the definition does not name: {@code ignore} (the default: logged
   * and counted once per file), {@code rescue} (kept per row as a JSON object in the {@value
   * #RESCUED} column) or {@code reject} (the file is rejected with reason {@code header}). Absent
   * from the JSON when not set, so that adding this setting left the hash of existing definitions
   * unchanged.
   */
  @JsonProperty
  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public String unknownColumns;

  /**
   * What a file must meet to be stored ({@code "quality": {"maxRejectedShare": 0.05}}): a file
   * whose rejected records exceed that share of the records read from it is quarantined: none of
   * its rows is stored and none of its keys competes in de-duplication; each of its records becomes
   * a dead letter (reason {@value dev.landfall.transforms.values.Rejects#QUARANTINED} for the valid
   * ones). Absent from the JSON when not set, so that adding this setting left the hash of existing
   * definitions unchanged.
   */
  @JsonProperty
  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  public Quality quality;

  /** Per-file quality rules ({@link #quality}); room for more rules later. */
  public static final class Quality implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Largest share of a file's records that may be rejected (0 to 1); null: no limit. */
    @JsonProperty
    @com.fasterxml.jackson.annotation.JsonInclude(
        com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public Double maxRejectedShare;
  }

  /** The largest share of a file's records that may be rejected, or -1 without a limit. */
  public double maxRejectedShare() {
    return quality == null || quality.maxRejectedShare == null ? -1 : quality.maxRejectedShare;
  }

  /** The column that keeps a row's unknown CSV columns when {@code unknownColumns} is rescue. */
  public static final String RESCUED = "_rescued";

  /** True when unknown CSV columns are kept in {@value #RESCUED}. */
  public boolean rescuesUnknownColumns() {
    return "rescue".equals(unknownColumns);
  }

  /** True when a file with unknown CSV columns is rejected. */
  public boolean rejectsUnknownColumns() {
    return "reject".equals(unknownColumns);
  }

  /** Parses and validates a definition from JSON text. */
  public static DatasetDefinition fromJson(String json) {
    try {
      ObjectMapper mapper =
          new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
      DatasetDefinition def = mapper.readValue(json, DatasetDefinition.class);
      def.validate();
      return def;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "dataset definition is not valid JSON: " + e.getMessage(), e);
    }
  }

  /** Reads a definition from a stream (UTF-8 JSON). */
  public static DatasetDefinition load(InputStream in) throws IOException {
    return fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8));
  }

  /** Loads one of the definitions shipped with landfall, e.g. {@code billing}. */
  public static DatasetDefinition builtIn(String name) {
    Identifiers.check("dataset", name);
    try (InputStream in =
        DatasetDefinition.class.getResourceAsStream("/datasets/" + name + ".json")) {
      if (in == null) {
        throw new IllegalArgumentException(
            "no built-in dataset '" + name + "': pass --datasetFile=<definition.json>");
      }
      return load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read built-in dataset " + name, e);
    }
  }

  /** The field named {@code name}, or null. */
  public Field field(String name) {
    for (Field f : fields) {
      if (f.name.equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** True for a field declared with {@code split}: its values are lists of text. */
  public boolean isList(String column) {
    Field f = field(column);
    return f != null && f.split != null;
  }

  /** The struct that holds field {@code column}, or null. */
  public Struct structOf(String column) {
    for (Struct st : structs) {
      if (st.fields.containsValue(column)) {
        return st;
      }
    }
    return null;
  }

  /** The lookup that provides {@code column}, or null. */
  public Lookup lookupOf(String column) {
    for (Lookup l : lookups) {
      if (l.columns.contains(column)) {
        return l;
      }
    }
    return null;
  }

  /**
   * Checks every rule of the format; throws {@link IllegalArgumentException} naming the problem.
   * The checks run in a fixed order (CSV dialect, partitions and fields, derived columns, lookups,
   * structs, key and event time, views, aggregates) and the first problem found is the one named.
   */
  public void validate() {
    validateDialect();
    Set<String> names = new HashSet<>(List.of(SOURCE_FILE, SOURCE_LINE, RESCUED));
    validateUnknownColumns();
    validateQuality();
    validateColumns(names);
    validateDerived(names);
    for (Lookup l : lookups) {
      validateLookup(l, names);
    }
    validateStructs(names);
    validateKey();
    validateViews();
    if (aggregates != null) {
      validateAggregates();
    }
  }

  /** The dataset name, the CSV dialect (defaulted when absent) and that there are fields. */
  private void validateDialect() {
    Identifiers.check("dataset name", name);
    if (csv == null) {
      csv = new Csv();
    }
    if (csv.delimiter == null || csv.delimiter.length() != 1) {
      throw new IllegalArgumentException("csv.delimiter must be exactly one character");
    }
    if (csv.quote == null || csv.quote.length() != 1) {
      throw new IllegalArgumentException("csv.quote must be exactly one character");
    }
    if ("\r\n".contains(csv.delimiter) || "\r\n".contains(csv.quote)) {
      throw new IllegalArgumentException("csv.delimiter and csv.quote cannot be line breaks");
    }
    if (csv.delimiter.equals(csv.quote)) {
      throw new IllegalArgumentException(
          "csv.delimiter and csv.quote cannot be the same character ('" + csv.quote + "')");
    }
    if (fields == null || fields.isEmpty()) {
      throw new IllegalArgumentException("dataset '" + name + "' declares no fields");
    }
  }

  private void validateQuality() {
    if (quality != null
        && quality.maxRejectedShare != null
        && !(quality.maxRejectedShare >= 0 && quality.maxRejectedShare <= 1)) {
      throw new IllegalArgumentException(
          "quality.maxRejectedShare "
              + quality.maxRejectedShare
              + ": use a share between 0 and 1, e.g. 0.05 for 5% of a file's records");
    }
  }

  private void validateUnknownColumns() {
    if (unknownColumns != null && !List.of("ignore", "rescue", "reject").contains(unknownColumns)) {
      throw new IllegalArgumentException(
          "unknownColumns '" + unknownColumns + "': use ignore (the default), rescue or reject");
    }
  }

  /** Partition and field names (unique among {@code names}), their types, split and min/max. */
  private void validateColumns(Set<String> names) {
    for (Partition p : partitions) {
      unique(names, Identifiers.check("partition name", p.name));
      p.parsedType = ColumnType.parse(p.type);
    }
    for (Field f : fields) {
      unique(names, Identifiers.check("field name", f.name));
      ColumnType t = ColumnType.parse(f.type);
      if (f.split != null && (f.split.isEmpty() || t.kind() != ColumnType.Kind.STRING)) {
        throw new IllegalArgumentException(
            "field '" + f.name + "': split needs a non-empty separator and type string");
      }
      if ((f.min != null || f.max != null) && !t.isNumeric()) {
        throw new IllegalArgumentException(
            "field '" + f.name + "': min/max apply to numeric types only, not " + t);
      }
    }
  }

  /** Derived columns: unique names, a date or timestamp to derive from, a known part. */
  private void validateDerived(Set<String> names) {
    for (Derived d : derived) {
      unique(names, Identifiers.check("derived name", d.name));
      ColumnType from = typeOf(d.from);
      if (from == null
          || (from.kind() != ColumnType.Kind.TIMESTAMP && from.kind() != ColumnType.Kind.DATE)) {
        throw new IllegalArgumentException(
            "derived '" + d.name + "': 'from' must name a date or timestamp column");
      }
      derivedType(d);
    }
  }

  /** One lookup: its table, join column, (unique) columns and, for versions, their validity. */
  private void validateLookup(Lookup l, Set<String> names) {
    Identifiers.check("lookup table", l.table);
    if (l.on == null || typeOf(l.on) == null || isDerived(l.on)) {
      throw new IllegalArgumentException(
          "lookup '" + l.table + "': 'on' must name a field or partition");
    }
    if (l.columns == null || l.columns.isEmpty()) {
      throw new IllegalArgumentException("lookup '" + l.table + "' lists no columns");
    }
    for (String c : l.columns) {
      unique(names, Identifiers.check("lookup column", c));
    }
    if (l.validTo != null && l.validFrom == null) {
      throw new IllegalArgumentException("lookup '" + l.table + "': validTo needs validFrom");
    }
    if (l.validFrom != null) {
      validateLookupValidity(l);
    }
  }

  /** A lookup of versions: names for validFrom/validTo and an eventTime of date or timestamp. */
  private void validateLookupValidity(Lookup l) {
    Identifiers.check("lookup validFrom", l.validFrom);
    if (l.validTo != null) {
      Identifiers.check("lookup validTo", l.validTo);
    }
    ColumnType t = eventTime == null ? null : typeOf(eventTime);
    if (t == null
        || (t.kind() != ColumnType.Kind.TIMESTAMP && t.kind() != ColumnType.Kind.DATE)
        || lookupOf(eventTime) != null) {
      throw new IllegalArgumentException(
          "lookup '"
              + l.table
              + "': validFrom takes the"
              + " version valid at each row's eventTime; declare \"eventTime\" as a date or"
              + " timestamp field");
    }
  }

  /** Structs: unique names, members that are fields, each field in at most one struct. */
  private void validateStructs(Set<String> names) {
    Set<String> grouped = new HashSet<>();
    for (Struct st : structs) {
      unique(names, Identifiers.check("struct name", st.name));
      if (st.fields == null || st.fields.isEmpty()) {
        throw new IllegalArgumentException("struct '" + st.name + "' has no fields");
      }
      for (Map.Entry<String, String> m : st.fields.entrySet()) {
        Identifiers.check("struct member", m.getKey());
        if (field(m.getValue()) == null) {
          throw new IllegalArgumentException(
              "struct '" + st.name + "': '" + m.getValue() + "' is not a field");
        }
        if (!grouped.add(m.getValue())) {
          throw new IllegalArgumentException(
              "field '" + m.getValue() + "' is in more than one struct");
        }
      }
    }
  }

  /** The key (single-valued, non-derived columns) and the event time column. */
  private void validateKey() {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("dataset '" + name + "' needs a key (list of fields)");
    }
    for (String k : key) {
      if (typeOf(k) == null) {
        throw new IllegalArgumentException("key column '" + k + "' is not a field or partition");
      }
      if (isDerived(k)) {
        throw new IllegalArgumentException("key column '" + k + "' cannot be a derived column");
      }
      if (isList(k)) {
        throw new IllegalArgumentException("key column '" + k + "' cannot be a list");
      }
    }
    if (eventTime != null && typeOf(eventTime) == null) {
      throw new IllegalArgumentException("eventTime '" + eventTime + "' is not a column");
    }
  }

  /** Views: names used once (not the dataset's tables), sql given, ${agg} only with aggregates. */
  private void validateViews() {
    Set<String> viewNames = new HashSet<>();
    for (View v : views) {
      Identifiers.check("view name", v.name);
      if (!viewNames.add(v.name)
          || v.name.equals(name)
          || v.name.equals(name + "_agg")
          || v.name.equals(name + "_rejects")) {
        throw new IllegalArgumentException("view name '" + v.name + "' is used twice");
      }
      if (v.sql == null || v.sql.isBlank()) {
        throw new IllegalArgumentException("view '" + v.name + "' has no sql");
      }
      if (v.sql.contains("${agg}") && aggregates == null) {
        throw new IllegalArgumentException(
            "view '" + v.name + "' uses ${agg} but the dataset declares no aggregates");
      }
    }
  }

  /** Aggregates: single-valued group columns, numeric measures, known functions. */
  private void validateAggregates() {
    if (aggregates.groupBy == null || aggregates.groupBy.isEmpty()) {
      throw new IllegalArgumentException("aggregates.groupBy must list at least one column");
    }
    for (String g : aggregates.groupBy) {
      if (typeOf(g) == null) {
        throw new IllegalArgumentException("aggregates.groupBy column '" + g + "' is not a column");
      }
      if (isList(g)) {
        throw new IllegalArgumentException(
            "aggregates.groupBy column '" + g + "' is a list; group by a single-valued column");
      }
    }
    for (Map.Entry<String, List<String>> m : aggregates.measures.entrySet()) {
      ColumnType t = typeOf(m.getKey());
      if (t == null || !t.isNumeric()) {
        throw new IllegalArgumentException(
            "aggregates.measures: '" + m.getKey() + "' must be a numeric field");
      }
      for (String fn : m.getValue()) {
        if (!List.of("count", "sum", "avg", "min", "max").contains(fn)
            && !PERCENTILE.matcher(fn).matches()) {
          throw new IllegalArgumentException(
              "aggregates.measures."
                  + m.getKey()
                  + ": unknown function '"
                  + fn
                  + "' (use count, sum, avg, min, max or p1..p99)");
        }
      }
    }
  }

  private static void unique(Set<String> names, String name) {
    if (!names.add(name)) {
      throw new IllegalArgumentException("column name '" + name + "' is used twice (or reserved)");
    }
  }

  /** Name of the column holding the input file of each row. */
  public static final String SOURCE_FILE = "source_file";

  /** Name of the column holding the line (1-based, where the record starts) of each row. */
  public static final String SOURCE_LINE = "source_line";

  /** The type of a partition, field or derived column, or null if there is no such column. */
  public ColumnType typeOf(String column) {
    for (Lookup l : lookups) {
      if (l.columns.contains(column)) {
        return ColumnType.of(ColumnType.Kind.STRING);
      }
    }
    for (Partition p : partitions) {
      if (p.name.equals(column)) {
        return partitionType(p);
      }
    }
    for (Field f : fields) {
      if (f.name.equals(column)) {
        return ColumnType.parse(f.type);
      }
    }
    for (Derived d : derived) {
      if (d.name.equals(column)) {
        return derivedType(d);
      }
    }
    return null;
  }

  private boolean isDerived(String column) {
    return derived.stream().anyMatch(d -> d.name.equals(column));
  }

  /** The type of a partition column. */
  public static ColumnType partitionType(Partition p) {
    if (p.parsedType == null) {
      p.parsedType = ColumnType.parse(p.type);
    }
    return p.parsedType;
  }

  /** The type of a derived column. */
  public static ColumnType derivedType(Derived d) {
    switch (d.part == null ? "" : d.part) {
      case "date":
        return ColumnType.of(ColumnType.Kind.DATE);
      case "year":
      case "month":
      case "day":
      case "hour":
        return ColumnType.of(ColumnType.Kind.INT);
      default:
        throw new IllegalArgumentException(
            "derived '" + d.name + "': part must be date, year, month, day or hour");
    }
  }

  /** True if the column is required (non-null) in clean rows. */
  public boolean isRequired(String column) {
    if (key.contains(column)) {
      return true;
    }
    for (Partition p : partitions) {
      if (p.name.equals(column)) {
        return true;
      }
    }
    for (Field f : fields) {
      if (f.name.equals(column)) {
        return f.required;
      }
    }
    return false;
  }

  /** A percentile function name such as {@code p90} as a rank in (0,1), or -1 for other names. */
  public static double percentileRank(String fn) {
    java.util.regex.Matcher m = PERCENTILE.matcher(fn);
    return m.matches() ? Integer.parseInt(m.group(1)) / 100.0 : -1;
  }
}
