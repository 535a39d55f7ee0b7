#!/usr/bin/env bash
# Streamed sort into a Parquet file (issue 21 item 4, issue 18 sinks;
# docs/STREAMING.md): `gf query G1_1e7.csv --sort v3 -o out.parquet`
# (gf_plan_sink_parquet: the sort sink's output goes row group by row group
# into the Parquet sink, gf's default options: snappy, 1Mi-row row groups)
# without a limit and at 400M. Per run: wall time, the whole process's heap
# peak (tools/heapmeter, the LD_PRELOAD interposer), VmHWM (GNU time %M),
# exit status, and whether out.parquet equals the unlimited run's byte for
# byte. Same columns as bench/stream_sort.sh.
# Usage: bench/stream_sort_parquet.sh GF [DATA_DIR] [LIMITS...] > bench/results/stream-sort-parquet-<stamp>.txt
set -uo pipefail
gf=$(realpath "$1")
data=${2:-$HOME/.cache/gopherframe-bench/data}
shift $(($# >= 2 ? 2 : $#))
limits=("$@")
[ ${#limits[@]} -eq 0 ] && limits=(0 400M)
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
so=$work/heapmeter.so
"$here/tools/heapmeter/build.sh" "$so" >/dev/null
trap 'rm -rf "$work"' EXIT
in=$data/G1_1e7_1e2_0_0.csv
echo "# $(date -u +%FT%TZ) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# gf: $gf ($(git -C "$here" rev-parse --short HEAD)); input $in"
echo "# command: gf query INPUT --sort v3 -o OUT.parquet [--memory-limit L]"
printf '%-8s %8s %12s %10s %4s %s\n' limit wall_s heap_peak vmhwm_kb rc same_as_unlimited
for lim in "${limits[@]}"; do
  out=$work/out-$lim.parquet
  limargs=()
  [ "$lim" != 0 ] && limargs=(--memory-limit "$lim")
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/time" env HEAPMETER_OUT="$work/hm" LD_PRELOAD="$so" \
    nice "$gf" query "$in" --sort v3 -o "$out" "${limargs[@]}" >/dev/null 2>"$work/err"
  rc=$?
  t1=$(date +%s.%N)
  peak=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$work/hm" | tail -1)
  hwm=$(tail -1 "$work/time")
  same=-
  if [ "$lim" = 0 ]; then cp "$out" "$work/ref.parquet" 2>/dev/null
  elif [ $rc = 0 ]; then cmp -s "$out" "$work/ref.parquet" && same=yes || same=NO; fi
  msg=$(grep -v '^[0-9]*$' "$work/err" | tail -1 | cut -c1-120)
  printf '%-8s %8.2f %12s %10s %4d %s %s\n' "$lim" "$(echo "$t1 - $t0" | bc)" \
    "${peak:-?}" "$hwm" "$rc" "$same" "$msg"
  rm -f "$out" "$work/hm"
done
