package dev.landfall.pipeline.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.joda.time.Duration;

/** Watch mode, the file ledger, date ranges and status notifications. */
public interface WatchOptions extends PipelineOptions {
  @Description(
      "Keep running after the backfill: every new file under --input (any partition) is read once"
          + " it has been stable for one --pollInterval, and the outputs are updated. Needs"
          + " PostgreSQL (the file ledger lives there).")
  @Default.Boolean(false)
  Boolean getWatch();

  void setWatch(Boolean value);

  @Description("How often watch mode lists --input, e.g. 10s, 500ms, 2m.")
  @Default.String("10s")
  String getPollInterval();

  void setPollInterval(String value);

  @Description(
      "End a watch run once it has been idle this long (e.g. 30s, 1h): no new file and no file"
          + " still being processed; the clock restarts with every new file and every file that"
          + " finishes. Empty: run until cancelled.")
  @Default.String("")
  String getStopAfterIdle();

  void setStopAfterIdle(String value);

  @Description("Only files whose first partition value is >= this (as text, e.g. 2024-01-01).")
  @Default.String("")
  String getSince();

  void setSince(String value);

  @Description("Only files whose first partition value is <= this (as text, e.g. 2024-01-31).")
  @Default.String("")
  String getUntil();

  void setUntil(String value);

  @Description(
      "Read again a file whose size or modification time changed after it was ingested,"
          + " replacing its rows (default: mark it 'changed' in the ledger and leave it).")
  @Default.Boolean(false)
  Boolean getReingestChanged();

  void setReingestChanged(Boolean value);

  @Description(
      "Files ingested before to read again, replacing their rows: 'changed' (as"
          + " --reingestChanged) and/or 'olderDefinitions' (files finished under another version"
          + " of the dataset definition, or before versions were recorded) and/or"
          + " 'quarantined' (files the definition's quality rules quarantined), comma-separated.")
  @Default.String("")
  String getReingest();

  void setReingest(String value);

  @Description(
      "URL that receives each file status event (JSON) by HTTP POST, with retries, besides"
          + " NOTIFY landfall_status.")
  @Default.String("")
  String getWebhookUrl();

  void setWebhookUrl(String value);

  @Description(
      "How often the definition's lookup tables (e.g. accounts) are read again during a run, so a"
          + " watch run follows changes without a restart.")
  @Default.String("5m")
  String getLookupRefresh();

  void setLookupRefresh(String value);

  /** Parses 10s, 500ms, 2m, 1h or an ISO-8601 duration (PT10S). */
  static Duration parseDuration(String flag, String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.startsWith("pt")) {
        return Duration.parse(t.toUpperCase(java.util.Locale.ROOT));
      }
      if (t.endsWith("ms")) {
        return Duration.millis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      long n = Long.parseLong(t.substring(0, t.length() - 1));
      switch (t.charAt(t.length() - 1)) {
        case 's':
          return Duration.standardSeconds(n);
        case 'm':
          return Duration.standardMinutes(n);
        case 'h':
          return Duration.standardHours(n);
        default:
          break;
      }
    } catch (RuntimeException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException(
        flag + ": '" + text + "' is not a duration; use e.g. 10s, 500ms, 2m, 1h");
  }
}
