#!/usr/bin/env bash
# q1..q10 on G1_<rows> through the Python package vs the C driver
# (build-bench/bench/bench_groupby, what `bench/run.sh groupby --systems
# ours --batch` runs), ROUNDS times each, alternating C / Python so that
# background load hits both alike; then pyarrow.table() of the loaded frame.
# Raw JSON lines, the commands and the load averages go to
# bench/results/python-groupby-<time>.jsonl (lines starting with '#' are
# notes).
#
#   bench/python/run_vs_c.sh [ROWS=1e7] [THREADS=2] [RUNS=5] [ROUNDS=2]
# Needs build-bench (Release) and a venv with the package installed
# (PY, default build/pyenv/bin/python: scripts/python-tests makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS="${1:-1e7}"; THREADS="${2:-2}"; RUNS="${3:-5}"; ROUNDS="${4:-2}"
PY="${PY:-build/pyenv/bin/python}"
DATA="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}/data/G1_${ROWS}_1e2_0_0.csv"
CASES=q1,q2,q3,q4,q5,q6,q7,q8,q9,q10
OUT="bench/results/python-groupby-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
[ -f "$DATA" ] || { echo "no $DATA: bench/run.sh groupby makes it" >&2; exit 2; }
note() { echo "# $*" | tee -a "$OUT"; }
note "started $(date -u +%Y%m%dT%H%M%SZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
note "python $("$PY" -c 'import sys, gopherframe as g; print(sys.version.split()[0], "gopherframe", g.__version__, g.build_info())')"
for r in $(seq "$ROUNDS"); do
  note "round $r C: build-bench/bench/bench_groupby $CASES $DATA $THREADS $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  build-bench/bench/bench_groupby "$CASES" "$DATA" "$THREADS" "$RUNS" | tee -a "$OUT"
  note "round $r Python: $PY bench/python/bench_groupby.py $CASES $DATA $THREADS $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$PY" bench/python/bench_groupby.py "$CASES" "$DATA" "$THREADS" "$RUNS" | tee -a "$OUT"
done
note "arrow export: $PY bench/python/bench_groupby.py arrow_export $DATA $THREADS 20 (load $(cut -d' ' -f1-3 /proc/loadavg))"
"$PY" bench/python/bench_groupby.py arrow_export "$DATA" "$THREADS" 20 | tee -a "$OUT"
note "finished $(date -u +%Y%m%dT%H%M%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw: $OUT"
