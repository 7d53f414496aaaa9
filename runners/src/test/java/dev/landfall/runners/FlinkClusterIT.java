package dev.landfall.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.not;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.landfall.io.testing.PostgresTestBase;
import dev.landfall.pipeline.EndToEndChecks;
import dev.landfall.pipeline.sample.BillingSampleGenerator;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The job on a separate-process Flink 1.19 cluster, as an operator runs it: the cluster started
 * with {@code deploy/flink/local-cluster.sh} (a JobManager JVM and two TaskManager JVMs of 2 slots
 * each; the job runs at parallelism 4 over both), the bundled jar submitted through the REST API
 * with {@code java -jar landfall-bundled.jar --runner=FlinkRunner --flinkMaster=...}, a real
 * PostgreSQL.
 *
 * <p>One watch job lives through what a long run meets: files landing while it runs, one of the
 * TaskManagers killed with {@code kill -9} and a new one started (Flink's own failover: the job
 * recovers from its last checkpoint), a stop with a savepoint ({@code POST /jobs/:id/stop}), files
 * landing while it is stopped, a resume from the savepoint ({@code --savepointPath}), more files, a
 * final stop. The tables, ledger and Parquet must equal the generator's totals: no file lost, none
 * twice. A backfill loses a TaskManager while it runs and ends with the generator's totals too.
 *
 * <p>Runs in {@code mvn verify} (failsafe, after {@code package} has built the bundled jar).
 */
