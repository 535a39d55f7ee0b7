#!/usr/bin/env bash
# bench/csv_ab.sh FILE ROUNDS THREADS LABEL=BENCH_CSV...
# Alternating A/B of bench_csv builds: each round runs every build once (one
# read each, in the given order), so background load hits all alike. One
# JSON line per read (bench_csv's, plus "build" and "round") on stdout.
set -euo pipefail
f="$1"; rounds="$2"; t="$3"; shift 3
echo "{\"meta\":true,\"start\":\"$(date -u +%Y%m%dT%H%M%SZ)\",\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"command\":\"bench/csv_ab.sh $f $rounds $t $*\"}"
for ((r = 1; r <= rounds; r++)); do
  for spec in "$@"; do
    label="${spec%%=*}"; bin="${spec#*=}"
    line=$("$bin" "$f" --threads "$t" --runs 1)
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["build"]=sys.argv[2]; d["round"]=int(sys.argv[3]); print(json.dumps(d))' "$line" "$label" "$r"
  done
done
echo "{\"meta\":true,\"end\":\"$(date -u +%Y%m%dT%H%M%SZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
