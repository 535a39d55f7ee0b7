#!/usr/bin/env bash
# cli_strategy.sh GF_BINARY - `gf query --strategy auto|fixed|cache|memory`
# at 1/2/3/8 threads, without and with --memory-limit: a group-by with many
# groups (float means included) and a sort write output files byte-identical
# to the auto, 1-thread run (docs/STRATEGIES.md: strategies never change
# results; the naive-reference checks are in tests/unit/test_arena.c).
# Registered as the ctest `cli_strategy`.
set -uo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-strategy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
"$gf" gen groupby --rows 200000 -k 50000 -o "$tmp/g.csv" >/dev/null || bad "gen groupby"
"$gf" convert "$tmp/g.csv" "$tmp/g.arrow" >/dev/null || bad "convert"
gb=(--group-by id1,id4,id6 --agg 'sum(v1) as s, mean(v3) as m, count() as n')
srt=(--sort 'v3 desc, id6')
"$gf" query --threads 1 --strategy auto "$tmp/g.arrow" "${gb[@]}" -o "$tmp/gb-ref.arrow" 2>"$tmp/err" ||
  bad "group-by reference: $(cat "$tmp/err")"
"$gf" query --threads 1 --strategy auto "$tmp/g.arrow" "${srt[@]}" -o "$tmp/sort-ref.arrow" 2>"$tmp/err" ||
  bad "sort reference: $(cat "$tmp/err")"
for s in auto fixed cache memory; do
  for t in 1 2 3 8; do
    for lim in none 512M; do
      limit=(); [ "$lim" = none ] || limit=(--memory-limit "$lim")
      "$gf" query --threads "$t" --strategy "$s" "${limit[@]}" "$tmp/g.arrow" "${gb[@]}" \
        -o "$tmp/gb.arrow" 2>"$tmp/err" || bad "group-by $s/$t/$lim: $(cat "$tmp/err")"
      cmp -s "$tmp/gb.arrow" "$tmp/gb-ref.arrow" || bad "group-by $s/$t/$lim differs"
      "$gf" query --threads "$t" --strategy "$s" "${limit[@]}" "$tmp/g.arrow" "${srt[@]}" \
        -o "$tmp/sort.arrow" 2>"$tmp/err" || bad "sort $s/$t/$lim: $(cat "$tmp/err")"
      cmp -s "$tmp/sort.arrow" "$tmp/sort-ref.arrow" || bad "sort $s/$t/$lim differs"
    done
  done
done
# An unknown strategy is refused with one line naming the choices.
if "$gf" query --strategy nope "$tmp/g.arrow" "${gb[@]}" >/dev/null 2>"$tmp/err"; then
  bad "--strategy nope accepted"
else
  grep -q "auto, fixed, cache or memory" "$tmp/err" || bad "--strategy nope: $(cat "$tmp/err")"
fi
[ "$failures" = 0 ] && echo "cli_strategy: ok"
exit $((failures > 0))
