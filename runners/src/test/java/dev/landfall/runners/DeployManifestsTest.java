package dev.landfall.runners;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import dev.landfall.pipeline.LandfallPipeline;
import dev.landfall.pipeline.options.LandfallOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The deploy manifests that cannot run here (no Docker, no Kubernetes), parsed and checked: they
 * name the bundled jar where the build puts it and the image copies it, the main class, Flink 1.19
 * (the version the jar is built against), options landfall accepts, and no secret in any argument.
 * YAML is read with snakeyaml-engine, which Flink itself brings.
 */
class DeployManifestsTest {
  private static final Path DEPLOY = Paths.get("").toAbsolutePath().getParent().resolve("deploy");
  private static final String JAR_IN_IMAGE = "/opt/flink/usrlib/landfall-cluster.jar";

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yaml(String file) throws Exception {
    return (Map<String, Object>)
        new Load(LoadSettings.builder().build())
            .loadFromString(Files.readString(DEPLOY.resolve(file)));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Map<String, Object> m, String... path) {
    Map<String, Object> cur = m;
    for (String p : path) {
      cur = (Map<String, Object>) cur.get(p);
      assertThat("key " + p, cur != null, equalTo(true));
    }
    return cur;
  }

  @SuppressWarnings("unchecked")
  private static List<String> list(Object o) {
    return ((List<Object>) o).stream().map(String::valueOf).collect(Collectors.toList());
  }

  /** The landfall arguments must parse as landfall options, and carry no secret. */
  private static void assertValidJobArgs(List<String> args) {
    for (String a : args) {
      assertThat("no secret on a command line", a.toLowerCase(), not(containsString("password")));
      assertThat("no secret on a command line", a.toLowerCase(), not(containsString("secret")));
    }
    PipelineOptionsFactory.register(LandfallOptions.class);
    LandfallOptions o =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0]))
            .withValidation()
            .as(LandfallOptions.class);
    assertThat(o.getRunner().getSimpleName(), equalTo("FlinkRunner"));
    assertThat(o.getWatch(), equalTo(true));
    assertThat(o.getJdbcUrl(), startsWith("jdbc:postgresql://"));
  }

  @Test
  void theJarIsBuiltAndBakedWhereTheManifestsLookForIt() throws Exception {
    String pom = Files.readString(DEPLOY.getParent().resolve("runners/pom.xml"));
    assertThat(pom, containsString("<finalName>landfall-bundled</finalName>"));
    assertThat(
        pom,
        containsString("<outputFile>${project.build.directory}/landfall-cluster.jar</outputFile>"));
    assertThat(pom, containsString("<mainClass>" + LandfallPipeline.class.getName()));
    String docker = Files.readString(DEPLOY.resolve("Dockerfile"));
    assertThat(docker, containsString("FROM flink:" + EnvironmentInformation.getVersion() + "-"));
    assertThat(docker, containsString("COPY runners/target/landfall-cluster.jar " + JAR_IN_IMAGE));
    assertThat(
        "the jar targets Flink 1.19", EnvironmentInformation.getVersion(), startsWith("1.19."));
  }

  @Test
  void dockerComposeRunsFlink119WithTheBundledJar() throws Exception {
    Map<String, Object> services = map(yaml("docker-compose.yml"), "services");
    assertThat(services.keySet(), hasItem("postgres"));
    assertThat(services.keySet(), hasItem("minio"));
    for (String s : List.of("jobmanager", "taskmanager", "submit")) {
      Map<String, Object> svc = map(services, s);
      assertThat(
          s,
          String.valueOf(svc.get("image")),
          startsWith("flink:" + EnvironmentInformation.getVersion() + "-"));
      assertThat(
          s,
          list(svc.get("volumes")),
          hasItem("../runners/target/landfall-cluster.jar:" + JAR_IN_IMAGE + ":ro"));
    }
    assertThat(
        "the TaskManager opens the database connections",
        map(services, "taskmanager", "environment").get("PGPASSWORD"),
        equalTo("${PGPASSWORD}"));
    String flinkConfig =
        String.valueOf(map(services, "jobmanager", "environment").get("FLINK_PROPERTIES"));
    assertThat(flinkConfig, containsString("state.checkpoints.dir: file:///flink-state/"));
    assertThat(
        flinkConfig,
        equalTo(
            String.valueOf(map(services, "taskmanager", "environment").get("FLINK_PROPERTIES"))));

    List<String> cmd = list(map(services, "submit").get("command"));
    assertThat(cmd.subList(0, 2), equalTo(List.of("flink", "run")));
    assertThat(cmd.get(cmd.indexOf("--class") + 1), equalTo(LandfallPipeline.class.getName()));
    int jar = cmd.indexOf(JAR_IN_IMAGE);
    assertThat("the jar is named", jar > 0, equalTo(true));
    List<String> jobArgs = cmd.subList(jar + 1, cmd.size());
    assertThat(jobArgs, hasItem("--attachedMode=false"));
    assertValidJobArgs(jobArgs);
  }

  @Test
  void theFlinkDeploymentRunsTheMainClassFromTheImage() throws Exception {
    Map<String, Object> doc = yaml("k8s/flink-deployment.yaml");
    assertThat(doc.get("apiVersion"), equalTo("flink.apache.org/v1beta1"));
    assertThat(doc.get("kind"), equalTo("FlinkDeployment"));
    Map<String, Object> spec = map(doc, "spec");
    assertThat(spec.get("flinkVersion"), equalTo("v1_19"));
    Map<String, Object> job = map(spec, "job");
    assertThat(job.get("jarURI"), equalTo("local://" + JAR_IN_IMAGE));
    assertThat(job.get("entryClass"), equalTo(LandfallPipeline.class.getName()));
    assertThat(job.get("upgradeMode"), equalTo("savepoint"));
    assertValidJobArgs(list(job.get("args")));
    Map<String, Object> conf = map(spec, "flinkConfiguration");
    assertThat(String.valueOf(conf.get("state.checkpoints.dir")), endsWith("/checkpoints"));
    assertThat(String.valueOf(conf.get("state.savepoints.dir")), endsWith("/savepoints"));
    String pod = String.valueOf(spec.get("podTemplate"));
    assertThat("secrets come from a Secret", pod, containsString("secretRef"));
  }
}
