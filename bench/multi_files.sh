#!/usr/bin/env bash
# bench/multi_files.sh [GF] - reading many files as one table
# (docs/FILES.md): the same rows (G1_1e6, and G1_1e7 for big files) split
# into N CSV files, read by `gf query DIR --agg 'sum(v1), count()'` with
# the files read concurrently (a worker per file) or one after another
# (every worker inside each file), against the one file. Prints one JSON
# line per run to stdout; the median of --runs runs is what RESULTS.md
# quotes. The machine is shared: run with nice, read the load average.
set -euo pipefail
gf=${1:-build-bench/gf}
runs=${RUNS:-5}
threads=${THREADS:-2}
data=${GF_BENCH_DATA:-$HOME/.cache/gopherframe-bench/data}
work=${TMPDIR:-/tmp}/gf-bench-multi
rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# split SRC N DIR: N files of equal row counts, each with the header.
split_csv() {
  local src=$1 n=$2 dir=$3
  mkdir -p "$dir"
  local rows
  rows=$(($(wc -l <"$src") - 1))
  tail -n +2 "$src" | split -d -a 4 -l $(((rows + n - 1) / n)) - "$dir/part-"
  for f in "$dir"/part-*; do
    { head -n 1 "$src"; cat "$f"; } >"$f.csv" && rm "$f"
  done
}

now() { date +%s.%N; }
run() { # case mode path...
  local c=$1 mode=$2
  shift 2
  for r in $(seq "$runs"); do
    local t0 t1
    t0=$(now)
    case $mode in
      concurrent) GF_SMALL_FILE_BYTES=1000000000000 "$gf" query "$@" --threads "$threads" --agg 'sum(v1) as s, count() as n' >/dev/null ;;
      sequential) GF_SMALL_FILE_BYTES=-1 "$gf" query "$@" --threads "$threads" --agg 'sum(v1) as s, count() as n' >/dev/null ;;
      *) "$gf" query "$@" --threads "$threads" --agg 'sum(v1) as s, count() as n' >/dev/null ;;
    esac
    t1=$(now)
    printf '{"case":"%s","mode":"%s","run":%d,"threads":%d,"secs":%s,"load":"%s"}\n' "$c" "$mode" "$r" \
      "$threads" "$(echo "$t1 - $t0" | bc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  done
}

small=$data/G1_1e6_1e2_0_0.csv
split_csv "$small" 200 "$work/s200"
run "1e6 in 1 file" default "$small"
run "1e6 in 200 files" concurrent "$work/s200"
run "1e6 in 200 files" sequential "$work/s200"
run "1e6 in 200 files" default "$work/s200"
if [ "${BIG:-1}" = 1 ] && [ -f "$data/G1_1e7_1e2_0_0.csv" ]; then
  split_csv "$data/G1_1e7_1e2_0_0.csv" 4 "$work/b4"
  run "1e7 in 1 file" default "$data/G1_1e7_1e2_0_0.csv"
  run "1e7 in 4 files" concurrent "$work/b4"
  run "1e7 in 4 files" sequential "$work/b4"
fi
