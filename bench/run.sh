#!/usr/bin/env bash
# Side-by-side benchmark: GopherFrame vs DuckDB, Polars, DataFusion, pyarrow
# (Acero) and data.table, the Python peers as their users run them (the
# current PyPI releases, pinned in peers/install.sh).
#
#   bench/run.sh CASESET [--threads T[,T...]] [--rows N[,N...]] [--runs R]
#                        [--na-pct P]
#                        [--systems ours,duckdb,polars,datafusion,pyarrow,datatable]
#                        [--cases c1,c2] [--batch]
#
# CASESET: csv     csv_load of G1_<rows>_1e2_<na>_0.csv (default rows 1e7,
#                  threads 1,<all>)
#          filter  filter_* and eval_expr on the filter data (default rows
#                  1e5,1e6,1e7, threads 1,<all>)
#          groupby q1..q10 on G1_<rows>_1e2_<na>_0.csv (default rows 1e7,
#                  threads <all>); the data is loaded once and not timed, as
#                  in db-benchmark. qN_file (e.g. --cases q1_file,q10_file)
#                  times the query from the file: read + group-by
#          sort    sort_* on the filter data (default rows 1e7, threads <all>)
#          join    j1..j5 on J1_<rows>_NA_0_0.csv and its small/medium/big
#                  right tables J1_<rows>_1e<e-6>_0_0.csv ... (default rows
#                  1e7, threads <all>); made by `gf gen join` (issue 8)
# --batch (groupby, sort and join): every case in one process per system (the
# data loaded once, not once per case); the big join tables take minutes to
# load, so this is how the sort/join tables in RESULTS.md were made.
# Data is generated once into $GF_BENCH_CACHE/data (gf gen groupby; the
# filter data by bench_filter --write-csv). For every case and thread count
# the systems run one after another (the order rotating from case to case so
# that background load does not always hit the same one); each prints one
# JSON line (bench/bench_common.h). The lines go to
# $GF_BENCH_CACHE/results/CASESET-<time>.jsonl, and bench/report.py checks
# that row counts and checksums agree and prints the markdown table.
#
# Our drivers are build-bench/bench/bench_*; GF_BENCH_BUILD overrides the
# build directory. A future driver for groupby/sort/join (bench_groupby,
# bench_sort, bench_join) takes the peers' command line:
#   bench_NAME CASE[,CASE...] FILE THREADS RUNS
# and is picked up here as soon as it is built.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="${GF_BENCH_BUILD:-$ROOT/build-bench}"
CACHE="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}"
DATA="$CACHE/data"
RESULTS="$CACHE/results"
VENV_PY="$CACHE/venv/bin/python"

die() { echo "run.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: run.sh csv|filter|groupby|sort [--threads T] [--rows N] [--runs R] [--na-pct P] [--systems LIST] [--cases LIST]"
CASESET="$1"; shift
NPROC="$(nproc)"
THREADS=""; ROWS=""; RUNS=5; NA=0; BATCH=0; SYSTEMS="ours,duckdb,polars,datafusion,pyarrow,datatable"; CASES=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --rows) ROWS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --na-pct) NA="$2"; shift 2 ;;
    --systems) SYSTEMS="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --batch) BATCH=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done
[ "$RUNS" -ge 5 ] 2>/dev/null || echo "run.sh: note: --runs $RUNS (< 5) is for quick checks only" >&2

case "$CASESET" in
  csv) : "${ROWS:=1e7}"; : "${THREADS:=1,$NPROC}"; : "${CASES:=csv_load}" ;;
  filter) : "${ROWS:=1e5,1e6,1e7}"; : "${THREADS:=1,$NPROC}"
          : "${CASES:=filter_i64_1pct,filter_i64_30pct,filter_i64_80pct,filter_f64_30pct,filter_str_eq,filter_mixed_30pct,filter_expr,eval_expr}" ;;
  groupby) : "${ROWS:=1e7}"; : "${THREADS:=$NPROC}"; : "${CASES:=q1,q2,q3,q4,q5,q6,q7,q8,q9,q10}" ;;
  sort) : "${ROWS:=1e7}"; : "${THREADS:=$NPROC}"; : "${CASES:=sort_i64,sort_f64,sort_str,sort_two}" ;;
  join) : "${ROWS:=1e7}"; : "${THREADS:=$NPROC}"; : "${CASES:=j1,j2,j3,j4,j5}" ;;
  *) die "unknown case set '$CASESET' (csv, filter, groupby, sort, join)" ;;
esac

mkdir -p "$DATA" "$RESULTS"
[ -x "$BUILD/gf" ] || die "$BUILD/gf not built: cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2"
if [[ ",$SYSTEMS," != ",ours," ]]; then
  bash "$HERE/peers/install.sh" >&2   # idempotent: prints the versions when all is there
fi

# "1e7" -> 1e7 as the generator names files (G1_1e7_1e2_0_0.csv).
rows_label() { python3 -c "import sys; n=int(float(sys.argv[1])); e=len(str(n))-1; print(f'1e{e}' if n==10**e else n)" "$1"; }

