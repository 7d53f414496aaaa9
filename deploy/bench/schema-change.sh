#!/usr/bin/env bash
# What a definition change costs on a large rows table: fills billing's rows table with ROWS rows
# (by SQL, no pipeline run), then applies three changed definitions in turn, as a restarted
# landfall does before reading anything: a field added (a catalog change), cost widened from
# decimal(14,4) to decimal(18,4) (PostgreSQL rewrites the table and its indexes) and a measure
# added (the aggregate table rebuilt from the rows). Prints each step's time.
#
#   deploy/bench/schema-change.sh [ROWS]      ROWS default 10000000
set -euo pipefail
rows="${1:-10000000}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_DIR:-$root/landfall-work/bench}/schema-change-$rows"
mkdir -p "$work"
cd "$root"

# shellcheck source=deploy/bench/common.sh
. "$root/deploy/bench/common.sh"
bench_build
bench_start_pg
"${bench[@]}" evolve "$jdbc" "$rows"
