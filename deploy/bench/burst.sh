#!/usr/bin/env bash
# A burst of small files into a watch over many done files: backfills FILES small files (ROWS
# clean billing rows), starts a watch (FlinkRunner, parallelism = cores, --pollInterval=2s) over
# the same folder, waits until it idles, then ROUNDS times lands BURST more small files of new
# rows at once (written in a folder beside the input, one minute old, and renamed into it by one
# process, as a landing zone's copy would leave them) and prints the time from the landing to the
# last of them `done` in the ledger, and the watch's CPU per minute while idle over the done
# files. Writes <work>/burst.json.
#
#   deploy/bench/burst.sh [ROWS [FILES [BURST [ROUNDS]]]]   default 1000000 rows as 20000 files,
#                                                            then 3 bursts of 400 more
set -euo pipefail
rows="${1:-1000000}"
files="${2:-20000}"
burst="${3:-400}"
rounds="${4:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_DIR:-$root/landfall-work/bench}/burst-$rows-$files-$burst"
cores="$(nproc)"
mkdir -p "$work"
cd "$root"

# shellcheck source=deploy/bench/common.sh
. "$root/deploy/bench/common.sh"
bench_build
pool="$work/pool"
# The burst's files: the same layout and about the same file size; each round renames their keys.
burst_rows=$(( rows * burst / files ))
bench_generate "$pool" "$rows" "$files"
bench_generate "$work/burst-pool" "$burst_rows" "$burst"
rm -rf "$work/input" "$work/out"
mkdir -p "$work/input"
cp -r "$pool/." "$work/input/"
bench_start_pg
port="$pg_port"
sql() { psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres postgres -c "$1"; }

flink=(--runner=FlinkRunner --parallelism="$cores" --input="$work/input" --output="$work/out"
  --jdbcUrl="$jdbc" --dbSchema=burst)
echo "== backfill of $(find "$work/input" -name '*.csv*' | wc -l) files"
start=$(date +%s.%N)
bin/landfall "${flink[@]}" > "$work/backfill.log" 2>&1
grep -E '^(files|rows|time) ' "$work/backfill.log" | sed 's/^/   /'

echo "== watch over the done files"
/usr/bin/time -v -o "$work/watch.time" bin/landfall "${flink[@]}" --watch --pollInterval=2s \
  --stopAfterIdle=600s > "$work/watch.log" 2>&1 &
job=$!
# Idle: give the job 40 s to start and take its first polls (every file already done, none
# claimed); then measure its CPU over a minute of polls.
sleep 40
jpid=$(pgrep -P "$job" java || echo "$job")
cpu() { awk '{ print $14 + $15 }' "/proc/$jpid/stat"; }
c0=$(cpu); sleep 60; c1=$(cpu)
idle_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }')
echo "   idle: $idle_cpu CPU s per minute"
changed=$(sql "SELECT count(*) FROM burst.landfall_files WHERE status = 'changed'")

# ROUNDS bursts, one after the other (the poll's phase moves each by up to one interval).
mapfile -t fresh < <(cd "$work/burst-pool" && find . -name '*.csv*' | sort)
total=$(find "$pool" -name '*.csv*' | wc -l)
times=()
for round in $(seq 1 "$rounds"); do
  echo "== burst $round of $rounds: $burst files landing at once"
  stage="$work/stage"
  rm -rf "$stage"
  for f in "${fresh[@]}"; do
    # Another name in the same partitions, beside the backfilled files, and keys of its own
    # (the generator numbers each day's events from 0, so the pool's keys are the backfill's).
    dest="$stage/$(dirname "${f#./}")/burst$round-$(basename "$f")"
    mkdir -p "$(dirname "$dest")"
    case "$f" in
      *.gz) gzip -dc "$work/burst-pool/$f" | sed "s/^ev-/ev-b$round-/" | gzip > "$dest" ;;
      *) sed "s/^ev-/ev-b$round-/" "$work/burst-pool/$f" > "$dest" ;;
    esac
    touch -d '1 minute ago' "$dest"
  done
  # All renames in one process, as a copy tool finishing its files would leave them (a shell
  # loop forking mkdir and mv per file spreads the landing itself over ~1.5 s).
  landed=$(date +%s.%N)
  (cd "$stage" && find . -name '*.csv*' -print0 | DEST="$work/input" perl -0 \
    -MFile::Path=make_path -MFile::Basename -ne 'chomp; make_path("$ENV{DEST}/" . dirname($_));
      rename($_, "$ENV{DEST}/$_") or die "$_: $!\n"')
  landing=$(awk -v a="$landed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  total=$(( total + ${#fresh[@]} ))
  until [ "$(sql "SELECT count(*) FROM burst.landfall_files WHERE status = 'done'")" -ge "$total" ]; do
    kill -0 "$job" 2>/dev/null || { echo "the watch job ended early:"; tail -n 30 "$work/watch.log"; exit 1; }
    sleep 0.2
  done
  took=$(awk -v a="$landed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "   landing (all renames) $landing s; landing -> all $burst done: $took s"
  times+=("$took")
  sleep 3
done
pkill -TERM -P "$job" || true
wait "$job" || true
echo "   files marked changed by the watch: $changed"
stored=$(sql "SELECT count(*) FROM burst.billing")
echo "   rows stored: $stored (the backfill's $rows and $rounds x $burst_rows of the bursts)"
parquet=$(find "$work/out" -name '*.parquet' | wc -l)
echo "   Parquet files: $parquet"
printf '{"files": %d, "burst": %d, "burst_s": [%s], "idle_cpu_s_per_min": %s, "changed": %d, "parquet_files": %d}\n' \
  "$files" "$burst" "$(IFS=,; echo "${times[*]}")" "$idle_cpu" "$changed" "$parquet" | tee "$work/burst.json"
