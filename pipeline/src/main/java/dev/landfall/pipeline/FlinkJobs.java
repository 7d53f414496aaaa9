package dev.landfall.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.landfall.io.ledger.RunHistory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The jobs of a Flink cluster as its REST API lists them ({@code GET /jobs/overview}): for {@code
 * bin/landfall status --flinkMaster=host:port}, how the jobs that runs submitted ended.
 */
final class FlinkJobs {
  private FlinkJobs() {}

  /**
   * The ended jobs of the cluster at {@code master} ({@code host:port} or a URL) by name, the
   * latest started of each name; jobs still running are left out.
   */
  static Map<String, RunHistory.JobEnd> ended(String master)
      throws IOException, InterruptedException {
    String base =
        master.startsWith("http://") || master.startsWith("https://") ? master : "http://" + master;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/jobs/overview"))
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(
          "the Flink cluster at "
              + master
              + " answered "
              + r.statusCode()
              + " to GET /jobs/overview");
    }
    Map<String, RunHistory.JobEnd> ended = new HashMap<>();
    Map<String, Long> startedAt = new HashMap<>();
    for (JsonNode job : new ObjectMapper().readTree(r.body()).path("jobs")) {
      String name = job.path("name").asText();
      long start = job.path("start-time").asLong();
      if (startedAt.containsKey(name) && startedAt.get(name) > start) {
        continue;
      }
      startedAt.put(name, start);
      long end = job.path("end-time").asLong(-1);
      if (end > 0) {
        ended.put(
            name, new RunHistory.JobEnd(job.path("state").asText(), Instant.ofEpochMilli(end)));
      } else {
        ended.remove(name);
      }
    }
    return ended;
  }

  /** {@code --flinkMaster} of the command line, or null (no cluster named). */
  static String master(org.apache.beam.sdk.options.PipelineOptions options) {
    try {
      @SuppressWarnings("unchecked")
      Class<? extends org.apache.beam.sdk.options.PipelineOptions> flink =
          (Class<? extends org.apache.beam.sdk.options.PipelineOptions>)
              Class.forName("org.apache.beam.runners.flink.FlinkPipelineOptions");
      Object value = flink.getMethod("getFlinkMaster").invoke(options.as(flink));
      String master = value == null ? "" : value.toString();
      return master.isEmpty() || master.startsWith("[") ? null : master;
    } catch (ReflectiveOperationException e) {
      return null; // no FlinkRunner here: no cluster to ask
    }
  }
}
