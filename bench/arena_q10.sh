#!/usr/bin/env bash
# q10 in memory before/after arena reuse (issue 19 item 4), one process per
# mode, the modes side by side in one run: "off" is the same binary with
# GF_ARENA_MAX_BYTES=0 (arenas cache nothing: every call's scratch is
# allocated and first-touched afresh, the behaviour before the arenas),
# "on" the default. Each mode runs bench_groupby q10 RUNS times on the
# loaded G1 frame:
#   1. under perf stat (page-faults, task-clock for the whole process) -
#      bench_groupby's JSON line carries per-run wall, CPU and minor faults
#      (getrusage), which isolate the group-by from the untimed CSV load;
#   2. under perf record with DWARF call graphs: the page-fault share is the
#      share of samples under asm_exc_page_fault, of the whole process and
#      of the samples inside gf_group_by (the timed part).
#   bench/arena_q10.sh BUILD G1.csv OUT_PREFIX [RUNS] [THREADS]
# Writes OUT_PREFIX.jsonl (one line per mode and pass, plus meta lines).
set -u
[ $# -ge 3 ] || { sed -n '2,17p' "$0"; exit 2; }
BUILD=$1 G1=$2 OUT=$3 RUNS=${4:-5} T=${5:-2}
BIN=$BUILD/bench/bench_groupby
J=$OUT.jsonl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "{\"meta\":true,\"what\":\"arena q10 before/after\",\"start\":\"$(date -u +%FT%TZ)\",\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"nproc\":$(nproc),\"command\":\"bench/arena_q10.sh $*\",\"commit\":\"$(git -C "$(dirname "$0")" rev-parse --short HEAD)\"}" > "$J"
for mode in off on; do
  env_cap=(); [ $mode = off ] && env_cap=(GF_ARENA_MAX_BYTES=0)
  # Pass 1: perf stat.
  env "${env_cap[@]}" nice perf stat -x, -e page-faults,task-clock -o "$TMP/stat" \
    "$BIN" q10 "$G1" "$T" "$RUNS" > "$TMP/line"
  pf=$(awk -F, '$3=="page-faults"{print $1}' "$TMP/stat")
  tc=$(awk -F, '$3=="task-clock"{print $1}' "$TMP/stat")
  sed "s/^{/{\"mode\":\"$mode\",\"pass\":\"stat\",\"process_page_faults\":$pf,\"process_task_clock_ms\":$tc,/" "$TMP/line" >> "$J"
  # Pass 2: perf record, DWARF call graphs at 99 Hz.
  env "${env_cap[@]}" nice perf record -q -F 99 --call-graph dwarf,16384 -o "$TMP/perf.data" \
    "$BIN" q10 "$G1" "$T" "$RUNS" > "$TMP/line" 2>/dev/null
  perf script -i "$TMP/perf.data" 2>/dev/null | awk -v mode="$mode" '
    function flush() { if (!insample) return; all++; if (fault) af++;
                       if (gb) { g++; if (fault) gf++; }
                       insample = 0; fault = 0; gb = 0 }
    /^[^ \t]/ { flush(); insample = 1; next }
    /asm_exc_page_fault/ { fault = 1 }
    /gf_group_by/ { gb = 1 }
    END { flush();
          printf "{\"mode\":\"%s\",\"pass\":\"perf_record\",\"samples\":%d,\"fault_samples\":%d,", mode, all, af;
          printf "\"fault_share\":%.4f,\"groupby_samples\":%d,\"groupby_fault_samples\":%d,", (all ? af / all : 0), g, gf;
          printf "\"groupby_fault_share\":%.4f}\n", (g ? gf / g : 0) }' >> "$J"
  sed "s/^{/{\"mode\":\"$mode\",\"pass\":\"record\",/" "$TMP/line" >> "$J"
done
echo "{\"meta\":true,\"end\":\"$(date -u +%FT%TZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$J"
cat "$J"
