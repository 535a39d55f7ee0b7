#!/usr/bin/env bash
# Latency of gf's reaction to a hostile environment (docs/RELIABILITY.md
# section 8): for each case, N trials; prints one line per trial and a
# summary (p50, max) in ms.
#   tools/hostile/latency.sh GF_BINARY [N]
# Cases: SIGTERM and SIGINT during a large `gf gen` write (signal -> exit),
# SIGINT on a FIFO whose writer never writes (signal -> exit),
# --timeout-ms 300 on /dev/zero and on a silent FIFO (start -> exit).
set -uo pipefail
gf=$1
n=${2:-10}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-latency.XXXXXX")
trap 'exec 8>&- 2>/dev/null; rm -rf "$tmp"' EXIT
now() { date +%s%N; }
summary() { # name values...
  local name=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v name="$name" '{v[NR]=$1} END {
    p50 = v[int((NR + 1) / 2)]; printf "%-28s n=%d p50=%d ms max=%d ms\n", name, NR, p50, v[NR] }'
}
echo "# $(date -u +%FT%TZ) $(uname -r) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# gf: $("$gf" --version | head -1)"
for sig in TERM INT; do
  vals=()
  for ((i = 0; i < n; i++)); do
    "$gf" gen groupby --rows 50000000 --k 100 -o "$tmp/big.csv" >/dev/null 2>&1 &
    pid=$!
    until ls -a "$tmp" | grep -q gf-tmp; do sleep 0.02; done
    sleep 0.3
    t0=$(now); kill -$sig $pid; wait $pid; rc=$?; t1=$(now)
    left=$(ls -a "$tmp" | grep -c gf-tmp)
    ms=$(( (t1 - t0) / 1000000 ))
    echo "SIG$sig during gen write: trial $i exit $rc temporary files left $left: $ms ms"
    vals+=("$ms")
  done
  summary "SIG$sig during gen write" "${vals[@]}"
done
mkfifo "$tmp/fifo"
exec 8<>"$tmp/fifo"
vals=()
for ((i = 0; i < n; i++)); do
  "$gf" query "$tmp/fifo" >/dev/null 2>&1 &
  pid=$!
  sleep 0.3
  t0=$(now); kill -INT $pid; wait $pid; rc=$?; t1=$(now)
  ms=$(( (t1 - t0) / 1000000 )); echo "SIGINT on a silent FIFO: trial $i exit $rc: $ms ms"; vals+=("$ms")
done
summary "SIGINT on a silent FIFO" "${vals[@]}"
for src in /dev/zero "$tmp/fifo"; do
  vals=()
  for ((i = 0; i < n; i++)); do
    t0=$(now); "$gf" query "$src" --timeout-ms 300 >/dev/null 2>&1; rc=$?; t1=$(now)
    ms=$(( (t1 - t0) / 1000000 )); echo "--timeout-ms 300 on $src: trial $i exit $rc: $ms ms"; vals+=("$ms")
  done
  summary "--timeout-ms 300 on $(basename "$src")" "${vals[@]}"
done
