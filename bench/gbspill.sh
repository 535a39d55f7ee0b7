#!/usr/bin/env bash
# q10 (group by id1..id6: sum(v3), count(); 10M groups on G1_1e7) through
# the streaming group-by sink, written to CSV with gf_plan_sink_csv
# (bench/bench_gbspill.c) at several memory limits (issue 19 item 1): wall
# time, the heap peak of the whole process (LD_PRELOAD interposer
# tools/heapmeter, every malloc counted), VmHWM (GNU time %M), spill
# directory, and whether the output is byte-identical to the unlimited
# run's (cmp). One line per limit appended to OUT.
# Usage: bench/gbspill.sh BUILD_DIR OUT [CSV] (LIMITS env: default
# "0 1G 400M 200M", 0 = none; WORKERS env: default all cores; REF env: an
# earlier unlimited run's output to compare with instead of the first
# limit's).
set -uo pipefail
build=$1 out=$2
csv=${3:-$HOME/.cache/gopherframe-bench/data/G1_1e7_1e2_0_0.csv}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bench/bench_gbspill
so=$(bash "$here/tools/heapmeter/build.sh" "$(mktemp -d)/heapmeter.so")
work=$(mktemp -d)
bytes() {
  case $1 in
    0) echo 0 ;;
    *G) echo $((${1%G} << 30)) ;;
    *M) echo $((${1%M} << 20)) ;;
    *) echo "$1" ;;
  esac
}
limits=${LIMITS:-0 1G 400M 200M}
ref=${REF:-}
keep=$work/ref.csv
for lim in $limits; do
  b=$(bytes "$lim")
  hp=$work/heap tm=$work/time res=$work/res
  HEAPMETER_OUT=$hp LD_PRELOAD=$so nice "$bin" "$csv" "$work/out_$lim.csv" "$b" ${WORKERS:-} >"$res" 2>&1
  rc=$?
  heap=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$hp" | tail -1)
  /usr/bin/time -f '%e %M' -o "$tm" nice "$bin" "$csv" "$work/out_$lim.csv" "$b" ${WORKERS:-} >>"$res" 2>&1
  rc2=$?
  read -r wall hwm_kb <"$tm"
  if [ -z "$ref" ]; then mv "$work/out_$lim.csv" "$keep"; ref=$keep; cp "$ref" "$work/out_$lim.csv"; fi
  same=$(cmp -s "$ref" "$work/out_$lim.csv" && echo yes || echo no)
  rows=$(($(wc -l <"$work/out_$lim.csv") - 1))
  printf '%s file=%s limit=%s limit_bytes=%s heap_peak=%s heap_peak_mib=%s vmhwm_kb=%s wall_s=%s rc=%s,%s rows=%s same_as_first=%s load=%s msg=%s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$csv")" "$lim" "$b" "$heap" \
    "$(awk -v h="$heap" 'BEGIN{printf "%.1f", h/1048576}')" "$hwm_kb" "$wall" "$rc" "$rc2" "$rows" "$same" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$(tr '\n' ' ' <"$res" | cut -c1-160)" | tee -a "$out"
  rm -f "$work/out_$lim.csv"
done
rm -rf "$work"
