#!/usr/bin/env bash
# Grace join under --memory-limit on the J1_1e6 tables (converted to Arrow
# IPC first, so the inputs are memory-mapped and the heap is the join's):
# j3 (left join on id2 with the 1e3 table) and j5 (inner join on id3 with
# the 1e6 table), per limit: wall time, whole-process heap peak
# (tools/heapmeter), exit status, temporary files opened (strace) and byte
# equality of the output with the unlimited run.
# Usage: bench/spill_joins.sh GF [DATA_DIR] > bench/results/spill-joins-<stamp>.txt
set -uo pipefail
gf=$(realpath "$1")
data=${2:-$HOME/.cache/gopherframe-bench/data}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
so=$work/heapmeter.so
"$here/tools/heapmeter/build.sh" "$so" >/dev/null
for t in NA_0_0 1e6_0_0 1e3_0_0; do "$gf" convert "$data/J1_1e6_$t.csv" "$work/J1_$t.arrow"; done
ops=(
  "j3|query $work/J1_NA_0_0.arrow --join $work/J1_1e3_0_0.arrow --on id2 --how left -o $work/OUT.arrow"
  "j5|query $work/J1_NA_0_0.arrow --join $work/J1_1e6_0_0.arrow --on id3 -o $work/OUT.arrow"
)
echo "# $(date -u +%FT%TZ) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# gf: $gf ($(git -C "$here" rev-parse --short HEAD))"
printf '%-6s %10s %8s %12s %5s %6s %s\n' op limit wall_s heap_peak rc tmpfiles same_as_unlimited
for op in "${ops[@]}"; do
  name=${op%%|*} args=${op#*|}
  for lim in 0 1G 400M 200M 75M 60M; do
    a=${args//OUT.arrow/$name-$lim.arrow}
    limargs=()
    [ "$lim" != 0 ] && limargs=(--memory-limit "$lim")
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    strace -f -qq -e trace=openat -o "$work/st" env HEAPMETER_OUT="$work/hm" LD_PRELOAD="$so" \
      nice "$gf" $a "${limargs[@]}" >/dev/null 2>"$work/err"
    rc=$?
    t1=$(date +%s.%N)
    peak=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$work/hm" | tail -1)
    same=-
    [ "$lim" = 0 ] && cp "$work/$name-$lim.arrow" "$work/$name-ref.arrow"
    if [ "$lim" != 0 ] && [ $rc = 0 ]; then
      cmp -s "$work/$name-$lim.arrow" "$work/$name-ref.arrow" && same=yes || same=NO
    fi
    printf '%-6s %10s %8.2f %12s %5d %6d %s %s\n' "$name" "$lim" "$(echo "$t1 - $t0" | bc)" \
      "${peak:-?}" "$rc" "$(grep -c O_TMPFILE "$work/st")" "$same" "$(tail -1 "$work/err" | cut -c1-100)"
    rm -f "$work/hm"
  done
done
