#!/usr/bin/env bash
# Parquet write of G1_1e7 (the db-benchmark group-by table, read once from
# its Arrow IPC file and not timed) by GopherFrame (bench_parquet_write) and
# by pyarrow, Polars and DuckDB (bench/peers/parquet_write_peer.py, the
# peers' venv), per codec, at THREADS threads, RUNS runs each, the systems
# interleaved so background load spreads over all of them. Prints and
# saves one line per run: system codec threads wall_s cpu_s file_bytes.
#
#   bench/parquet_write.sh [CODECS=snappy,zstd] [THREADS=2] [RUNS=3]
#
# Data: $GF_BENCH_CACHE/data/G1_1e7_1e2_0_0.arrow (gf convert of the CSV
# that bench/run.sh makes). Output: bench/results/parquet-write-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
CODECS=${1:-snappy,zstd}
THREADS=${2:-2}
RUNS=${3:-3}
CACHE=${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}
DATA=$CACHE/data/G1_1e7_1e2_0_0.arrow
PY=$CACHE/venv/bin/python
BUILD=${GF_BENCH_BUILD:-build}
[ -f "$DATA" ] || { echo "missing $DATA (gf convert $CACHE/data/G1_1e7_1e2_0_0.csv $DATA)" >&2; exit 1; }
[ -x "$BUILD/bench/bench_parquet_write" ] || { echo "build $BUILD/bench/bench_parquet_write first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=bench/results/parquet-write-$(date -u +%Y%m%dT%H%M%SZ).txt
{
  echo "# bench/parquet_write.sh $CODECS $THREADS $RUNS on $(hostname), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# system codec threads wall_s cpu_s file_bytes"
  for codec in ${CODECS//,/ }; do
    for run in $(seq 1 "$RUNS"); do
      for sys in gopherframe pyarrow polars duckdb; do
        if [ $sys = gopherframe ]; then
          nice "$BUILD/bench/bench_parquet_write" "$DATA" "$tmp/out.parquet" "$codec" "$THREADS" 1
        else
          nice "$PY" bench/peers/parquet_write_peer.py $sys "$DATA" "$tmp/out.parquet" "$codec" "$THREADS" 1
        fi
      done
    done
  done
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
echo "saved $out" >&2
