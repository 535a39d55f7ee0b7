#!/usr/bin/env bash
# Spilling under --memory-limit (docs/SPILLING.md): each operation on the
# G1_1e7 data without a limit and at 1G, 500M, 450M, 400M and 200M; per run the wall
# time, the whole process's heap peak (tools/heapmeter), the exit status,
# the number of temporary files opened (strace, O_TMPFILE) and whether the
# output file equals the unlimited run's byte for byte.
# Usage: bench/spill.sh GF [DATA_DIR] > bench/results/spill-<stamp>.txt
set -uo pipefail
gf=$(realpath "$1")
data=${2:-$HOME/.cache/gopherframe-bench/data}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
so=$work/heapmeter.so
"$here/tools/heapmeter/build.sh" "$so" >/dev/null
trap 'rm -rf "$work"' EXIT
ops=(
  "sort-v3-arrow|query --sort v3 -o $work/OUT.arrow $data/G1_1e7_1e2_0_0.arrow"
  "sort-v3-csv|query --sort v3 -o $work/OUT.arrow $data/G1_1e7_1e2_0_0.csv"
  "q10-arrow|query --group-by id1,id2,id3,id4,id5,id6 --agg sum(v3),count() -o $work/OUT.arrow $data/G1_1e7_1e2_0_0.arrow"
)
echo "# $(date -u +%FT%TZ) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# gf: $gf ($(git -C "$here" rev-parse --short HEAD))"
printf '%-16s %6s %8s %12s %5s %6s %s\n' op limit wall_s heap_peak rc tmpfiles same_as_unlimited
for op in "${ops[@]}"; do
  name=${op%%|*} args=${op#*|}
  for lim in 0 1G 500M 450M 400M 200M; do
    out=$work/$name-$lim.arrow
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
    tmpf=$(grep -c O_TMPFILE "$work/st")
    same=-
    if [ "$lim" = 0 ]; then cp "$out" "$work/$name-ref.arrow" 2>/dev/null
    elif [ $rc = 0 ]; then cmp -s "$out" "$work/$name-ref.arrow" && same=yes || same=NO; fi
    msg=$(tail -1 "$work/err" | cut -c1-120)
    printf '%-16s %6s %8.2f %12s %5d %6d %s %s\n' "$name" "$lim" "$(echo "$t1 - $t0" | bc)" \
      "${peak:-?}" "$rc" "$tmpf" "$same" "$msg"
    rm -f "$out" "$work/hm"
  done
done
