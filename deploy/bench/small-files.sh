#!/usr/bin/env bash
# Many small files against few big ones: generates the same N clean billing rows twice, as about
# FILES small files and as 100 files, and backfills each end to end (FlinkRunner, parallelism =
# cores, a fresh schema of one embedded PostgreSQL), with DuckDB CSV -> Parquet on both layouts as
# the baseline. Prints wall seconds, peak RSS, CPU seconds, the ratio small / big for landfall and
# for DuckDB, and the Parquet files each backfill left; writes <work>/small-files.json.
#
#   deploy/bench/small-files.sh [ROWS [FILES]]     default 1000000 rows as 20000 files
set -euo pipefail
rows="${1:-1000000}"
files="${2:-20000}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_DIR:-$root/landfall-work/bench}/small-files-$rows-$files"
cores="$(nproc)"
mkdir -p "$work"
cd "$root"

# shellcheck source=deploy/bench/common.sh
. "$root/deploy/bench/common.sh"
bench_build
small="$work/input-small"
big="$work/input-big"
bench_generate "$small" "$rows" "$files"
bench_generate "$big" "$rows" 100
bench_start_pg

results="$work/results.tsv"
: > "$results"
# measure NAME COMMAND...: wall seconds, peak RSS (MB) and CPU seconds of one command.
measure() {
  local name="$1"; shift
  echo "== $name"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.log" 2>&1
  end=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" \
    "$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$work/$name.time")" \
    "$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' "$work/$name.time")" >> "$results"
  grep -E '^(rows|files|time) ' "$work/$name.log" | sed 's/^/   /' || tail -n 3 "$work/$name.log"
}

rm -rf "$work/out-small" "$work/out-big" "$work/duckdb-small" "$work/duckdb-big"
flink=(--runner=FlinkRunner --parallelism="$cores" --jdbcUrl="$jdbc")
measure landfall_big bin/landfall "${flink[@]}" --input="$big" --output="$work/out-big" --dbSchema=big
measure landfall_small bin/landfall "${flink[@]}" --input="$small" --output="$work/out-small" --dbSchema=small
measure duckdb_big "${bench[@]}" duckdb "$big" "$work/duckdb-big" 2
measure duckdb_small "${bench[@]}" duckdb "$small" "$work/duckdb-small" 2
parquet_big=$(find "$work/out-big" -name '*.parquet' | wc -l)
parquet_small=$(find "$work/out-small" -name '*.parquet' | wc -l)
nsmall=$(find "$small" -name '*.csv*' | wc -l)

awk -v rows="$rows" -v nsmall="$nsmall" -v pb="$parquet_big" -v ps="$parquet_small" \
    -v json="$work/small-files.json" -F'\t' '
  { wall[$1] = $2; rss[$1] = $3; cpu[$1] = $4; order[n++] = $1 }
  END {
    printf "\n%-16s %10s %12s %10s %8s\n", "run (" rows " rows)", "wall s", "rows/s", "peak MB", "cpu s"
    for (i = 0; i < n; i++) { k = order[i]
      printf "%-16s %10.1f %12.0f %10d %8.1f\n", k, wall[k], rows / wall[k], rss[k], cpu[k] }
    rl = wall["landfall_small"] / wall["landfall_big"]
    rd = wall["duckdb_small"] / wall["duckdb_big"]
    perfile = (wall["landfall_small"] - wall["landfall_big"]) * 1000 / (nsmall - 100)
    printf "\n%d small files vs 100 files: landfall %.2fx (target <= 2x), DuckDB %.2fx\n", nsmall, rl, rd
    printf "landfall wall time per extra file: %.2f ms\n", perfile
    printf "Parquet files left: %d (small files), %d (100 files)\n", ps, pb
    printf "{\"rows\": %d, \"small_files\": %d, \"landfall_small_s\": %.1f, \"landfall_big_s\": %.1f, \"duckdb_small_s\": %.1f, \"duckdb_big_s\": %.1f, \"ratio_landfall\": %.3f, \"ratio_duckdb\": %.3f, \"ms_per_file\": %.2f, \"parquet_files_small\": %d, \"parquet_files_big\": %d}\n", rows, nsmall, wall["landfall_small"], wall["landfall_big"], wall["duckdb_small"], wall["duckdb_big"], rl, rd, perfile, ps, pb > json
  }' "$results"
cat "$work/small-files.json"
