#!/usr/bin/env bash
# Issue 19 "Done when" table through the CLI with the Arrow IPC file sink:
# `gf query ... -o out.arrow` (group-by, sort and join results streamed into
# the file) for q10, sort v3, j3 and j5 at no limit / 1G / 400M / 200M.
# Per run: wall time, whole-process heap peak (tools/heapmeter, LD_PRELOAD
# interposer, every malloc counted), VmHWM (GNU time %M; includes resident
# pages of mapped spill files), exit status, the 1-minute load average
# before and after the run (the machine is shared), the output's size.
# At the end each limited run's out.arrow is compared with the unlimited
# run's: cmp (byte identity); when the bytes differ, pyarrow reads both and
# says whether the tables are equal.
#
# The same script the bench/stream_sort.sh, bench/gbspill.sh and
# bench/stream_joins.sh runs used, but one CLI for all four queries (those
# scripts drive bench_* programs writing CSV for q10 and the joins).
#
# Usage: [RUNS="op:limit ..."] [DEADLINE=HH:MM] [KEEP=dir] \
#        bench/issue19_targets.sh GF [DATA_DIR] > bench/results/issue19-targets-<stamp>.txt
#   op is q10|sort|j3|j5, limit 0 (none) or a --memory-limit value. The
#   default order puts the limited 400M runs first, the cheap unlimited
#   references next (needed for the comparison), and unlimited j5 last.
#   DEADLINE (UTC, today): a run is not started after it, and a run still
#   going at it is killed (reported rc=124).
set -uo pipefail
gf=$(realpath "$1")
data=${2:-$HOME/.cache/gopherframe-bench/data}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[ -z "${KEEP:-}" ] && trap 'rm -rf "$work"' EXIT
so=$work/heapmeter.so
"$here/tools/heapmeter/build.sh" "$so" >/dev/null
py=
for c in "$here/build/pyenv/bin/python" "$HOME/.cache/gopherframe-bench/venv/bin/python"; do
  [ -x "$c" ] && "$c" -c 'import pyarrow' 2>/dev/null && { py=$c; break; }
done
runs=${RUNS:-"q10:400M sort:400M j3:400M j5:400M q10:0 sort:0 j3:0 q10:200M sort:200M j3:200M j5:200M q10:1G sort:1G j3:1G j5:1G j5:0"}
end=0
[ -n "${DEADLINE:-}" ] && end=$(date -u -d "today ${DEADLINE} UTC" +%s)

g1=$data/G1_1e7_1e2_0_0.csv
x=$data/J1_1e7_NA_0_0.csv
args_of() {
  case $1 in
    q10) echo "$g1 --group-by id1,id2,id3,id4,id5,id6 --agg sum(v3),count()" ;;
    sort) echo "$g1 --sort v3" ;;
    j3) echo "$x --join $data/J1_1e7_1e4_0_0.csv --on id2 --how left" ;;
    j5) echo "$x --join $data/J1_1e7_1e7_0_0.csv --on id3" ;;
  esac
}
load1() { cut -d' ' -f1 /proc/loadavg; }

echo "# $(date -u +%FT%TZ) $(nproc) cpus, load: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine, other engineers building)"
echo "# gf: $gf ($(git -C "$here" rev-parse --short HEAD)); data $data; pyarrow: ${py:--}"
for op in q10 sort j3 j5; do echo "# $op: gf query $(args_of $op) -o OUT.arrow [--memory-limit L]"; done
echo "# heap_peak: bytes (heapmeter); within = heap_peak <= limit + max(2%, 8 MiB)"
printf '%-4s %-5s %8s %12s %9s %-6s %10s %3s %6s %6s %11s %s\n' \
  op limit wall_s heap_peak heap_mib within vmhwm_kb rc load0 load1 out_bytes message
for r in $runs; do
  op=${r%%:*} lim=${r#*:}
  out=$work/$op-$lim.arrow
  now=$(date +%s)
  if [ "$end" != 0 ] && [ "$now" -ge "$end" ]; then
    printf '%-4s %-5s skipped: past the deadline %s UTC\n' "$op" "$lim" "$DEADLINE"; continue
  fi
  to=()
  [ "$end" != 0 ] && to=(timeout "$((end - now))")
  limargs=()
  [ "$lim" != 0 ] && limargs=(--memory-limit "$lim")
  rm -f "$out" "$work/hm"
  l0=$(load1)
  t0=$(date +%s.%N)
  # shellcheck disable=SC2046
  /usr/bin/time -f '%M' -o "$work/time" "${to[@]}" env HEAPMETER_OUT="$work/hm" LD_PRELOAD="$so" \
    nice "$gf" query $(args_of "$op") -o "$out" "${limargs[@]}" >/dev/null 2>"$work/err"
  rc=$?
  t1=$(date +%s.%N)
  l1=$(load1)
  peak=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$work/hm" 2>/dev/null | tail -1)
  hwm=$(grep -E '^[0-9]+$' "$work/time" 2>/dev/null | tail -1)
  within=-
  if [ "$lim" != 0 ] && [ -n "$peak" ]; then
    case $lim in *G) b=$(( ${lim%G} << 30 )) ;; *M) b=$(( ${lim%M} << 20 )) ;; *) b=$lim ;; esac
    within=$(awk -v p="$peak" -v l="$b" 'BEGIN { s = l * 0.02; if (s < 8388608) s = 8388608; print (p <= l + s) ? "yes" : "OVER" }')
  fi
  msg=$(grep -v -E '^[0-9]+$|^Command exited' "$work/err" | tail -1 | cut -c1-120)
  printf '%-4s %-5s %8.2f %12s %9s %-6s %10s %3d %6s %6s %11s %s\n' "$op" "$lim" \
    "$(echo "$t1 - $t0" | bc)" "${peak:-?}" \
    "$( [ -n "$peak" ] && awk -v h="$peak" 'BEGIN{printf "%.1f", h/1048576}' || echo '?')" \
    "$within" "${hwm:-?}" "$rc" "$l0" "$l1" "$(stat -c %s "$out" 2>/dev/null || echo -)" "$msg"
  [ $rc = 0 ] || rm -f "$out"
done

echo "# comparison with the unlimited run's out.arrow ($(date -u +%FT%TZ))"
for op in q10 sort j3 j5; do
  ref=$work/$op-0.arrow
  for out in "$work/$op"-*.arrow; do
    [ -f "$out" ] && [ "$out" != "$ref" ] || continue
    lim=${out##*/$op-} lim=${lim%.arrow}
    if [ ! -f "$ref" ]; then echo "$op $lim: no unlimited reference (not run or failed)"; continue; fi
    if cmp -s "$ref" "$out"; then echo "$op $lim: byte-identical"; continue; fi
    if [ -z "$py" ]; then echo "$op $lim: bytes DIFFER (no pyarrow to compare tables)"; continue; fi
    eq=$("$py" - "$ref" "$out" <<'EOF'
import sys, pyarrow as pa
def rd(p):
    with pa.memory_map(p) as f:
        return pa.ipc.open_file(f).read_all()
a, b = rd(sys.argv[1]), rd(sys.argv[2])
print("tables equal" if a.equals(b) else
      "tables DIFFER (rows %d vs %d)" % (a.num_rows, b.num_rows))
EOF
)
    echo "$op $lim: bytes differ; pyarrow: $eq"
  done
done
