#!/usr/bin/env bash
# landfall benchmark: generates N clean billing rows, runs landfall (FlinkRunner, parallelism = cores;
# DirectRunner too up to 1M rows) and the baselines on the same files (DuckDB CSV -> zstd Parquet with
# 2 threads; PostgreSQL COPY into a table with the same primary key; the same rows through a
# staging table and INSERT ... ON CONFLICT; and COPY first with the merge on conflict, as landfall's
# sink does), then prints rows/s, MB/s, wall seconds, peak RSS, CPU seconds and the ratios, and
# writes them to <work>/bench.json.
#
#   deploy/bench/run.sh [ROWS]        ROWS default 1000000 (10M and 100M are run by hand)
#   BENCH_DIR=/big/disk deploy/bench/run.sh 100000000
set -euo pipefail
rows="${1:-1000000}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_DIR:-$root/landfall-work/bench}"
cores="$(nproc)"
mkdir -p "$work"
cd "$root"

# shellcheck source=deploy/bench/common.sh
. "$root/deploy/bench/common.sh"
bench_build
input="$work/input-$rows"
bench_generate "$input" "$rows"
mb=$(du -sm "$input" | cut -f1)
bench_start_pg

results="$work/results.tsv"
: > "$results"
# measure NAME COMMAND...: wall seconds and peak RSS (MB) of one command.
measure() {
  local name="$1"; shift
  echo "== $name"
  local start end rss="" cpu=""
  start=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.log" 2>&1
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$work/$name.time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/$name.time")
  else
    "$@" > "$work/$name.log" 2>&1
  fi
  end=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" \
    "${rss:-0}" "${cpu:-0}" >> "$results"
  tail -n 3 "$work/$name.log" | sed 's/^/   /'
}

flink=(--runner=FlinkRunner --parallelism="$cores" --input="$input")
measure landfall_parquet bin/landfall "${flink[@]}" --sinks=parquet --output="$work/out-parquet"
measure landfall_pg bin/landfall "${flink[@]}" --sinks=postgres --jdbcUrl="$jdbc" --dbSchema=bench_pg
measure landfall_end_to_end bin/landfall "${flink[@]}" --jdbcUrl="$jdbc" --dbSchema=bench_e2e \
  --output="$work/out-e2e"
if [ "$rows" -le 1000000 ]; then
  measure landfall_direct bin/landfall --input="$input" --jdbcUrl="$jdbc" --dbSchema=bench_direct \
    --output="$work/out-direct"
fi
rm -rf "$work/out-duckdb"
measure duckdb "${bench[@]}" duckdb "$input" "$work/out-duckdb" 2
measure pg_copy "${bench[@]}" copy "$input" "$jdbc"
# The database side of an idempotent sink alone: COPY into a staging table + INSERT ... ON CONFLICT,
# in landfall's default batch of 10,000 rows.
measure pg_copy_merge "${bench[@]}" copymerge "$input" "$jdbc" 10000
# ... and as landfall's sink does it: COPY straight into the table, the merge only when a key is there.
measure pg_copy_first "${bench[@]}" copyfirst "$input" "$jdbc" 10000

awk -v rows="$rows" -v mb="$mb" -v json="$work/bench.json" -F'\t' '
  { wall[$1] = $2; rss[$1] = $3; cpu[$1] = $4; if ($3 > peak) peak = $3; order[n++] = $1 }
  END {
    printf "\n%-22s %10s %12s %8s %10s %8s\n", "run (" rows " rows)", "wall s", "rows/s", "MB/s", "peak MB", "cpu s"
    for (i = 0; i < n; i++) { k = order[i]
      printf "%-22s %10.1f %12.0f %8.1f %10d %8.1f\n", k, wall[k], rows / wall[k], mb / wall[k], rss[k], cpu[k] }
    rp = (rows / wall["landfall_parquet"]) / (rows / wall["duckdb"])
    rc = (rows / wall["landfall_pg"]) / (rows / wall["pg_copy"])
    printf "\nlandfall Parquet / DuckDB: %.2f (target >= 0.33)\n", rp
    printf "landfall PostgreSQL / COPY: %.2f (target >= 0.70)\n", rc
    printf "COPY + merge (database side of any idempotent sink) / COPY: %.2f\n", wall["pg_copy"] / wall["pg_copy_merge"]
    printf "COPY first, merge on conflict (database side of landfall'"'"'s sink) / COPY: %.2f\n", wall["pg_copy"] / wall["pg_copy_first"]
    printf "{\"rows\": %d, \"input_mb\": %d, \"landfall_parquet_rows_per_s\": %.0f, \"landfall_pg_rows_per_s\": %.0f, \"landfall_end_to_end_s\": %.1f, \"duckdb_rows_per_s\": %.0f, \"pg_copy_rows_per_s\": %.0f, \"pg_copy_merge_rows_per_s\": %.0f, \"pg_copy_first_rows_per_s\": %.0f, \"ratio_parquet_vs_duckdb\": %.3f, \"ratio_pg_vs_copy\": %.3f, \"peak_rss_mb\": %d, \"landfall_end_to_end_peak_rss_mb\": %d}\n", rows, mb, rows / wall["landfall_parquet"], rows / wall["landfall_pg"], wall["landfall_end_to_end"], rows / wall["duckdb"], rows / wall["pg_copy"], rows / wall["pg_copy_merge"], rows / wall["pg_copy_first"], rp, rc, peak, rss["landfall_end_to_end"] > json
  }' "$results"
echo "machine-readable copy: $work/bench.json"
cat "$work/bench.json"
