#!/usr/bin/env bash
# Memory of a streaming query against the size of its CSV input (issue 18,
# item 5): for each file, the heap peak of the whole gf process (the
# LD_PRELOAD interposer tools/heapmeter, which counts every malloc) and the
# resident high-water mark VmHWM (GNU time's %M; it counts the file pages
# mapped while they are resident, which the source drops window by window
# with MADV_DONTNEED), plus wall time and the exit status.
# Usage: bench/stream_memory.sh GF OUT FILE... (LIMIT env: --memory-limit,
# default 512M; MATERIALISE=1: add --profile, which keeps the
# operator-by-operator path, and no limit). One line per file appended to OUT.
set -uo pipefail
gf=$1 out=$2
shift 2
limit=${LIMIT:-512M}
here=$(cd "$(dirname "$0")/.." && pwd)
so=$(bash "$here/tools/heapmeter/build.sh" "$(mktemp -d)/heapmeter.so")
q=(--filter 'v1 > 3' --group-by id1 --agg 'sum(v3)' --memory-limit "$limit")
if [ "${MATERIALISE:-0}" = 1 ]; then
  limit=none
  q=(--filter 'v1 > 3' --group-by id1 --agg 'sum(v3)' --profile)
fi
for f in "$@"; do
  size=$(stat -c %s "$f")
  hp=$(mktemp) tm=$(mktemp)
  HEAPMETER_OUT=$hp LD_PRELOAD=$so "$gf" query "$f" "${q[@]}" >/dev/null 2>"$hp.err"
  rc=$?
  heap=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$hp" | tail -1)
  /usr/bin/time -f '%e %M' -o "$tm" "$gf" query "$f" "${q[@]}" >"$hp.out" 2>>"$hp.err"
  rc2=$?
  read -r wall hwm_kb <"$tm"
  printf '%s file=%s bytes=%s mode=%s limit=%s heap_peak=%s vmhwm_kb=%s wall_s=%s rc=%s,%s groups=%s err=%s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$f")" "$size" \
    "$([ "${MATERIALISE:-0}" = 1 ] && echo 'materialising(--profile)' || echo streaming)" "$limit" "$heap" "$hwm_kb" "$wall" \
    "$rc" "$rc2" "$(($(wc -l <"$hp.out") - 1))" "$(tail -1 "$hp.err" | cut -c1-100)" | tee -a "$out"
  rm -f "$hp" "$hp.err" "$hp.out" "$tm"
done
