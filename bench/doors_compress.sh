#!/usr/bin/env bash
# bench/doors_compress.sh [GF] [CSV] [RUNS] - what reading a compressed CSV
# costs gf (docs/FORMATS.md): one aggregate query over the plain file, the
# same file compressed (gzip, zstd, lz4, bzip2: a file gf decompresses into
# memory, then parses in parallel), and gzip piped in from `gzip -dc`; plus
# the system tool decompressing to /dev/null alone, the floor of any
# streaming reader. Wall-clock medians of RUNS (default 5), one line per
# case, to stdout; the raw times too. Default data: the cached G1_1e6 CSV.
set -euo pipefail
gf=${1:-build/gf}
csv=${2:-$HOME/.cache/gopherframe-bench/data/G1_1e6_1e2_0_0.csv}
runs=${3:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-bench-doors.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$csv" "$tmp/g.csv"
gzip -6 -c "$tmp/g.csv" >"$tmp/g.csv.gz"
zstd -q -3 -c "$tmp/g.csv" >"$tmp/g.csv.zst"
lz4 -q -c "$tmp/g.csv" >"$tmp/g.csv.lz4"
bzip2 -9 -c "$tmp/g.csv" >"$tmp/g.csv.bz2"
q=(--agg 'sum(v1) as s,count() as n' --format csv)
# median_ms CMD: runs the shell command RUNS times, prints "median raw...".
median_ms() {
  local times=() t0 t1
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    bash -c "$1" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  echo "$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted") ${times[*]}"
}
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); gf $gf; data $csv ($(stat -c %s "$csv") bytes); runs $runs"
echo "# case median_ms raw_ms..."
printf 'plain %s\n' "$(median_ms "'$gf' query '$tmp/g.csv' ${q[*]@Q}")"
for ext in gz zst lz4 bz2; do
  printf '%s %s\n' "$ext" "$(median_ms "'$gf' query '$tmp/g.csv.$ext' ${q[*]@Q}")"
done
printf 'gz-pipe %s\n' "$(median_ms "gzip -dc '$tmp/g.csv.gz' | '$gf' query - ${q[*]@Q}")"
printf 'tool-gzip-dc %s\n' "$(median_ms "gzip -dc '$tmp/g.csv.gz' >/dev/null")"
printf 'tool-zstd-dc %s\n' "$(median_ms "zstd -q -dc '$tmp/g.csv.zst' >/dev/null")"
printf 'tool-lz4-dc %s\n' "$(median_ms "lz4 -q -dc '$tmp/g.csv.lz4' >/dev/null")"
printf 'tool-bzip2-dc %s\n' "$(median_ms "bzip2 -dc '$tmp/g.csv.bz2' >/dev/null")"
