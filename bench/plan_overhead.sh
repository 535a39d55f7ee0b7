#!/usr/bin/env bash
# What the plan layer costs (issue 17, "Measured"): qf1, qf2, q1, q3, q10
# on G1_1e7_1e2_0_0 from the CSV file and from an Arrow IPC copy of it.
#
#   bench/plan_overhead.sh [--runs R] [--threads T] [--cases qf1,q1,...]
#                          [--out FILE.jsonl]
#
# For each file, in this order:
#  1. bench_plan_overhead (bench/bench_plan_overhead.c): in one process,
#     every run times reading alone (the columns the query uses), the eager
#     operators alone on what was read, then the same query as a plan from
#     the file (lines "CASE.read", "CASE.eager", "CASE.plan");
#  2. `gf query FILE ... -o OUT.arrow` as a user runs it (process start,
#     plan, run and the IPC write of the result included), wall and CPU
#     (user + system) of the child from getrusage;
#  3. DuckDB and Polars (bench/peers, the venv's releases) on CASE_file:
#     the same query from the file, read inside the timing.
# Every run's wall and CPU seconds, the command lines and the load average
# before each block go to one JSON-lines file (default
# bench/results/plan-overhead-<UTC time>.jsonl); a markdown summary of
# medians is printed at the end. The machine is shared: quote CPU seconds
# beside wall seconds.
#
# Needs build-bench (Release: cmake -S . -B build-bench
# -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2 --target gf
# bench_plan_overhead); GF_BENCH_BUILD overrides the directory. The Arrow copy
# is made once with `gf convert` next to the CSV in $GF_BENCH_CACHE/data.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="${GF_BENCH_BUILD:-$ROOT/build-bench}"
CACHE="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}"
PY="$CACHE/venv/bin/python"
CSV="$CACHE/data/G1_1e7_1e2_0_0.csv"
ARROW="$CACHE/data/G1_1e7_1e2_0_0.arrow"
RUNS=5
THREADS="$(nproc)"
CASES="qf1,qf2,q1,q3,q10"  # q10 (1e7 groups) is the longest: last
OUT="$ROOT/bench/results/plan-overhead-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
ARGS="$*"

die() { echo "plan_overhead.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -x "$BUILD/gf" ] && [ -x "$BUILD/bench/bench_plan_overhead" ] ||
  die "build $BUILD first (gf and bench_plan_overhead, Release)"
[ -f "$CSV" ] || die "$CSV missing (bench/run.sh groupby generates it)"
[ -x "$PY" ] || die "$PY missing (bench/peers/install.sh)"
if [ ! -f "$ARROW" ]; then
  "$BUILD/gf" convert --threads "$THREADS" "$CSV" "$ARROW" >&2
fi
mkdir -p "$(dirname "$OUT")"
: >"$OUT"

# meta KEY=VALUE...: one JSON line of context (load average now included).
meta() {
  "$PY" -c 'import json, os, sys
d = {"meta": sys.argv[1], "loadavg": open("/proc/loadavg").read().split()[:3], "nproc": os.cpu_count()}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    d[k] = v
print(json.dumps(d))' "$@" >>"$OUT"
}

# The gf query arguments of each case (bench/bench_groupby.c's definitions).
query_args() {
  case "$1" in
    qf1) echo "--filter|v1 > 2|--group-by|id1|--agg|sum(v3) as v3, count() as count" ;;
    qf2) echo "--filter|v2 <= 5 and v3 > 50|--with|w=v1 * v3|--group-by|id2,id4|--agg|sum(w) as w, mean(v3) as v3" ;;
    q1) echo "--group-by|id1|--agg|sum(v1) as v1" ;;
    q3) echo "--group-by|id3|--agg|sum(v1) as v1, mean(v3) as v3" ;;
    q10) echo "--group-by|id1,id2,id3,id4,id5,id6|--agg|sum(v3) as v3, count() as count" ;;
    *) die "unknown case $1" ;;
  esac
}

meta start "command=bench/plan_overhead.sh $ARGS" "runs=$RUNS" "threads=$THREADS" "cases=$CASES" \
  "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-plan-overhead.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for file in "$ARROW" "$CSV"; do
  label=$(basename "$file")
  meta block "system=bench_plan_overhead" "file=$label" \
    "command=bench_plan_overhead $CASES $label $THREADS $RUNS"
  "$BUILD/bench/bench_plan_overhead" "$CASES" "$file" "$THREADS" "$RUNS" >>"$OUT"

  for c in ${CASES//,/ }; do
    IFS='|' read -r -a qa <<<"$(query_args "$c")"
    meta block "system=gf query" "file=$label" "case=$c" \
      "command=gf query $label $(printf "'%s' " "${qa[@]}")--threads $THREADS -o OUT.arrow"
    "$PY" - "$BUILD/gf" "$file" "$label" "$c" "$THREADS" "$RUNS" "$tmp/out.arrow" "${qa[@]}" >>"$OUT" <<'EOF'
import json, resource, subprocess, sys, time
gf, path, label, case, threads, runs, out = sys.argv[1:8]
args = sys.argv[8:]
secs, cpu = [], []
for _ in range(int(runs)):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([gf, "query", path, *args, "--threads", threads, "-o", out], check=True)
    secs.append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
med = lambda v: sorted(v)[len(v) // 2]
print(json.dumps({"system": "gf query", "case": case, "data": label, "threads": int(threads),
                  "runs": len(secs), "median_s": med(secs), "min_s": min(secs), "secs": secs,
                  "cpu": cpu, "cpu_s": med(cpu)}))
EOF
  done

  fc=$(printf '%s_file,' ${CASES//,/ }); fc=${fc%,}
  for sys in duckdb polars; do
    meta block "system=$sys" "file=$label" "command=bench/peers/run_$sys.py $fc $label $THREADS $RUNS"
    (cd "$HERE/peers" && "$PY" "run_$sys.py" "$fc" "$file" "$THREADS" "$RUNS") >>"$OUT"
  done
done
meta end

# Summary: medians per case and file; the claim is plan <= 1.1 x (read + eager).
"$PY" - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
res = {}
for r in rows:
    if "meta" in r:
        continue
    sysname = r.get("system", "ours")
    case = r["case"]
    if "." in case:
        case, part = case.split(".")
        sysname = part
    case = case.removesuffix("_file")
    data = r["data"] if r["data"].endswith(".arrow") else r["data"].removesuffix(".csv") + ".csv"
    res[(data, case, sysname)] = (r["median_s"], r.get("cpu_s"))
print("| file | case | read | eager | read+eager | plan | plan / (read+eager) | gf query | DuckDB | Polars |")
print("|---|---|---|---|---|---|---|---|---|---|")
def f(v):
    return "-" if v is None else f"{v[0]:.3f} ({v[1]:.3f})"
for (data, case, s) in sorted({(d, c, "") for (d, c, _) in res}):
    g = lambda n: res.get((data, case, n))
    rd, eg, pl = g("read"), g("eager"), g("plan")
    base = (rd[0] + eg[0], rd[1] + eg[1]) if rd and eg else None
    ratio = f"{pl[0] / base[0]:.2f} ({pl[1] / base[1]:.2f})" if base and pl else "-"
    print(f"| {data} | {case} | {f(rd)} | {f(eg)} | {f(base)} | {f(pl)} | {ratio} | {f(g('gf query'))} | "
          f"{f(g('duckdb'))} | {f(g('polars'))} |")
print("\nwall median s (CPU median s); ratio: wall (CPU)")
EOF
echo "raw: $OUT" >&2
