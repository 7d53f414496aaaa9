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
#   BENCH_RUNS="landfall_end_to_end duckdb pg_copy" deploy/bench/run.sh 100000000
#                                    only the named runs (default: all); a ratio whose runs were
#                                    left out is printed as "not run" and is null in the JSON
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
  if [ -n "${BENCH_RUNS:-}" ] && [[ " $BENCH_RUNS " != *" $name "* ]]; then
    echo "== $name: skipped (not in BENCH_RUNS)"
    return 0
  fi
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
  # ratio A B: (rows/s of A) / (rows/s of B), or "" when either run was left out.
  function ratio(a, b) { return (a in wall) && (b in wall) ? sprintf("%.3f", wall[b] / wall[a]) : "" }
  function rate(a) { return (a in wall) ? sprintf("%.0f", rows / wall[a]) : "" }
  function shown(v, target) { return v == "" ? "not run" : sprintf("%.2f%s", v, target) }
  function js(v) { return v == "" ? "null" : v }
  END {
    printf "\n%-22s %10s %12s %8s %10s %8s\n", "run (" rows " rows)", "wall s", "rows/s", "MB/s", "peak MB", "cpu s"
    for (i = 0; i < n; i++) { k = order[i]
      printf "%-22s %10.1f %12.0f %8.1f %10d %8.1f\n", k, wall[k], rows / wall[k], mb / wall[k], rss[k], cpu[k] }
    rp = ratio("landfall_parquet", "duckdb")
    rc = ratio("landfall_pg", "pg_copy")
    printf "\nlandfall Parquet / DuckDB: %s\n", shown(rp, " (target >= 0.33)")
    printf "landfall PostgreSQL / COPY: %s\n", shown(rc, " (target >= 0.70)")
    printf "COPY + merge (database side of any idempotent sink) / COPY: %s\n", shown(ratio("pg_copy_merge", "pg_copy"), "")
    printf "COPY first, merge on conflict (database side of landfall'"'"'s sink) / COPY: %s\n", shown(ratio("pg_copy_first", "pg_copy"), "")
    e2e = ("landfall_end_to_end" in wall) ? sprintf("%.1f", wall["landfall_end_to_end"]) : ""
    printf "{\"rows\": %d, \"input_mb\": %d, \"landfall_parquet_rows_per_s\": %s, \"landfall_pg_rows_per_s\": %s, \"landfall_end_to_end_s\": %s, \"duckdb_rows_per_s\": %s, \"pg_copy_rows_per_s\": %s, \"pg_copy_merge_rows_per_s\": %s, \"pg_copy_first_rows_per_s\": %s, \"ratio_parquet_vs_duckdb\": %s, \"ratio_pg_vs_copy\": %s, \"peak_rss_mb\": %d, \"landfall_end_to_end_peak_rss_mb\": %s}\n", rows, mb, js(rate("landfall_parquet")), js(rate("landfall_pg")), js(e2e), js(rate("duckdb")), js(rate("pg_copy")), js(rate("pg_copy_merge")), js(rate("pg_copy_first")), js(rp), js(rc), peak, js(e2e == "" ? "" : rss["landfall_end_to_end"]) > json
  }' "$results"
echo "machine-readable copy: $work/bench.json"
cat "$work/bench.json"
