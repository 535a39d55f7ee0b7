#!/usr/bin/env bash
# Before/after of our own drivers: two builds alternate over ROUNDS rounds,
# one process per (build, round) running every case RUNS times; every JSON
# line gets "build" and "round". Compare with CPU time when the machine is
# shared (wall time then mostly measures the others).
#   bench/before_after.sh BEFORE_BUILD AFTER_BUILD G1.csv J1.csv OUT.jsonl [ROUNDS] [RUNS]
# BEFORE_BUILD/AFTER_BUILD: Release build directories with bench_groupby
# and bench_join; G1.csv: gf gen groupby data; J1.csv: gf gen join data
# (J1_1eN_NA_0_0.csv, right tables beside it).
set -u
[ $# -ge 5 ] || { sed -n '2,10p' "$0"; exit 2; }
BEFORE=$1 AFTER=$2 G1=$3 J1=$4 OUT=$5 ROUNDS=${6:-3} RUNS=${7:-5}
T=$(nproc)
echo "{\"meta\":true,\"what\":\"before/after\",\"before\":\"$BEFORE\",\"after\":\"$AFTER\",\"start\":\"$(date -u +%FT%TZ)\",\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"command\":\"bench/before_after.sh $*\"}" > "$OUT"
for ((round = 1; round <= ROUNDS; round++)); do
  for b in before after; do
    dir=$BEFORE; [ $b = after ] && dir=$AFTER
    "$dir/bench/bench_groupby" q1,q2,q3,q4,q5,q6,q7,q8,q9,q10,qf1,qf2 "$G1" "$T" "$RUNS" |
      sed "s/^{/{\"build\":\"$b\",\"round\":$round,/" >> "$OUT"
    "$dir/bench/bench_join" j1,j2,j3,j4,j5 "$J1" "$T" "$RUNS" |
      sed "s/^{/{\"build\":\"$b\",\"round\":$round,/" >> "$OUT"
  done
done
echo "{\"meta\":true,\"end\":\"$(date -u +%FT%TZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$OUT"
