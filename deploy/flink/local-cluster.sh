#!/usr/bin/env bash
# A standalone Flink 1.19.0 session cluster on this machine: one JobManager JVM and one or more
# TaskManager JVMs, each a separate background process with a pid file and a log. Needs only Java
# 17 and Maven: the Flink jars come from Maven Central (deploy/flink/pom.xml), resolved once.
#
#   deploy/flink/local-cluster.sh start     # start what is not running, wait for the TaskManagers
#   deploy/flink/local-cluster.sh status    # processes and the REST overview
#   deploy/flink/local-cluster.sh stop      # stop all (TaskManagers first)
#   deploy/flink/local-cluster.sh stop-taskmanager [N] | start-taskmanager [N]   # N: 1 (default), 2, ...
#   deploy/flink/local-cluster.sh flink run -c dev.landfall.pipeline.LandfallPipeline <jar> ...
#                                           # Flink's own CLI, pointed at this cluster
#
# Settings (environment):
#   FLINK_WORK_DIR   folder for the generated config, pids, logs, checkpoints, savepoints
#                    (default: <repo>/landfall-work/flink)
#   FLINK_REST_PORT  REST API and web UI port (default 8081)
#   FLINK_RPC_PORT   JobManager RPC port (default 6123)
#   FLINK_TASKMANAGERS  how many TaskManager JVMs `start` starts (default 1)
#   FLINK_SLOTS      task slots of each TaskManager (default 2, one per core)
#   FLINK_TM_MEMORY  TaskManager process size (default 6g); FLINK_JM_MEMORY (default 1600m)
#   FLINK_STATE_BACKEND  hashmap (default) or rocksdb
#   FLINK_PROMETHEUS_PORTS  ports the Prometheus reporter may take, one per process (default
#                    9249-9259: http://127.0.0.1:9249/metrics is the first process started)
#   FLINK_JAVA_OPTS  extra JVM options for both processes (the TaskManager's collector is set by
#                    env.java.opts.taskmanager in deploy/flink/conf/config.yaml: the parallel one)
# The processes inherit this shell's environment: export PGPASSWORD (and AWS_* for S3) before
# `start` so the TaskManager's database (and S3) connections can authenticate.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${FLINK_WORK_DIR:-$repo/landfall-work/flink}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
rest_port="${FLINK_REST_PORT:-8081}"
rpc_port="${FLINK_RPC_PORT:-6123}"
slots="${FLINK_SLOTS:-2}"
taskmanager_count="${FLINK_TASKMANAGERS:-1}"
tm_memory="${FLINK_TM_MEMORY:-6g}"
jm_memory="${FLINK_JM_MEMORY:-1600m}"
state_backend="${FLINK_STATE_BACKEND:-hashmap}"
prometheus_ports="${FLINK_PROMETHEUS_PORTS:-9249-9259}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
conf="$work/conf"
log_dir="$work/log"
rest="http://127.0.0.1:$rest_port"

die() { echo "local-cluster: $*" >&2; exit 1; }

# The Flink class path, resolved from Maven Central once (again when the pom changes).
classpath() {
  local cp_file="$work/classpath.txt"
  if [ ! -s "$cp_file" ] || [ "$here/pom.xml" -nt "$cp_file" ]; then
    echo "local-cluster: resolving the Flink 1.19.0 jars with Maven (once)" >&2
    mvn -B -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cp_file" >&2 \
      || die "could not resolve the Flink jars (mvn -f $here/pom.xml dependency:build-classpath)"
  fi
  cat "$cp_file"
}

# deploy/flink/conf/config.yaml plus this cluster's ports and folders.
write_config() {
  mkdir -p "$conf" "$log_dir" "$work/checkpoints" "$work/savepoints" "$work/tmp" "$work/web-upload"
  {
    grep -v -E '^(state\.backend\.type|taskmanager\.numberOfTaskSlots|taskmanager\.memory\.process\.size|jobmanager\.memory\.process\.size|metrics\.reporter\.prom\.port):' \
      "$here/conf/config.yaml"
    echo ""
    echo "# Added by local-cluster.sh"
    echo "rest.port: $rest_port"
    echo "jobmanager.rpc.port: $rpc_port"
    echo "taskmanager.numberOfTaskSlots: $slots"
    echo "taskmanager.memory.process.size: $tm_memory"
    echo "jobmanager.memory.process.size: $jm_memory"
    echo "state.backend.type: $state_backend"
    echo "metrics.reporter.prom.port: $prometheus_ports"
    echo "state.checkpoints.dir: file://$work/checkpoints"
    echo "state.savepoints.dir: file://$work/savepoints"
    echo "io.tmp.dirs: $work/tmp"
    echo "web.upload.dir: $work/web-upload"
    echo "web.tmpdir: $work/tmp"
  } > "$conf/config.yaml"
  cp "$here/conf/log4j.properties" "$conf/log4j.properties"
}

pid_of() { # prints the pid of a running process of that role, or nothing
  local f="$work/$1.pid" pid stat
  [ -s "$f" ] || return 0
  pid="$(cat "$f")"
  stat="$(ps -o stat= -p "$pid" 2>/dev/null || true)"
  # A process killed a moment ago can linger as a zombie: that is not running.
  if [ -n "$stat" ] && [[ "$stat" != Z* ]]; then echo "$pid"; fi
}

