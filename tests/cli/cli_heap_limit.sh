#!/usr/bin/env bash
# cli_heap_limit.sh GF_BINARY - `gf query --memory-limit` bounds the real
# heap of the process, measured from outside by tools/heapmeter (an
# LD_PRELOAD malloc interposer): for a join that emits 2 million rows and a
# group-by, at a sweep of limits, the heap peak stays within L + 1 MiB
# (stricter than RELIABILITY.md's L + max(8 MiB, 2 % L): what is allocated
# outside the limit is about 0.1 MB) and a command that does not fit fails
# naming the limit. Before realloc was charged old + new, the join's peak
# passed L by up to 3 MB here. Skipped in
# sanitizer builds (their runtime must come first in LD_PRELOAD) and when
# no C compiler is found. Registered as the ctest `cli_heap_limit`.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
here=$(cd "$(dirname "$0")" && pwd)
case "${GF_TEST_SANITIZED:-0}" in 0 | '') ;; *) echo "skipped: sanitizer build"; exit 0 ;; esac
if nm -D "$gf" 2>/dev/null | grep -q __asan_init || ldd "$gf" 2>/dev/null | grep -q libasan; then
  echo "skipped: sanitizer build"
  exit 0
fi
command -v "${CC:-cc}" >/dev/null || { echo "skipped: no C compiler"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-heap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
so=$("$here/../../tools/heapmeter/build.sh" "$tmp/heapmeter.so") || { echo "FAIL: building heapmeter"; exit 1; }

"$gf" gen groupby --rows 2e5 -k 100 -o "$tmp/g.csv" >/dev/null || bad "gen"
{ echo id4,w; for r in 0 1 2 3 4 5 6 7 8 9; do seq 1 100 | sed "s/\$/,$r/"; done; } >"$tmp/keys.csv"

# run NAME LIMIT ARGS...: one measured run; checks the rule.
run() {
  local name=$1 limit=$2
  shift 2
  rm -f "$tmp/peak"
  HEAPMETER_OUT=$tmp/peak LD_PRELOAD=$so "$gf" "$@" --memory-limit "$limit" \
    >/dev/null 2>"$tmp/err" </dev/null
  local rc=$? peak slack
  peak=$(sed -n 's/^peak=\([0-9]*\).*/\1/p' "$tmp/peak")
  [ -n "$peak" ] || { bad "$name $limit: heapmeter wrote no peak"; return; }
  slack=1048576
  case $rc in
    0) ;;
    1) grep -q "memory limit of $limit bytes exceeded" "$tmp/err" ||
         bad "$name $limit: exit 1 without naming the limit: $(cat "$tmp/err")" ;;
    *) bad "$name $limit: exit code $rc: $(cat "$tmp/err")" ;;
  esac
  [ "$peak" -le $((limit + slack)) ] || bad "$name $limit: heap peak $peak > limit + $slack"
  echo "$name limit=$limit peak=$peak rc=$rc"
}

for limit in 20000000 25000000 30000000 35000000 45000000 55000000 70000000 100000000 150000000; do
  run join "$limit" query "$tmp/g.csv" --join "$tmp/keys.csv" --on id4 --select id4,w,v1 -o "$tmp/o.arrow"
done
for limit in 5000000 10000000 20000000 40000000; do
  run groupby "$limit" query "$tmp/g.csv" --group-by id3 --agg 'sum(v1),mean(v3)' -o "$tmp/o.arrow"
done

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "ok"