g1_file() {  # rows -> path, generating it once
  local lab; lab="$(rows_label "$1")"
  local f="$DATA/G1_${lab}_1e2_${NA}_0.csv"
  if [ ! -s "$f" ]; then
    echo "run.sh: generating $f" >&2
    "$BUILD/gf" gen groupby --rows "$1" --k 100 --na-pct "$NA" -o "$f.tmp" && mv "$f.tmp" "$f"
  fi
  echo "$f"
}
filter_file() {
  local lab; lab="$(rows_label "$1")"
  local f="$DATA/filter_${lab}.csv"
  if [ ! -s "$f" ]; then
    echo "run.sh: generating $f" >&2
    "$BUILD/bench/bench_filter" --rows "$1" --write-csv "$f.tmp.csv" && mv "$f.tmp.csv" "$f"
  fi
  echo "$f"
}

join_file() {  # rows -> the left table; all four tables must exist
  local lab; lab="$(rows_label "$1")"
  local f="$DATA/J1_${lab}_NA_0_0.csv"
  if [ ! -s "$f" ]; then
    echo "run.sh: generating join data for $1 rows in $DATA" >&2
    (cd "$DATA" && "$BUILD/gf" gen join --rows "$1") >&2 \
      || die "could not make $f with 'gf gen join --rows $1' (run in $DATA); it and its right tables J1_${lab}_1e*_0_0.csv are needed"
  fi
  echo "$f"
}

# run_one SYSTEM CASE FILE THREADS ROWS: one JSON line (or nothing, with a
# note on stderr, when that system has no driver for the case).
run_one() {
  local sys="$1" c="$2" f="$3" t="$4" n="$5"
  case "$sys" in
    ours)
      case "$CASESET" in
        csv) "$BUILD/bench/bench_csv" "$f" --threads "$t" --runs "$RUNS" ;;
        filter) "$BUILD/bench/bench_filter" --rows "$n" --threads "$t" --runs "$RUNS" --cases "$c" ;;
        *) local drv="$BUILD/bench/bench_$CASESET"
           if [ -x "$drv" ]; then "$drv" "$c" "$f" "$t" "$RUNS"
           else echo "run.sh: no driver $drv yet; 'ours' skipped for $c" >&2; fi ;;
      esac ;;
    duckdb|polars|datafusion|pyarrow)
      "$VENV_PY" "$HERE/peers/run_$sys.py" "$c" "$f" "$t" "$RUNS" ;;
    datatable) Rscript "$HERE/peers/datatable.R" "$c" "$f" "$t" "$RUNS" ;;
    *) die "unknown system $sys" ;;
  esac
}

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$RESULTS/$CASESET-$STAMP.jsonl"
IFS=, read -r -a SYS_LIST <<< "$SYSTEMS"
IFS=, read -r -a CASE_LIST <<< "$CASES"
if [ "$BATCH" = 1 ]; then
  case "$CASESET" in sort|join|groupby) CASE_LIST=("$CASES") ;; *) die "--batch is for groupby, sort and join" ;; esac
fi
IFS=, read -r -a THREAD_LIST <<< "$THREADS"
IFS=, read -r -a ROW_LIST <<< "$ROWS"
echo "{\"meta\":true,\"caseset\":\"$CASESET\",\"start\":\"$STAMP\",\"nproc\":$NPROC,\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"runs\":$RUNS,\"command\":\"bench/run.sh $CASESET --threads $THREADS --rows $ROWS --runs $RUNS --na-pct $NA --systems $SYSTEMS --cases $CASES$([ "$BATCH" = 1 ] && echo " --batch")\"}" > "$OUT"

rot=0
for n in "${ROW_LIST[@]}"; do
  case "$CASESET" in
    csv|groupby) FILE="$(g1_file "$n")" ;;
    join) FILE="$(join_file "$n")" ;;
    *) FILE="$(filter_file "$n")" ;;
  esac
  for c in "${CASE_LIST[@]}"; do
    for t in "${THREAD_LIST[@]}"; do
      k=${#SYS_LIST[@]}
      for ((i = 0; i < k; i++)); do
        sys="${SYS_LIST[$(((i + rot) % k))]}"
        echo "run.sh: $c rows=$n threads=$t $sys" >&2
        if ! run_one "$sys" "$c" "$FILE" "$t" "$n" >> "$OUT"; then
          echo "{\"system\":\"$sys\",\"case\":\"$c\",\"threads\":$t,\"rows_in\":$(python3 -c "print(int(float('$n')))"),\"error\":true}" >> "$OUT"
          echo "run.sh: $sys failed on $c (threads $t)" >&2
        fi
      done
      rot=$((rot + 1))
    done
  done
done
echo "{\"meta\":true,\"end\":\"$(date -u +%Y%m%dT%H%M%SZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"
echo "run.sh: results in $OUT" >&2
python3 "$HERE/report.py" "$OUT"
