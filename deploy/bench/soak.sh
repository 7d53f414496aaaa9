#!/usr/bin/env bash
# Soak: a watch job on the local Flink cluster (deploy/flink/local-cluster.sh: a JobManager and a
# TaskManager JVM) with small files landing steadily, for a given time. Each minute it prints one
# line: files landed and done, rows/s stored that minute, the mean and worst delay from landing to
# `done` of the files finished that minute, the TaskManager's resident memory, its heap after a
# full GC (jcmd GC.run, then GC.heap_info), the size of the job's last completed checkpoint, and
# the ledger's rows. What it shows: whether memory and checkpoints stay flat while the number of
# files ever seen grows.
#
#   deploy/bench/soak.sh [MINUTES] [FILES_PER_MINUTE] [ROWS_PER_FILE]   defaults 30, 120, 200
#
# Needs Java 17, Maven, psql, curl and jq. Uses ports FLINK_REST_PORT (default 18081) and FLINK_RPC_PORT
# (default 16123); the cluster's work folder is <bench dir>/soak/flink, stopped at the end.
set -euo pipefail
minutes="${1:-30}"
per_minute="${2:-120}"
rows_per_file="${3:-200}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_DIR:-$root/landfall-work/bench}/soak"
mkdir -p "$work"
cd "$root"
export FLINK_REST_PORT="${FLINK_REST_PORT:-18081}" FLINK_RPC_PORT="${FLINK_RPC_PORT:-16123}"
export FLINK_WORK_DIR="$work/flink" FLINK_TM_MEMORY="${FLINK_TM_MEMORY:-3g}"
rest="http://127.0.0.1:$FLINK_REST_PORT"

# shellcheck source=deploy/bench/common.sh
. "$root/deploy/bench/common.sh"
bench_build
files_needed=$((minutes * per_minute))
staged="$work/staged-$files_needed-$rows_per_file"
bench_generate "$staged" $((files_needed * rows_per_file)) "$files_needed"
rm -rf "$work/input" "$work/out"
mkdir -p "$work/input"
bench_start_pg
sql() { psql -X -q -A -t -h 127.0.0.1 -p "$pg_port" -U postgres postgres -c "$1" 2>/dev/null; }

cleanup() {
  deploy/flink/local-cluster.sh stop > /dev/null 2>&1 || true
  kill "$pg_pid" 2>/dev/null || true
}
trap cleanup EXIT
echo "== starting the Flink cluster (REST $rest)"
deploy/flink/local-cluster.sh start > "$work/cluster.log" 2>&1
echo "== submitting the watch job"
java -jar runners/target/landfall-bundled.jar --runner=FlinkRunner \
  --flinkMaster="127.0.0.1:$FLINK_REST_PORT" --parallelism=2 --attachedMode=false \
  --input="$work/input" --output="$work/out" --jdbcUrl="$jdbc" --dbUser=postgres \
  --dbSchema=soak --watch --pollInterval=2s --checkpointingInterval=10000 > "$work/submit.log" 2>&1
job=$(curl -s "$rest/jobs/overview" | jq -r '[.jobs[] | select(.state == "RUNNING")][0].jid // empty')
[ -n "$job" ] || { echo "no running job:"; cat "$work/submit.log"; exit 1; }
tm_pid=$(cat "$FLINK_WORK_DIR"/*taskmanager*.pid 2>/dev/null | head -1)

mapfile -t files < <(cd "$staged" && find . -name '*.csv*' | sort)
# land FILE: written under a hidden name, then renamed, so the watch never sees a half-copied file.
land() {
  local dest="$work/input/${1#./}"
  mkdir -p "$(dirname "$dest")"
  cp "$staged/$1" "$(dirname "$dest")/.$(basename "$dest").tmp"
  mv "$(dirname "$dest")/.$(basename "$dest").tmp" "$dest"
  printf '%s\t%s\n' "$dest" "$(date +%s.%N)" >> "$work/landed.tsv"
}
checkpoint_bytes() {
  curl -s "$rest/jobs/$job/checkpoints" | jq -r '.latest.completed.state_size // 0'
}
# The heap in use after a full collection: the "used" of each generation (or of G1's heap).
heap_after_gc_mb() {
  [ -n "$tm_pid" ] || { echo "?"; return; }
  jcmd "$tm_pid" GC.run > /dev/null 2>&1 || { echo "?"; return; }
  jcmd "$tm_pid" GC.heap_info 2>/dev/null \
    | grep -E '^ *(PSYoungGen|ParOldGen|garbage-first heap|def new generation|tenured generation)' \
    | grep -o 'used [0-9]*K' | awk '{ sub("K", "", $2); kb += $2 } END { printf "%.0f", kb / 1024 }'
}

: > "$work/landed.tsv"
printf 'minute\tlanded\tdone\trows/s\tdelay_mean_s\tdelay_max_s\trss_mb\theap_after_gc_mb\tcheckpoint_kb\tledger_rows\n' \
  | tee "$work/soak.tsv"
next=0
interval=$(awk -v n="$per_minute" 'BEGIN { print 60 / n }')
start=$(date +%s)
for minute in $(seq 1 "$minutes"); do
  until [ "$(date +%s)" -ge $((start + minute * 60)) ]; do
    if [ "$next" -lt "${#files[@]}" ]; then
      land "${files[$next]}"
      next=$((next + 1))
    fi
    sleep "$interval"
  done
  since=$((start + (minute - 1) * 60))
  stats=$(sql "SELECT count(*) FILTER (WHERE status = 'done'), (coalesce(sum(rows_valid)
      FILTER (WHERE finished_at >= to_timestamp($since)), 0) / 60)::bigint, count(*)
      FROM soak.landfall_files" | tr '|' '\t')
  psql -X -q -A -t -F $'\t' -h 127.0.0.1 -p "$pg_port" -U postgres postgres -c "SELECT path,
      extract(epoch FROM finished_at) FROM soak.landfall_files WHERE finished_at >=
      to_timestamp($since)" 2>/dev/null > "$work/finished.tsv" || true
  delays=$(awk -F'\t' 'NR == FNR { landed[$1] = $2; next } ($1 in landed) { d = $2 - landed[$1];
      s += d; n++; if (d > m) m = d } END { if (n) printf "%.1f\t%.1f", s / n, m; else printf "-\t-" }' \
    "$work/landed.tsv" "$work/finished.tsv")
  rss=$(ps -o rss= -p "$tm_pid" 2>/dev/null | awk '{ printf "%.0f", $1 / 1024 }')
  done_files=$(echo "$stats" | cut -f1)
  rows_s=$(echo "$stats" | cut -f2)
  ledger=$(echo "$stats" | cut -f3)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$minute" "$next" "$done_files" "$rows_s" \
    "$delays" "${rss:-?}" "$(heap_after_gc_mb)" "$(( $(checkpoint_bytes) / 1024 ))" "$ledger" \
    | tee -a "$work/soak.tsv"
done
echo "== the job's exceptions, if any"
curl -s "$rest/jobs/$job/exceptions" | head -c 600; echo