class FlinkClusterIT extends PostgresTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final Path MODULE = Paths.get("").toAbsolutePath();
  private static final Path REPO = MODULE.getParent();
  private static final Path SCRIPT = REPO.resolve("deploy/flink/local-cluster.sh");
  private static final Path JAR = MODULE.resolve("target/landfall-bundled.jar");
  private static final Path CLUSTER = MODULE.resolve("target/flink-it");

  /** TaskManagers of the cluster, 2 slots each; the job runs on all the slots. */
  private static final int TASKMANAGERS = 2;

  private static int restPort;
  private static int rpcPort;

  /** The first of the ports the cluster's Prometheus reporters take, one per process. */
  private static int prometheusPort;

  private static final int PROMETHEUS_PORTS = 6;
  private static String rest;

  @BeforeAll
  static void startCluster() throws Exception {
    restPort = freePort();
    rpcPort = freePort();
    prometheusPort = freePorts(PROMETHEUS_PORTS);
    rest = "http://127.0.0.1:" + restPort;
    String out = cluster("start");
    assertThat(out, containsString("ready"));
    assertThat(get("/overview").get("taskmanagers").asInt(), equalTo(TASKMANAGERS));
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (rest != null) {
      System.out.println(cluster("stop"));
    }
  }

  @Test
  void aWatchJobSurvivesATaskManagerKillAndASavepointStopAndResume() throws Exception {
    String schema = "cluster_it";
    Path pool = dir.resolve("it-pool");
    Path input = dir.resolve("it-in");
    Path output = dir.resolve("it-parquet");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(6_000, 5, 2, 0.01, 0.02, 23).writeTo(pool);
    List<Path> all = csvFiles(pool);
    assertThat(all.size() >= 9, equalTo(true));
    List<Path> before = all.subList(0, 4); // there when the job starts
    List<Path> during = all.subList(4, 5); // lands while it runs
    List<Path> afterKill = all.subList(5, 6); // lands while the TaskManager is down
    List<Path> whileStopped = all.subList(6, 7); // lands between savepoint and resume
    List<Path> resumed = all.subList(7, all.size()); // lands after the resume
    land(pool, input, before);

    // 1. Submit the watch job, detached: the command returns once the cluster has it.
    List<String> args =
        List.of(
            "--input=" + input,
            "--output=" + output,
            "--jdbcUrl=" + postgres.jdbcUrl(),
            "--dbSchema=" + schema,
            "--watch",
            "--pollInterval=1s",
            "--runner=FlinkRunner",
            "--flinkMaster=127.0.0.1:" + restPort,
            // What bin/landfall stages: the slim jar, the cluster providing Flink's runtime.
            "--filesToStage=" + MODULE.resolve("target/landfall-cluster.jar"),
            "--parallelism=" + (2 * TASKMANAGERS),
            "--checkpointingInterval=2000");
    List<String> first = new ArrayList<>(args);
    first.add("--attachedMode=false");
    ProcessResult submit = landfall(first, "submit", 180);
    assertThat(submit.out, submit.exit, equalTo(0));
    assertThat(submit.out, containsString("submitted to the Flink cluster"));
    String job = runningJob();

    await("the first files", 150, () -> done(schema) == before.size());
    land(pool, input, during);
    await("a file landing during the run", 60, () -> done(schema) == 5);
    // bin/landfall status answers for the detached job, from the database.
    String status = status(schema);
    assertThat(
        status,
        Pattern.compile("runs +#\\d+ +watch +billing +FlinkRunner +submitted ")
            .matcher(status)
            .find(),
        equalTo(true));
    assertThat(status, containsString("  files     done 5 ("));
    // Prometheus: a TaskManager's reporter serves landfall's counters.
    await(
        "landfall's counters on a TaskManager's /metrics",
        60,
        () -> prometheusMetrics().contains("rows_read"));

    // 2. kill -9 one of the TaskManagers after a checkpoint; the job fails over and, once a new
    // TaskManager gives it back all its slots, runs again from that checkpoint.
    await("a completed checkpoint", 60, () -> completedCheckpoints(job) >= 1);
    long tmPid = Long.parseLong(Files.readString(CLUSTER.resolve("taskmanager.pid")).trim());
    long killed = System.nanoTime();
    new ProcessBuilder("kill", "-9", Long.toString(tmPid)).start().waitFor();
    await("the TaskManager process gone", 30, () -> !alive(tmPid));
    land(pool, input, afterKill);
    String restarted = cluster("start-taskmanager");
    assertThat(restarted, containsString("taskmanager started"));
    await("the job restored from its checkpoint", 120, () -> restoredCheckpoint(job) >= 0);
    await("the job running again", 120, () -> allTasksRunning(job));
    double running = (System.nanoTime() - killed) / 1e9;
    await("the file that landed while the TaskManager was down", 120, () -> done(schema) == 6);
    double caughtUp = (System.nanoTime() - killed) / 1e9;
    System.out.printf(
        "TaskManager kill -9: job restored from checkpoint %d and running again"
            + " after %.1f s, the file that landed meanwhile done after %.1f s%n",
        restoredCheckpoint(job), running, caughtUp);
    await("a checkpoint after the recovery", 60, () -> completedCheckpoints(job) >= 2);

    // 3. Stop with a savepoint; files land while the job is stopped.
    String savepoint = stopWithSavepoint(job);
    land(pool, input, whileStopped);
    // bin/landfall status, given the cluster, records how the detached job ended.
    String status2 = status(schema, "--flinkMaster=127.0.0.1:" + restPort);
    assertThat(
        status2,
        Pattern.compile("runs +#\\d+ +watch +billing +FlinkRunner +succeeded ")
            .matcher(status2)
            .find(),
        equalTo(true));
    assertThat(status2, containsString("recorded as ended now, as the cluster tells"));
    long doneAtStop = done(schema);
    assertThat(doneAtStop, equalTo(6L));

    // 4. Resume from the savepoint (attached: the command waits for the job), more files land.
    Instant resumedAt = Instant.now();
    List<String> second = new ArrayList<>(args);
    second.add("--savepointPath=" + savepoint);
    Path resumeLog = dir.resolve("resume.log");
    Process resume = start(second, resumeLog);
    await("the files that landed while stopped", 180, () -> done(schema) == 7);
    land(pool, input, resumed);
    await("the files that landed after the resume", 60, () -> done(schema) == all.size());
    // Discovery's state holds the files in flight, not every file seen: empty once all are done.
    await(
        "the watch's state empty once every file is done",
        60,
        () -> {
          List<Double> files = gauge(prometheusMetrics(), "watch_state_files");
          return !files.isEmpty() && files.stream().allMatch(n -> n == 0.0);
        });
    String job2 = runningJob();
    assertThat("a new job", job2, not(equalTo(job)));
    stopWithSavepoint(job2);
    assertThat(
        "the attached client ends with the job",
        resume.waitFor(120, TimeUnit.SECONDS),
        equalTo(true));
    String out = Files.readString(resumeLog);
    assertThat(out, resume.exitValue(), equalTo(0));
    assertThat(out, containsString("== landfall run: DONE =="));
    assertThat(
        "the resumed job reads only the files that are new to it",
        filesRead(out),
        equalTo((long) (whileStopped.size() + resumed.size())));

    // 5. Exactly the generator's totals: no file lost, none read twice.
    EndToEndChecks.assertBillingTables(exp, postgres.jdbcUrl(), schema, output, 0, 0);
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      assertThat(
          "files claimed after the resume",
          EndToEndChecks.scalar(
              c,
              "SELECT count(*) FROM "
                  + schema
                  + ".landfall_files WHERE started_at >= '"
                  + resumedAt
                  + "'"),
          equalTo((long) (whileStopped.size() + resumed.size())));
      assertThat(
          "every file done",
          EndToEndChecks.scalar(
              c, "SELECT count(*) FROM " + schema + ".landfall_files WHERE status <> 'done'"),
          equalTo(0L));
    }
    try (Stream<Path> parquet = Files.walk(output.resolve("billing"))) {
      // One per input file closed alone, one per partition for files closed together.
      assertThat(
          "at most one Parquet file per input file",
          parquet.filter(p -> p.toString().endsWith(".parquet")).count(),
          lessThanOrEqualTo((long) all.size()));
    }
  }

  /**
   * A backfill at parallelism 4 over both TaskManagers loses one of them while it runs: Flink's
   * restart strategy runs the job again once a new TaskManager gives it its slots back, and the run
   * (attached) ends with exactly the generator's totals.
   */
  @Test
  void aBackfillSurvivesATaskManagerKill() throws Exception {
    String schema = "cluster_backfill";
    Path input = dir.resolve("bf-in");
    Path output = dir.resolve("bf-parquet");
    BillingSampleGenerator.Expected exp =
        new BillingSampleGenerator(200_000, 4, 3, 0.01, 0.02, 31).writeTo(input);
    List<String> args =
        List.of(
            "--input=" + input,
            "--output=" + output,
            "--jdbcUrl=" + postgres.jdbcUrl(),
            "--dbSchema=" + schema,
            "--runner=FlinkRunner",
            "--flinkMaster=127.0.0.1:" + restPort,
            "--filesToStage=" + MODULE.resolve("target/landfall-cluster.jar"),
            "--parallelism=" + (2 * TASKMANAGERS));
    Path log = dir.resolve("backfill.log");
    Process run = start(args, log);
    String job = runningJob();
    // Mid-run: the job has claimed its files and is reading them.
    await("the backfill's files claimed", 120, () -> processing(schema) > 0);
    long tmPid = Long.parseLong(Files.readString(CLUSTER.resolve("taskmanager.pid")).trim());
    new ProcessBuilder("kill", "-9", Long.toString(tmPid)).start().waitFor();
    await("the TaskManager process gone", 30, () -> !alive(tmPid));
    assertThat(cluster("start-taskmanager"), containsString("taskmanager started"));
    assertThat("the backfill ends", run.waitFor(300, TimeUnit.SECONDS), equalTo(true));
    String out = Files.readString(log);
    assertThat(out, run.exitValue(), equalTo(0));
    assertThat(out, containsString("== landfall run: DONE =="));
    assertThat(
        "the job failed over at least once (the kill came while it ran)",
        get("/jobs/" + job + "/exceptions").get("exceptionHistory").get("entries").size(),
        greaterThanOrEqualTo(1));
    EndToEndChecks.assertBillingTables(exp, postgres.jdbcUrl(), schema, output, 0, 0);
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      assertThat(
          "every file done",
          EndToEndChecks.scalar(
              c, "SELECT count(*) FROM " + schema + ".landfall_files WHERE status <> 'done'"),
          equalTo(0L));
    }
  }

  // ---- the cluster and the job, through the script and the REST API ----

  /** The output of {@code bin/landfall status} for {@code schema} (with {@code extra} flags). */
  private String status(String schema, String... extra) throws Exception {
    Path log = dir.resolve("status.log");
    List<String> command =
        new ArrayList<>(
            List.of(
                MODULE.getParent().resolve("bin/landfall").toString(),
                "status",
                "--jdbcUrl=" + postgres.jdbcUrl(),
                "--dbSchema=" + schema));
    command.addAll(List.of(extra));
    Process st =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat("status finished", st.waitFor(120, TimeUnit.SECONDS), equalTo(true));
    String out = Files.readString(log);
    assertThat(out, st.exitValue(), equalTo(0));
    return out;
  }

  /** The values of the Prometheus series whose name contains {@code name}. */
  private static List<Double> gauge(String metrics, String name) {
    List<Double> values = new ArrayList<>();
    for (String line : metrics.split("\n")) {
      if (!line.startsWith("#") && line.contains(name)) {
        values.add(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
      }
    }
    return values;
  }

  /** What the reporters of the cluster's processes serve, all of them together. */
  private static String prometheusMetrics() {
    StringBuilder all = new StringBuilder();
    for (int port = prometheusPort; port < prometheusPort + PROMETHEUS_PORTS; port++) {
      try {
        HttpResponse<String> r =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        all.append(r.body());
      } catch (IOException | InterruptedException e) {
        // no reporter on this port
      }
    }
    return all.toString();
  }

  private static String cluster(String command) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder("bash", SCRIPT.toString(), command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("FLINK_WORK_DIR", CLUSTER.toString());
    env.put("FLINK_REST_PORT", Integer.toString(restPort));
    env.put("FLINK_RPC_PORT", Integer.toString(rpcPort));
    env.put(
        "FLINK_PROMETHEUS_PORTS", prometheusPort + "-" + (prometheusPort + PROMETHEUS_PORTS - 1));
    env.put("FLINK_TASKMANAGERS", Integer.toString(TASKMANAGERS));
    env.put("FLINK_TM_MEMORY", "2g");
    env.put("FLINK_JM_MEMORY", "1g");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(
        "local-cluster.sh " + command + " finished",
        p.waitFor(180, TimeUnit.SECONDS),
        equalTo(true));
    assertThat(out, p.exitValue(), equalTo(0));
    return out;
  }

  private static JsonNode get(String path) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(rest + path)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(path + ": " + r.body(), r.statusCode(), equalTo(200));
    return JSON.readTree(r.body());
  }

  private static JsonNode post(String path, String body) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(rest + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(path + ": " + r.body(), r.statusCode(), equalTo(202));
    return JSON.readTree(r.body());
  }

  /** The one running job's id (waits for it to appear). */
  private static String runningJob() throws Exception {
    String[] id = new String[1];
    await(
        "a running job",
        120,
        () -> {
          try {
            for (JsonNode j : get("/jobs/overview").get("jobs")) {
              if (j.get("state").asText().equals("RUNNING")) {
                id[0] = j.get("jid").asText();
                return true;
              }
            }
            return false;
          } catch (Exception e) {
            return false;
          }
        });
    return id[0];
  }

  private static boolean allTasksRunning(String job) {
    try {
      JsonNode j = get("/jobs/" + job);
      if (!j.get("state").asText().equals("RUNNING")) {
        return false;
      }
      for (JsonNode v : j.get("vertices")) {
        if (!v.get("status").asText().equals("RUNNING")
            && !v.get("status").asText().equals("FINISHED")) {
          return false;
        }
      }
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  /** The id of the checkpoint the job last restored from, or -1. */
  private static long restoredCheckpoint(String job) {
    try {
      JsonNode restored = get("/jobs/" + job + "/checkpoints").get("latest").get("restored");
      return restored == null || restored.isNull() ? -1 : restored.get("id").asLong();
    } catch (Exception e) {
      return -1;
    }
  }

  private static boolean alive(long pid) {
    try {
      Process ps = new ProcessBuilder("ps", "-o", "stat=", "-p", Long.toString(pid)).start();
      String stat = new String(ps.getInputStream().readAllBytes()).trim();
      ps.waitFor();
      return !stat.isEmpty() && !stat.startsWith("Z");
    } catch (IOException | InterruptedException e) {
      return true;
    }
  }

  private static long completedCheckpoints(String job) {
    try {
      return get("/jobs/" + job + "/checkpoints").get("counts").get("completed").asLong();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Stop-with-savepoint (no drain), as an operator does it with curl; returns its path. */
  private static String stopWithSavepoint(String job) throws Exception {
    Path target = CLUSTER.resolve("savepoints");
    String request =
        post(
                "/jobs/" + job + "/stop",
                "{\"drain\": false, \"targetDirectory\": \"" + target.toUri() + "\"}")
            .get("request-id")
            .asText();
    String[] location = new String[1];
    await(
        "the savepoint of " + job,
        120,
        () -> {
          try {
            JsonNode s = get("/jobs/" + job + "/savepoints/" + request);
            if (!s.get("status").get("id").asText().equals("COMPLETED")) {
              return false;
            }
            JsonNode op = s.get("operation");
            assertThat("savepoint failed: " + op, op.has("location"), equalTo(true));
            location[0] = op.get("location").asText();
            return true;
          } catch (IOException | InterruptedException e) {
            return false;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    await(
        "the job to finish after its savepoint",
        60,
        () -> {
          try {
            return get("/jobs/" + job).get("state").asText().equals("FINISHED");
          } catch (Exception e) {
            return false;
          }
        });
    System.out.println("savepoint of " + job + ": " + location[0]);
    return location[0];
  }

  // ---- the landfall command, as bin/landfall runs it ----

  private static Process start(List<String> args, Path log) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Djava.io.tmpdir=" + MODULE.resolve("target/tmp"),
                "-jar",
                JAR.toString()));
    cmd.addAll(args);
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static final class ProcessResult {
    final int exit;
    final String out;

    ProcessResult(int exit, String out) {
      this.exit = exit;
      this.out = out;
    }
  }

  private static ProcessResult landfall(List<String> args, String name, long seconds)
      throws Exception {
    Path log = dir.resolve(name + ".log");
    Process p = start(args, log);
    assertThat(name + " finished", p.waitFor(seconds, TimeUnit.SECONDS), equalTo(true));
    return new ProcessResult(p.exitValue(), Files.readString(log));
  }

  private static long filesRead(String summary) {
    Matcher m = Pattern.compile("files +read (\\d+)").matcher(summary);
    assertThat(summary, m.find(), equalTo(true));
    return Long.parseLong(m.group(1));
  }

  // ---- files and the ledger ----

  private static List<Path> csvFiles(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> p.toString().contains(".csv"))
          .map(root::relativize)
          .sorted()
          .collect(Collectors.toList());
    }
  }

  /** Copies files into the watched folder, complete and a minute old (stable at once). */
  private static void land(Path from, Path to, List<Path> files) throws IOException {
    for (Path rel : files) {
      Path target = to.resolve(rel);
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
      Files.copy(from.resolve(rel), tmp);
      Files.setLastModifiedTime(tmp, FileTime.from(Instant.now().minusSeconds(60)));
      Files.move(tmp, target);
    }
  }

  private static long processing(String schema) {
    return files(schema, "processing");
  }

  private static long done(String schema) {
    return files(schema, "done");
  }

  /** Files of {@code schema}'s ledger with {@code status}; -1 while the database cannot say. */
  private static long files(String schema, String status) {
    try (Connection c = EndToEndChecks.pg(postgres.jdbcUrl())) {
      return EndToEndChecks.scalar(
          c, "SELECT count(*) FROM " + schema + ".landfall_files WHERE status = '" + status + "'");
    } catch (Exception e) {
      return -1;
    }
  }

  private static void await(String what, long seconds, BooleanSupplier condition)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
      }
      Thread.sleep(250);
    }
  }

  /** The first of {@code n} consecutive ports that are free now (other than rest and RPC). */
  private static int freePorts(int n) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = freePort();
      boolean free = base + n < 65536;
      for (int p = base; free && p < base + n; p++) {
        if (p == restPort || p == rpcPort) {
          free = false;
          break;
        }
        try (ServerSocket s = new ServerSocket(p, 1, java.net.InetAddress.getLoopbackAddress())) {
          s.setReuseAddress(true);
        } catch (IOException taken) {
          free = false;
        }
      }
      if (free) {
        return base;
      }
    }
    throw new IOException("no " + n + " consecutive free ports");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
