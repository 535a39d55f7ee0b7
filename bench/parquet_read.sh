#!/usr/bin/env bash
# bench/parquet_read.sh - Parquet read of G1_1e7 (written by pyarrow with
# snappy and with zstd) by gf (bench_parquet_read) and by pyarrow, Polars
# and DuckDB, all at THREADS threads (default 2): every column, and two
# columns with a selective filter (id4 = 7: 1% of the rows; the data is not
# sorted, so no row group is pruned: this measures projection + decode +
# filter). Runs RUNS times each (default 5), medians; raw output to
# bench/results/parquet_read-<date>.txt. FILES picks the files.
#
#   bench/parquet_read.sh [build-dir]
#   THREADS=2 RUNS=5 bench/parquet_read.sh build
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
# pa-*: written by pyarrow (parquet_make_g1.py); gf-zstd: written by us,
#   build/gf convert G1_1e7_1e2_0_0.csv G1_1e7_1e2_0_0.gf-zstd.parquet --compression zstd
FILES=${FILES:-"pa-snappy pa-zstd gf-zstd"}
DATA=${GF_BENCH_DATA:-$HOME/.cache/gopherframe-bench/data}
PY=${GF_BENCH_PY:-$HOME/.cache/gopherframe-bench/venv/bin/python}
CSV=$DATA/G1_1e7_1e2_0_0.csv
[ -f "$CSV" ] || { echo "missing $CSV (bench/run.sh makes it)" >&2; exit 2; }
"$PY" bench/python/parquet_make_g1.py "$CSV" "$DATA" >/dev/null
out=bench/results/parquet_read-$(date -u +%Y%m%d-%H%M).txt
{
  echo "# bench/parquet_read.sh THREADS=$THREADS RUNS=$RUNS, $(date -u), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for codec in $FILES; do
    f=$DATA/G1_1e7_1e2_0_0.$codec.parquet
    [ -f "$f" ] || { echo "## $codec: missing $f (skipped)"; continue; }
    echo "## $codec: $(stat -c %s "$f") bytes"
    nice "$BUILD/bench/bench_parquet_read" "$f" --threads "$THREADS" --runs "$RUNS" | grep '^gf '
    nice "$PY" bench/python/parquet_read_peers.py "$f" all_columns "$THREADS" "$RUNS"
    nice "$BUILD/bench/bench_parquet_read" "$f" --threads "$THREADS" --runs "$RUNS" \
      --columns id4,v3 --filter 'id4 = 7' | grep '^gf '
    nice "$PY" bench/python/parquet_read_peers.py "$f" select_filter "$THREADS" "$RUNS" id4,v3 id4 7
  done
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
echo "raw results: $out"