# JVM options and dynamic settings Flink's own scripts compute (BashJavaUtils), as "jvm|dynamic".
resource_params() {
  local out
  out="$("$java" -cp "$(classpath)" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" \
    --configDir "$conf" 2>&1)" || die "BashJavaUtils $1 failed: $out"
  local lines
  lines="$(grep '^BASH_JAVA_UTILS_EXEC_RESULT:' <<<"$out" | sed 's/^BASH_JAVA_UTILS_EXEC_RESULT://')"
  [ -n "$lines" ] || die "BashJavaUtils $1 printed no result: $out"
  echo "$lines"
}

# The role name of TaskManager N: taskmanager, taskmanager-2, taskmanager-3, ...
tm_role() { if [ "${1:-1}" -le 1 ]; then echo taskmanager; else echo "taskmanager-$1"; fi; }

# The roles of the TaskManagers that have a pid file.
tm_roles() {
  local f
  for f in "$work"/taskmanager*.pid; do
    [ -e "$f" ] && basename "$f" .pid
  done
}

start_role() { # role main-class resource-command
  local role="$1" main="$2" cmd="$3"
  local kind="${role%%-*}" # taskmanager-2 is a taskmanager
  if [ -n "$(pid_of "$role")" ]; then
    echo "local-cluster: $role already running (pid $(pid_of "$role"))"
    return
  fi
  local params jvm dynamic=()
  params="$(resource_params "$cmd")"
  jvm="$(sed -n 1p <<<"$params")"
  # The TaskManager's second line holds -D key=value settings derived from its memory budget.
  if [ "$kind" = taskmanager ]; then
    read -r -a dynamic <<<"$(sed -n 2p <<<"$params")"
  fi
  # The role's own JVM options from the config (env.java.opts.<role>), as Flink's scripts add them.
  local role_opts
  role_opts="$(sed -n "s/^env\.java\.opts\.$kind:[[:space:]]*//p" "$conf/config.yaml" | tail -n 1)"
  role_opts="${role_opts%[\"\']}" && role_opts="${role_opts#[\"\']}" # a quoted YAML value
  local log="$log_dir/flink-$role.log"
  # shellcheck disable=SC2086
  nohup "$java" $jvm $role_opts ${FLINK_JAVA_OPTS:-} \
    -Dlog.file="$log" -Dlog4j.configurationFile="file:$conf/log4j.properties" \
    -Djava.io.tmpdir="$work/tmp" \
    -cp "$(classpath)" "$main" --configDir "$conf" "${dynamic[@]}" \
    >"$log_dir/flink-$role.out" 2>&1 </dev/null &
  echo $! > "$work/$role.pid"
  echo "local-cluster: $role started (pid $!, log $log)"
}

stop_role() {
  local role="$1" pid
  pid="$(pid_of "$role")"
  if [ -z "$pid" ]; then
    rm -f "$work/$role.pid"
    echo "local-cluster: $role not running"
    return
  fi
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "local-cluster: $role (pid $pid) did not stop in 30 s; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$work/$role.pid"
  echo "local-cluster: $role stopped"
}

taskmanagers() { # number of registered TaskManagers, or -1 if the REST API does not answer
  local body
  body="$(curl -sf --max-time 2 "$rest/overview" 2>/dev/null)" || { echo -1; return; }
  sed -n 's/.*"taskmanagers":\([0-9]*\).*/\1/p' <<<"$body"
}

wait_for_taskmanager() {
  local want="${1:-1}"
  for _ in $(seq 1 120); do
    local n
    n="$(taskmanagers)"
    if [ "${n:--1}" -ge "$want" ]; then
      echo "local-cluster: ready: $rest ($n TaskManager(s), $slots slots each)"
      return
    fi
    for role in jobmanager $(tm_roles); do
      [ -n "$(pid_of "$role")" ] || die "$role exited; see $log_dir/flink-$role.log and .out"
    done
    sleep 0.5
  done
  die "no TaskManager registered after 60 s; see $log_dir"
}

case "${1:-}" in
  start)
    write_config
    start_role jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
      GET_JM_RESOURCE_PARAMS
    for i in $(seq 1 "$taskmanager_count"); do
      start_role "$(tm_role "$i")" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
        GET_TM_RESOURCE_PARAMS
    done
    wait_for_taskmanager "$taskmanager_count"
    ;;
  start-taskmanager)
    [ -f "$conf/config.yaml" ] || write_config
    start_role "$(tm_role "${2:-1}")" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
      GET_TM_RESOURCE_PARAMS
    wait_for_taskmanager "$(tm_roles | wc -l)"
    ;;
  stop-taskmanager)
    stop_role "$(tm_role "${2:-1}")"
    ;;
  stop)
    for role in $(tm_roles); do
      stop_role "$role"
    done
    stop_role jobmanager
    ;;
  status)
    for role in jobmanager $(tm_roles); do
      pid="$(pid_of "$role")"
      if [ -n "$pid" ]; then echo "$role: running (pid $pid)"; else echo "$role: not running"; fi
    done
    curl -sf --max-time 2 "$rest/overview" && echo || echo "REST API $rest not answering"
    ;;
  flink)
    shift
    [ -f "$conf/config.yaml" ] || write_config
    FLINK_CONF_DIR="$conf" exec "$java" ${FLINK_JAVA_OPTS:-} \
      -Dlog.file="$log_dir/flink-client.log" -Dlog4j.configurationFile="file:$conf/log4j.properties" \
      -cp "$(classpath)" org.apache.flink.client.cli.CliFrontend "$@"
    ;;
  *)
    echo "usage: $0 start|stop|status|start-taskmanager|stop-taskmanager|flink <args>" >&2
    exit 2
    ;;
esac
