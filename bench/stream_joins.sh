#!/usr/bin/env bash
# Streaming join (plan_stream_join.c) under --memory-limit on the J1_1e7
# CSV tables, the result written to a CSV file batch by batch
# (bench_join_stream: gf_plan_sink_csv): j3 (x left join medium on id2)
# and j5 (x inner join big on id3), per limit: wall time, whole-process
# heap peak (tools/heapmeter, LD_PRELOAD), VmHWM, exit status and byte
# equality of the output with the unlimited run.
# Usage: [OPS="j3 j5"] [LIMITS="0 1G 400M 200M"] bench/stream_joins.sh BUILD_DIR [DATA_DIR] \
#          > bench/results/stream-joins-<stamp>.txt   (LIMITS must start with 0: the reference)
set -uo pipefail
drv=$(realpath "$1/bench/bench_join_stream")
data=${2:-$HOME/.cache/gopherframe-bench/data}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
so=$work/heapmeter.so
"$here/tools/heapmeter/build.sh" "$so" >/dev/null
x=$data/J1_1e7_NA_0_0.csv
ops=(
  "j3|$x $data/J1_1e7_1e4_0_0.csv id2 left"
  "j5|$x $data/J1_1e7_1e7_0_0.csv id3 inner"
)
echo "# $(date -u +%FT%TZ) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine)"
echo "# driver: $drv ($(git -C "$here" rev-parse --short HEAD))"
printf '%-4s %8s %8s %12s %10s %3s %s\n' op limit wall_s heap_peak vmhwm_mib rc same_as_unlimited
for op in "${ops[@]}"; do
  name=${op%%|*} args=${op#*|}
  case " ${OPS:-j3 j5} " in *" $name "*) ;; *) continue ;; esac
  for lim in ${LIMITS:-0 1G 400M 200M}; do
    case $lim in 0) b=0 ;; *G) b=$(( ${lim%G} << 30 )) ;; *M) b=$(( ${lim%M} << 20 )) ;; esac
    out=$work/$name-$lim.csv
    # shellcheck disable=SC2086
    line=$(env HEAPMETER_OUT="$work/hm" LD_PRELOAD="$so" nice "$drv" $args "$out" "$b" 2>"$work/err")
    rc=$?
    peak=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$work/hm" | tail -1)
    wall=$(echo "$line" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')
    hwm=$(echo "$line" | sed -n 's/.*vmhwm_mib=\([0-9]*\).*/\1/p')
    same=-
    if [ "$lim" = 0 ]; then
      mv "$out" "$work/$name-ref.csv"
    elif [ $rc = 0 ]; then
      cmp -s "$out" "$work/$name-ref.csv" && same=yes || same=NO
      rm -f "$out"
    fi
    printf '%-4s %8s %8s %12s %10s %3d %s %s\n' "$name" "$lim" "${wall:-?}" "${peak:-?}" \
      "${hwm:-?}" "$rc" "$same" "$(echo "$line" | sed -n 's/.*status=[0-9-]* //p' | cut -c1-120)"
    rm -f "$work/hm"
  done
  rm -f "$work/$name-ref.csv"
done
