#!/usr/bin/env bash
# Runs one gf command under heapmeter and prints one line:
#   name  limit  heap-peak  peak/limit  exit  message
# Usage: measure.sh GF HEAPMETER_SO NAME LIMIT_BYTES -- gf-args...
# (LIMIT_BYTES 0 = no --memory-limit). The gf process's whole heap is
# measured, whatever allocates it (library, CLI, codecs, libc).
set -uo pipefail
gf=$1 so=$2 name=$3 limit=$4
shift 5
out=$(mktemp) err=$(mktemp)
lim=()
[ "$limit" != 0 ] && lim=(--memory-limit "$limit")
HEAPMETER_OUT=$out LD_PRELOAD=$so "$gf" "$@" "${lim[@]}" >/dev/null 2>"$err"
rc=$?
peak=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$out" | tail -1)
msg=$(grep -v '^$' "$err" | tail -1 | cut -c1-110)
if [ "$limit" != 0 ]; then
  ratio=$(awk -v p="$peak" -v l="$limit" 'BEGIN { printf "%.3f", p / l }')
  slack=$(awk -v l="$limit" 'BEGIN { s = l * 0.02; if (s < 8388608) s = 8388608; printf "%d", l + s }')
  verdict=$([ "$peak" -le "$slack" ] && echo within || echo OVER)
else
  ratio=- verdict=-
fi
printf '%-22s %12s %12s %7s %-6s rc=%d %s\n' "$name" "$limit" "$peak" "$ratio" "$verdict" "$rc" "$msg"
rm -f "$out" "$err"
