#!/usr/bin/env bash
# bench/csv_lead.sh [--runs R] [--peer-threads T] FILE...
#
# Issue 18 item 4 in one session: for each CSV FILE, `csv_load` (the read
# into an in-memory frame, timed) by ours at 1 and 2 workers and by the
# Python peers (Polars, DuckDB; ~/.cache/gopherframe-bench/venv) at
# --peer-threads (default 2), the systems in an order that rotates per file;
# and the STREAM-style copy bandwidth at 1 and 2 workers (bench_runtime
# --quick) before and after, so that our 1 -> 2 worker scaling can be set
# against the copy scaling measured in the same run. Ours is
# build-bench/bench/bench_csv (GF_BENCH_BUILD overrides).
#
# Output: bench/results/csv-lead-<UTC>.jsonl (one JSON line per system,
# file and thread count, bench_common.h keys plus "file") and
# bench/results/csv-lead-<UTC>-copy.txt (the two bench_runtime reports).
# A table (wall, CPU, RSS, ratios to the fastest peer, scaling) is printed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="${GF_BENCH_BUILD:-$ROOT/build-bench}"
CACHE="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}"
VENV_PY="$CACHE/venv/bin/python"
RUNS=1; PT=2
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --peer-threads) PT="$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "csv_lead.sh: unknown argument $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: csv_lead.sh [--runs R] [--peer-threads T] FILE..." >&2; exit 2; }
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$HERE/results/csv-lead-$STAMP.jsonl"
COPY="$HERE/results/csv-lead-$STAMP-copy.txt"
mkdir -p "$HERE/results"
echo "{\"meta\":true,\"start\":\"$STAMP\",\"nproc\":$(nproc),\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"runs\":$RUNS,\"commit\":\"$(git -C "$ROOT" rev-parse --short HEAD)\",\"command\":\"bench/csv_lead.sh --runs $RUNS --peer-threads $PT $*\"}" > "$OUT"
copy_bw() {
  { echo "# $1: load $(cut -d' ' -f1-3 /proc/loadavg)"; "$BUILD/bench/bench_runtime" --quick; } >> "$COPY"
}
copy_bw before
rot=0
for f in "$@"; do
  jobs=("ours:1" "ours:2" "polars:$PT" "duckdb:$PT")
  k=${#jobs[@]}
  for ((i = 0; i < k; i++)); do
    j="${jobs[$(((i + rot) % k))]}"
    sys="${j%%:*}"; t="${j##*:}"
    echo "csv_lead.sh: $(basename "$f") $sys threads=$t" >&2
    case "$sys" in
      ours) line=$("$BUILD/bench/bench_csv" "$f" --threads "$t" --runs "$RUNS") || line="" ;;
      *) line=$("$VENV_PY" "$HERE/peers/run_$sys.py" csv_load "$f" "$t" "$RUNS") || line="" ;;
    esac
    if [ -n "$line" ]; then
      python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["file"]=sys.argv[2]; print(json.dumps(d))' \
        "$line" "$(basename "$f")" >> "$OUT"
    else
      echo "{\"system\":\"$sys\",\"case\":\"csv_load\",\"threads\":$t,\"file\":\"$(basename "$f")\",\"error\":true}" >> "$OUT"
    fi
  done
  rot=$((rot + 1))
done
copy_bw after
echo "{\"meta\":true,\"end\":\"$(date -u +%Y%m%dT%H%M%SZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"
echo "csv_lead.sh: results in $OUT and $COPY" >&2
python3 "$HERE/csv_lead_report.py" "$OUT" "$COPY"
