#!/usr/bin/env bash
# A/B of the float64-field kernel change (commit 065945a): bench_csv of the
# float-heavy file's first 1e6 rows (head -n 1000001 F1_1e7.csv), 1 thread,
# one read per process, before/after alternating for ROUNDS rounds.
# BEFORE: build-bench/bench/bench_csv built before 065945a (library sources of
#   9a0dced), copied to /tmp/bench_csv_before; AFTER: rebuilt at 065945a.
#   Both Release. Run: $0 /tmp/bench_csv_before build-bench/bench/bench_csv
#   /tmp/F1_1e6.csv 7 bench/results/csv-f64-ab-20261207T214512Z.jsonl
set -euo pipefail
before=${1:?before bench_csv}; after=${2:?after bench_csv}; file=${3:?csv}; rounds=${4:-5}; out=${5:?out.jsonl}
: > "$out"
for r in $(seq 1 "$rounds"); do
  for b in before after; do
    bin=$before; [ $b = after ] && bin=$after
    line=$(nice "$bin" "$file" --threads 1 --runs 1)
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["build"]=sys.argv[2]; d["round"]=int(sys.argv[3]); print(json.dumps(d))' "$line" "$b" "$r" >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for b in ("before", "after"):
    c = [r["cpu_s"] for r in rows if r["build"] == b]
    w = [r["median_s"] for r in rows if r["build"] == b]
    print(b, "cpu_s", [round(x, 3) for x in c], "median", round(statistics.median(c), 3), "wall median", round(statistics.median(w), 3))
PY
