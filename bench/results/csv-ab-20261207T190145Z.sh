#!/bin/bash
# Alternating before/after of bench_csv (CPU seconds are the comparison on a shared machine).
F=$HOME/.cache/gopherframe-bench/data/G1_1e7_1e2_0_0.csv
OUT=/tmp/csvbench/ab.jsonl
echo "{\"meta\":true,\"start\":\"$(date -u +%FT%TZ)\",\"load_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"builds\":{\"main\":\"529d10f\",\"kernels\":\"8de2c64 (scan+numbers+stats, no parse-time dictionary)\",\"after\":\"wt-csv HEAD\"}}" > $OUT
for round in 1 2 3; do
  for b in main kernels after after_simd_off; do
    case $b in main) d=/tmp/csv-base/build-bench;; kernels) d=/tmp/csv-mid/build-bench;; *) d=/work/wt-csv/build-bench;; esac
    env=""; [ $b = after_simd_off ] && env="GF_CSV_SIMD=off"
    env $env $d/bench/bench_csv $F --threads 2 --runs 1 | sed "s/^{/{\"build\":\"$b\",\"round\":$round,/" >> $OUT
  done
done
echo "{\"meta\":true,\"end\":\"$(date -u +%FT%TZ)\",\"load_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> $OUT
