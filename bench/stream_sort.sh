#!/usr/bin/env bash
# Streamed sort into a file (issue 19 "Done when", issue 18 item 1 sinks;
# docs/STREAMING.md): `gf query G1_1e7.csv --sort v3 -o out.arrow` without a
# limit and at 1G / 400M / 200M. Per run: wall time, the whole process's
# heap peak (tools/heapmeter, the LD_PRELOAD interposer), VmHWM (GNU time
# %M, includes the mapped spill file's resident pages), exit status, and
# whether out.arrow equals the unlimited run's byte for byte.
# Usage: bench/stream_sort.sh GF [DATA_DIR] > bench/results/stream-sort-<stamp>.txt
set -uo pipefail
gf=$(realpath "$1")
data=${2:-$HOME/.cache/gopherframe-bench/data}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
so=$work/heapmeter.so
"$here/tools/heapmeter/build.sh" "$so" >/dev/null
trap 'rm -rf "$work"' EXIT
in=$data/G1_1e7_1e2_0_0.csv
echo "# $(date -u +%FT%TZ) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# gf: $gf ($(git -C "$here" rev-parse --short HEAD)); input $in"
echo "# command: gf query INPUT --sort v3 -o OUT.arrow [--memory-limit L]"
printf '%-8s %8s %12s %10s %4s %s\n' limit wall_s heap_peak vmhwm_kb rc same_as_unlimited
for lim in 0 1G 400M 200M; do
  out=$work/out-$lim.arrow
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
  if [ "$lim" = 0 ]; then cp "$out" "$work/ref.arrow" 2>/dev/null
  elif [ $rc = 0 ]; then cmp -s "$out" "$work/ref.arrow" && same=yes || same=NO; fi
  msg=$(grep -v '^[0-9]*$' "$work/err" | tail -1 | cut -c1-120)
  printf '%-8s %8.2f %12s %10s %4d %s %s\n' "$lim" "$(echo "$t1 - $t0" | bc)" \
    "${peak:-?}" "$hwm" "$rc" "$same" "$msg"
  rm -f "$out" "$work/hm"
done
