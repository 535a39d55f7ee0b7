#!/usr/bin/env bash
# The heap-peak table of docs/RELIABILITY.md: each operation once without a
# limit (its natural heap peak P), then under --memory-limit at 1.10 P (it
# should fit), 0.90 P (close to its limit) and 0.25 P (it cannot fit).
# Pass: the whole process's heap peak stays within L + max(8 MiB, 2 % L),
# or the command fails with the message naming the limit.
# Usage: run-all.sh GF [DATA_DIR]   (data generated there when missing)
set -euo pipefail
gf=$(realpath "$1")
data=${2:-/tmp/heapmeter-data}
here=$(cd "$(dirname "$0")" && pwd)
so=$(mktemp -d)/heapmeter.so
"$here/build.sh" "$so" >/dev/null
mkdir -p "$data"
cd "$data"
[ -f g_k100.csv ] || "$gf" gen groupby --rows 2e6 -k 100 -o g_k100.csv >/dev/null
[ -f g_k1e5.csv ] || "$gf" gen groupby --rows 2e6 -k 100000 -o g_k1e5.csv >/dev/null
[ -f J1_1e6_NA_0_0.csv ] || "$gf" gen join --rows 1e6 -o "$data/" >/dev/null
[ -f g_k100.arrow ] || "$gf" convert g_k100.csv g_k100.arrow
# 10 rows per id4 level: joining g_k100 on id4 emits 20 million rows.
[ -f keys10.csv ] || { echo id4,w; for r in 0 1 2 3 4 5 6 7 8 9; do seq 1 100 | sed "s/\$/,$r/"; done; } >keys10.csv
out=$data/out.arrow

ops=(
  "filter|query g_k100.csv --filter v1>3 -o $out"
  "groupby-100-groups|query g_k100.csv --group-by id1 --agg sum(v1),mean(v3) -o $out"
  "groupby-20k-groups|query g_k1e5.csv --group-by id3 --agg sum(v1),mean(v3) -o $out"
  "sort|query g_k100.csv --sort v3_desc -o $out"
  "join-1e6x1e6|query J1_1e6_NA_0_0.csv --join J1_1e6_1e6_0_0.csv --on id3 -o $out"
  "join-fanout-2e7|query g_k100.csv --join keys10.csv --on id4 --select id4,w,v1 -o $out"
  "csv-read|query g_k100.csv --limit 1 --sort id6 -o $out"
  "ipc-write|query g_k100.arrow --with v4=v1*2 -o $data/out2.arrows"
)
printf '%-22s %12s %12s %7s %-6s %s\n' operation limit heap-peak ratio verdict "exit/message"
for op in "${ops[@]}"; do
  name=${op%%|*}
  read -r -a args <<<"${op#*|}"
  # Arguments with spaces are written with _ above ("v3_desc").
  for i in "${!args[@]}"; do args[i]=${args[i]//_desc/ desc}; done
  line=$("$here/measure.sh" "$gf" "$so" "$name" 0 -- "${args[@]}")
  echo "$line"
  peak=$(awk '{print $3}' <<<"$line")
  for f in 1.10 0.90 0.25; do
    lim=$(awk -v p="$peak" -v f="$f" 'BEGIN { printf "%d", p * f }')
    "$here/measure.sh" "$gf" "$so" "$name" "$lim" -- "${args[@]}"
  done
done
