#!/usr/bin/env bash
# Watch-mode measurement: generates N clean billing rows, starts a watch job (FlinkRunner, local,
# parallelism = cores) on an empty input folder, then lands the files one by one, each once the
# previous one is done in the ledger. Prints each file's delay from landing to done, the Parquet
# file count and sizes per partition after the run and after a --compact run, and one result of
# each dashboard view.
#
# With WATCH_EVERY=S the files land one every S seconds without waiting for each other (0: all
# at once), and each file's delay is its ledger finished_at minus its landing time: what a stream
# of files costs, not the latency of one file at a time.
#
#   deploy/bench/watch-files.sh [ROWS]      ROWS default 1000000
#   LANDFALL_WATCH_ARGS='--compactAfterFiles=4' deploy/bench/watch-files.sh 10000000
#   WATCH_EVERY=2 deploy/bench/watch-files.sh 10000000
set -euo pipefail
rows="${1:-1000000}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_DIR:-$root/landfall-work/bench}/watch-$rows"
cores="$(nproc)"
mkdir -p "$work"
cd "$root"

# shellcheck source=deploy/bench/common.sh
. "$root/deploy/bench/common.sh"
bench_build
staged="$work/staged"
bench_generate "$staged" "$rows"
rm -rf "$work/input" "$work/out"
mkdir -p "$work/input"
bench_start_pg
port="$pg_port"
sql() { psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres postgres -c "$1"; }

echo "== starting the watch job"
# shellcheck disable=SC2086
/usr/bin/time -v -o "$work/watch.time" bin/landfall --runner=FlinkRunner --parallelism="$cores" \
  --input="$work/input" --output="$work/out" --jdbcUrl="$jdbc" --dbSchema=watch \
  --watch --pollInterval=2s --stopAfterIdle=600s ${LANDFALL_WATCH_ARGS:-} > "$work/watch.log" 2>&1 &
job=$!

mapfile -t files < <(cd "$staged" && find . -name '*.csv*' | sort)
done_count() { sql "SELECT count(*) FROM watch.landfall_files WHERE status = 'done'" 2>/dev/null || echo 0; }
# land FILE: written under a hidden name, then renamed, so the watch never sees a half-copied file.
land() {
  local dest="$work/input/${1#./}"
  mkdir -p "$(dirname "$dest")"
  cp "$staged/$1" "$(dirname "$dest")/.$(basename "$dest").tmp"
  mv "$(dirname "$dest")/.$(basename "$dest").tmp" "$dest"
}
started=$(date +%s.%N)
if [ -z "${WATCH_EVERY:-}" ]; then
  echo "== landing ${#files[@]} files one by one"
  n=0
  for f in "${files[@]}"; do
    land "$f"
    landed=$(date +%s.%N)
    n=$((n + 1))
    until [ "$(done_count)" -ge "$n" ]; do
      kill -0 "$job" 2>/dev/null || { echo "the watch job ended early:"; tail -n 30 "$work/watch.log"; exit 1; }
      sleep 0.2
    done
    printf '%s\t%.1f\n' "$f" "$(awk -v a="$landed" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
  done | tee "$work/delays.tsv"
else
  echo "== landing ${#files[@]} files, one every ${WATCH_EVERY} s, without waiting for them"
  : > "$work/landed.tsv"
  for f in "${files[@]}"; do
    land "$f"
    printf '%s\t%s\n' "$work/input/${f#./}" "$(date +%s.%N)" >> "$work/landed.tsv"
    sleep "$WATCH_EVERY"
  done
  until [ "$(done_count)" -ge "${#files[@]}" ]; do
    kill -0 "$job" 2>/dev/null || { echo "the watch job ended early:"; tail -n 30 "$work/watch.log"; exit 1; }
    sleep 0.2
  done
  psql -X -q -A -t -F $'\t' -h 127.0.0.1 -p "$port" -U postgres postgres \
    -c "SELECT path, extract(epoch FROM finished_at) FROM watch.landfall_files" > "$work/finished.tsv"
  awk -F'\t' -v root="$work/input/" 'NR == FNR { landed[$1] = $2; next }
    ($1 in landed) { f = $1; sub(root, "./", f); printf "%s\t%.1f\n", f, $2 - landed[$1] }' \
    "$work/landed.tsv" "$work/finished.tsv" | sort | tee "$work/delays.tsv"
fi
ended=$(date +%s.%N)
# Every file is done: stop the job (its java process; /usr/bin/time then writes the peak RSS).
pkill -TERM -P "$job" || true
wait "$job" || true

sizes() {
  echo "files per partition (count, total MB, smallest and largest MB):"
  for d in "$work/out/billing"/*/; do
    find "$d" -maxdepth 1 -name '*.parquet' -printf '%s\n' | awk -v d="$(basename "$d")" '
      { n++; t += $1; if (min == "" || $1 < min) min = $1; if ($1 > max) max = $1 }
      END { printf "  %s  %d files  %.1f MB  (%.1f .. %.1f MB)\n", d, n, t/1e6, min/1e6, max/1e6 }'
  done
}
echo
echo "== after the watch run"
sizes
awk -F'\t' '{ s += $2; if ($2 > m) m = $2; n++ } END { printf "landing -> done: mean %.1f s, max %.1f s over %d files\n", s/n, m, n }' "$work/delays.tsv"
awk -v rows="$rows" -v a="$started" -v b="$ended" 'BEGIN { printf "rows/s over the landings: %.0f\n", rows / (b - a) }'
awk -F': ' '/Maximum resident/ { printf "peak RSS of the watch job: %.0f MB\n", $2/1024 }' "$work/watch.time"

echo
echo "== bin/landfall --compact"
bin/landfall --compact --output="$work/out" --jdbcUrl="$jdbc" > "$work/compact.log" 2>&1
tail -n 3 "$work/compact.log"
sizes

echo
echo "== one row of each view"
for v in billing_cost_per_day_service billing_top_accounts_per_day billing_p90_cost_trend billing_rejects_per_day; do
  echo "$v:"
  psql -X -h 127.0.0.1 -p "$port" -U postgres postgres -c "SELECT * FROM watch.$v ORDER BY 1 LIMIT 1"
done
echo "rows table: $(sql 'SELECT count(*) FROM watch.billing'), parquet: see above"
