#!/usr/bin/env bash
# bench/csv_heavy.sh [--rows N] [--threads T[,T...]] [--runs R] [--systems LIST]
#
# CSV load of the string-heavy and float-heavy files of issue 18 item 4
# (csv_load: the read into an in-memory frame is timed), GopherFrame
# (build-bench/bench/bench_csv; GF_BENCH_BUILD overrides) against the Python
# peers (Polars, DuckDB; ~/.cache/gopherframe-bench/venv, bench/peers).
#   S1_<rows>.csv  `gf gen strings`: 10 columns of 5-40-byte strings
#   F1_<rows>.csv  `gf gen floats`: 10 float64 columns (fixed 6 decimals,
#                  17 significant digits, scientific over the double range)
# Files are made once in $GF_BENCH_CACHE/data (default rows 1e7: 2.3 GB and
# 2.0 GB). For each file and thread count the systems run one after
# another, the order rotating so that background load does not always hit
# the same one. Raw JSON lines (bench/bench_common.h keys) go to
# bench/results/csv-heavy-<UTC time>.jsonl; bench/report.py prints the table.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="${GF_BENCH_BUILD:-$ROOT/build-bench}"
CACHE="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}"
DATA="$CACHE/data"
VENV_PY="$CACHE/venv/bin/python"
ROWS=1e7; THREADS=2; RUNS=3; SYSTEMS=ours,polars,duckdb
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --systems) SYSTEMS="$2"; shift 2 ;;
    *) echo "csv_heavy.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
GF="$BUILD/gf"
[ -x "$GF" ] || GF="$ROOT/build/gf"
mkdir -p "$DATA" "$HERE/results"
files=()
for kind in strings floats; do
  f="$DATA/$([ $kind = strings ] && echo S1 || echo F1)_$ROWS.csv"
  if [ ! -s "$f" ]; then
    echo "csv_heavy.sh: making $f" >&2
    nice "$GF" gen "$kind" --rows "$ROWS" -o "$f"
  fi
  files+=("$f")
done
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$HERE/results/csv-heavy-$STAMP.jsonl"
echo "{\"meta\":true,\"caseset\":\"csv\",\"start\":\"$STAMP\",\"nproc\":$(nproc),\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"runs\":$RUNS,\"command\":\"bench/csv_heavy.sh --rows $ROWS --threads $THREADS --runs $RUNS --systems $SYSTEMS\"}" > "$OUT"
IFS=, read -r -a SYS_LIST <<< "$SYSTEMS"
IFS=, read -r -a THREAD_LIST <<< "$THREADS"
rot=0
for f in "${files[@]}"; do
  for t in "${THREAD_LIST[@]}"; do
    k=${#SYS_LIST[@]}
    for ((i = 0; i < k; i++)); do
      sys="${SYS_LIST[$(((i + rot) % k))]}"
      echo "csv_heavy.sh: $(basename "$f") threads=$t $sys" >&2
      case "$sys" in
        ours) line=$("$BUILD/bench/bench_csv" "$f" --threads "$t" --runs "$RUNS") || line="" ;;
        *) line=$("$VENV_PY" "$HERE/peers/run_$sys.py" csv_load "$f" "$t" "$RUNS") || line="" ;;
      esac
      if [ -n "$line" ]; then
        # Tag each line with the file (the drivers name only the case).
        python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["file"]=sys.argv[2]; print(json.dumps(d))' \
          "$line" "$(basename "$f")" >> "$OUT"
      else
        echo "{\"system\":\"$sys\",\"case\":\"csv_load\",\"threads\":$t,\"file\":\"$(basename "$f")\",\"error\":true}" >> "$OUT"
      fi
    done
    rot=$((rot + 1))
  done
done
echo "{\"meta\":true,\"end\":\"$(date -u +%Y%m%dT%H%M%SZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"
echo "csv_heavy.sh: results in $OUT" >&2
python3 - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'file':<14} {'thr':>3} {'system':<8} {'median s':>9} {'min s':>7} {'CPU s':>7} {'peak RSS MB':>12} {'rows':>10}")
for r in rows:
    if r.get("meta") or r.get("error"):
        continue
    print(f"{r['file']:<14} {r['threads']:>3} {r['system']:<8} {r.get('median_s', 0):>9.2f} "
          f"{r.get('min_s', 0):>7.2f} {r.get('cpu_s', 0):>7.2f} {r.get('peak_rss_mb', 0):>12.0f} {r.get('rows', '')!s:>10}")
EOF
