#!/usr/bin/env bash
# Streaming file sources (issue 18, items 1-3): `gf query FILE --filter
# 'v1 > 3' --group-by id1 --agg 'sum(v3)'` over an Arrow IPC file, a Parquet
# file and a CSV file, streamed and materialised (--profile keeps the
# operator-by-operator path, which reads the whole file first), and for
# every file streamed with the prefetching producer off
# (GF_STREAM_PREFETCH=0, the driver of before item 2) and on.
# Per mode: the heap peak of the whole process (tools/heapmeter, the
# LD_PRELOAD interposer), then RUNS timed runs (wall, CPU = user + sys and
# VmHWM from GNU time; the median is what RESULTS.md quotes) and the md5 of the output
# (the same for every mode: the answers are bit-identical).
# Usage: bench/stream_sources.sh GF OUT FILE... (RUNS env, default 3).
set -uo pipefail
gf=$1 out=$2
shift 2
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
so=$(bash "$here/tools/heapmeter/build.sh" "$(mktemp -d)/heapmeter.so")
q=(--filter 'v1 > 3' --group-by id1 --agg 'sum(v3)')
for f in "$@"; do
  size=$(stat -c %s "$f")
  for mode in materialised stream_noprefetch stream; do
    extra=() envs=()
    case $mode in
    materialised) extra=(--profile) ;;
    stream_noprefetch) envs=(GF_STREAM_PREFETCH=0) ;;
    esac
    hp=$(mktemp) tm=$(mktemp) o=$(mktemp)
    env "${envs[@]}" HEAPMETER_OUT="$hp" LD_PRELOAD="$so" "$gf" query "$f" "${q[@]}" "${extra[@]}" >/dev/null 2>"$hp.err"
    heap=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$hp" | tail -1)
    walls="" hwms="" cpus=""
    for _ in $(seq "$runs"); do
      env "${envs[@]}" /usr/bin/time -f '%e %M %U %S' -o "$tm" "$gf" query "$f" "${q[@]}" "${extra[@]}" >"$o" 2>>"$hp.err"
      read -r wall hwm us ss <"$tm"
      walls="$walls${walls:+,}$wall" hwms="$hwms${hwms:+,}$hwm"
      cpus="$cpus${cpus:+,}$(echo "$us + $ss" | bc)"
    done
    sum=$(grep -v '^#' "$o" | md5sum | cut -c1-12)
    printf '%s file=%s bytes=%s mode=%s heap_peak=%s vmhwm_kb=%s wall_s=%s cpu_s=%s out_md5=%s load=%s err=%s\n' \
      "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$f")" "$size" "$mode" "$heap" "$hwms" "$walls" "$cpus" \
      "$sum" "$(cut -d' ' -f1 /proc/loadavg)" "$(tail -1 "$hp.err" | cut -c1-100)" | tee -a "$out"
    rm -f "$hp" "$hp.err" "$tm" "$o"
  done
done
