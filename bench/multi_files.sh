#!/usr/bin/env bash
# bench/multi_files.sh [GF] - reading many files as one table
# (docs/FILES.md): the same rows (G1_1e6, and G1_1e7 for big files) split
# into N CSV files, read by `gf query DIR --agg 'sum(v1), count()'` with
# the files read concurrently (a worker per file) or one after another
# (every worker inside each file), against the one file. Prints one JSON
# line per run to stdout; the median of --runs runs is what RESULTS.md
# quotes. The machine is shared: run with nice, read the load average.
set -euo pipefail
gf=$(cd "$(dirname "${1:-build-bench/gf}")" && pwd)/$(basename "${1:-build-bench/gf}")
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

# one CASE MODE RUN PATH...: one timed run, one JSON line (wall and CPU
# seconds from /usr/bin/time, the load average after it).
one() {
  local c=$1 mode=$2 r=$3
  shift 3
  local env=()
  case $mode in
    concurrent) env=(GF_SMALL_FILE_BYTES=1000000000000) ;;
    sequential) env=(GF_SMALL_FILE_BYTES=-1) ;;
  esac
  env "${env[@]}" /usr/bin/time -f '%e %U %S' -o "$work/time" \
    "$gf" query "$@" --threads "$threads" --agg 'sum(v1) as s, count() as n' >/dev/null
  read -r wall user sys <"$work/time"
  printf '{"case":"%s","mode":"%s","run":%d,"threads":%d,"secs":%s,"cpu":%s,"load":"%s"}\n' \
    "$c" "$mode" "$r" "$threads" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

small=$data/G1_1e6_1e2_0_0.csv
split_csv "$small" 200 "$work/s200"
# Modes interleaved run by run, so that load drifting on the shared
# machine hits them alike.
for r in $(seq "$runs"); do
  one "1e6 in 1 file" default "$r" "$small"
  one "1e6 in 200 files" concurrent "$r" "$work/s200"
  one "1e6 in 200 files" sequential "$r" "$work/s200"
done
if [ "${BIG:-1}" = 1 ] && [ -f "$data/G1_1e7_1e2_0_0.csv" ]; then
  split_csv "$data/G1_1e7_1e2_0_0.csv" 4 "$work/b4"
  for r in $(seq "$runs"); do
    one "1e7 in 1 file" default "$r" "$data/G1_1e7_1e2_0_0.csv"
    one "1e7 in 4 files" concurrent "$r" "$work/b4"
    one "1e7 in 4 files" sequential "$r" "$work/b4"
  done
fi
