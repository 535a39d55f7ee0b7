#!/usr/bin/env bash
# NDJSON read: gf against Polars read_ndjson and DuckDB read_json at the
# same thread count, rounds alternating between engines; one JSON line per
# timed read in OUT, plus meta lines (load average before/after).
#   bench/ndjson.sh GF_BINARY G1.csv OUT.jsonl [THREADS] [ROUNDS]
# G1.csv is converted once to NDJSON by our writer (G1.ndjson in
# GF_BENCH_TMP, default ~/.cache/gopherframe-bench/data, unless it exists). gf is timed as a whole process
# (`gf schema FILE --threads N`: read + count nulls, start-up included);
# the peers inside their process, reading only (Polars with
# POLARS_MAX_THREADS, DuckDB with SET threads). Peers come from the venv
# ~/.cache/gopherframe-bench/venv (bench/peers/install.sh).
set -u
[ $# -ge 3 ] || { sed -n '2,12p' "$0"; exit 2; }
GF=$1 CSV=$2 OUT=$3 T=${4:-2} ROUNDS=${5:-3}
PY=${GF_BENCH_PYTHON:-$HOME/.cache/gopherframe-bench/venv/bin/python}
ND=${GF_BENCH_TMP:-$HOME/.cache/gopherframe-bench/data}/$(basename "${CSV%.csv}").ndjson
[ -s "$ND" ] || nice "$GF" convert "$CSV" "$ND" || exit 1
size=$(stat -c %s "$ND")
echo "{\"meta\":true,\"what\":\"ndjson read\",\"file\":\"$ND\",\"bytes\":$size,\"threads\":$T,\"start\":\"$(date -u +%FT%TZ)\",\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"nproc\":$(nproc),\"command\":\"bench/ndjson.sh $*\"}" > "$OUT"
for ((round = 1; round <= ROUNDS; round++)); do
  t0=$(date +%s%N)
  rows=$("$GF" schema "$ND" --threads "$T" | sed -n 's/^rows: //p')
  t1=$(date +%s%N)
  echo "{\"engine\":\"gf\",\"round\":$round,\"rows\":${rows:-0},\"seconds\":$(awk "BEGIN{printf \"%.6f\", ($t1 - $t0) / 1e9}")}" >> "$OUT"
  POLARS_MAX_THREADS=$T "$PY" - "$ND" "$round" >> "$OUT" <<'PYEOF'
import sys, time, json
import polars as pl
t0 = time.perf_counter(); df = pl.read_ndjson(sys.argv[1]); t1 = time.perf_counter()
print(json.dumps({"engine": "polars " + pl.__version__, "round": int(sys.argv[2]), "rows": df.height, "seconds": t1 - t0}))
PYEOF
  "$PY" - "$ND" "$round" "$T" >> "$OUT" <<'PYEOF'
import sys, time, json
import duckdb
con = duckdb.connect(); con.execute(f"SET threads={int(sys.argv[3])}")
t0 = time.perf_counter()
con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{sys.argv[1]}', format='newline_delimited')")
t1 = time.perf_counter()
n = con.execute("SELECT count(*) FROM t").fetchone()[0]
print(json.dumps({"engine": "duckdb " + duckdb.__version__, "round": int(sys.argv[2]), "rows": n, "seconds": t1 - t0}))
PYEOF
done
echo "{\"meta\":true,\"end\":\"$(date -u +%FT%TZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"
"$PY" - "$OUT" <<'PYEOF'
import sys, json, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if '"engine"' in l]
med = {}
for r in rows: med.setdefault(r["engine"], []).append(r["seconds"])
gf = statistics.median(med.get("gf", [float("nan")]))
for e, v in med.items():
    print(f"{e:20s} median {statistics.median(v):7.3f} s over {len(v)} runs; gf/this = {gf / statistics.median(v):.2f}")
PYEOF
