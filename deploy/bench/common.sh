# Shared steps of the benchmark scripts (sourced, not run). Expects $root and $work.

# bench_build: builds the bundled jar and sets $bench to the BenchTool command (generate data,
# start PostgreSQL, baselines).
bench_build() {
  echo "== building"
  # One reactor build; the runners module comes last, so its test class path is what stays in the file.
  mvn -q -B -DskipTests package dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$work/classpath.txt"
  local cp="$root/runners/target/test-classes:$root/runners/target/classes:$(cat "$work/classpath.txt")"
  bench=(java -cp "$cp" dev.landfall.runners.bench.BenchTool)
}

# bench_generate DIR ROWS [FILES]: clean billing rows (as about FILES files), generated once per folder.
bench_generate() {
  if [ ! -d "$1" ]; then
    echo "== generating $2 rows under $1"
    "${bench[@]}" generate "$1" "$2" "${3:-0}"
  fi
}

# bench_start_pg: a fresh embedded PostgreSQL under $work/pgdata, stopped when the script exits;
# sets $jdbc and $pg_port.
bench_start_pg() {
  echo "== starting PostgreSQL"
  rm -rf "$work/pgdata"
  "${bench[@]}" pg "$work/pgdata" > "$work/pg.log" 2>&1 &
  pg_pid=$!
  trap 'kill $pg_pid 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do grep -q '^ready' "$work/pg.log" && break; sleep 0.5; done
  jdbc=$(grep '^ready' "$work/pg.log" | cut -d' ' -f2)
  [ -n "$jdbc" ] || { echo "PostgreSQL did not start:"; cat "$work/pg.log"; exit 1; }
  pg_port=$(echo "$jdbc" | sed -E 's#.*:([0-9]+)/.*#\1#')
}
