#!/usr/bin/env bash
# What decimal128 costs next to float64 on the same values (issue 16):
# group-by sum, a fused arithmetic + aggregate, a filter and a top-k sort,
# each through `gf query` over an Arrow IPC file of N rows (default 1e6)
# holding v3 (float64) and d3 = cast(v3 as decimal(18, 6)). Prints one line
# per case: median and fastest wall seconds of RUNS runs (default 5) and
# the load average, to stdout and to bench/results/decimal-<UTC time>.txt.
#
#   bench/decimal_cost.sh [build-dir]      # N=1e6 RUNS=5 by default
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
GF="$BUILD/gf"
N=${N:-1e6}
RUNS=${RUNS:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OUT="bench/results/decimal-$(date -u +%Y%m%dT%H%M%SZ).txt"

"$GF" gen groupby --rows "$N" -k 100 --seed 7 -o "$TMP/g.csv" >/dev/null
"$GF" query "$TMP/g.csv" --with 'd3 = cast(v3 as decimal(18, 6))' --select id4,v3,d3 \
  -o "$TMP/d.arrow" >/dev/null

# median and min of RUNS timings of one command (stdout discarded)
run_case() {
  local name=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$GF" query "$TMP/d.arrow" "$@" --format csv >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  local med min
  med=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
  min=$(echo "$sorted" | head -1)
  printf '%-22s median %.3f s  min %.3f s  load %s\n' "$name" "$med" "$min" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

{
  echo "# bench/decimal_cost.sh N=$N RUNS=$RUNS $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs"
  for col in v3 d3; do
    run_case "groupby_sum_$col" --group-by id4 --agg "sum($col)"
    run_case "arith_max_$col" --with "w = $col * 3 + $col" --agg "max(w)"
    run_case "filter_count_$col" --filter "$col > 50" --agg "count()"
    run_case "topk_sort_$col" --sort "$col desc" --limit 10
  done
} | tee "$OUT"
echo "raw: $OUT" >&2
