#!/usr/bin/env bash
# The streaming group-by sink at high cardinality (issue 18/19, "gbperf"):
# q3 (id3: 1e4 groups at 1e6 rows, 1e5 at 1e7) and q10 (six keys: ~every row its own
# group) of the db-benchmark, streamed (default) against --input-mode read
# (the whole file read, then the eager gf_group_by), one run each, side by
# side: wall, user and system CPU and max RSS (GNU time). Several gf
# builds may be given (e.g. the base and the branch) to compare them in
# the same run. The output CSV is written to a scratch file and dropped.
# Usage: bench/gbperf.sh OUT FILE GF... (CASES env: "q3 q10" by default).
# One line per run appended to OUT.
set -uo pipefail
out=$1 f=$2
shift 2
cases=${CASES:-q3 q10}
tmp=$(mktemp -d)
for q in $cases; do
  case $q in
    q3) a=(--group-by id3 --agg 'sum(v1),mean(v3)') ;;
    q10) a=(--group-by id1,id2,id3,id4,id5,id6 --agg 'sum(v3),count()') ;;
    *) echo "unknown case $q" >&2; exit 2 ;;
  esac
  for gf in "$@"; do
    for mode in stream read; do
      m=()
      [ "$mode" = read ] && m=(--input-mode read)
      nice "/usr/bin/time" -f '%e %U %S %M' -o "$tmp/t" "$gf" query "$f" "${m[@]}" "${a[@]}" -o "$tmp/x.csv" 2>"$tmp/err"
      rc=$?
      read -r wall usr sys rss <"$tmp/t"
      printf '%s file=%s case=%s gf=%s mode=%s wall_s=%s user_s=%s sys_s=%s maxrss_kb=%s rc=%s groups=%s load=%s\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$f")" "$q" "$gf" "$mode" "$wall" "$usr" "$sys" "$rss" "$rc" \
        "$(($(wc -l <"$tmp/x.csv") - 1))" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out"
      rm -f "$tmp/x.csv"
    done
  done
done
rm -rf "$tmp"
