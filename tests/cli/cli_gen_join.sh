#!/usr/bin/env bash
# cli_gen_join.sh GF_BINARY - `gf gen join`: the db-benchmark join data.
# Checks file names and row counts, determinism per seed, the key split (for
# each key size n: 90% of the values common to both sides, 10% left-only,
# 10% right-only, every value of a side used), permutation columns, string
# twins "id"+number, missing values with --na-pct, and exit codes.
# Registered as the ctest `cli_gen_join`.
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-gen-join.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# gfrun ARGS...: runs gf, leaving $rc and $err.
gfrun() {
  "$gf" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  err=$(cat "$tmp/err")
  [ $rc -lt 128 ] || bad "gf $* died by signal $((rc - 128))"
}
# expect_error CASE RC PATTERN: exit code RC, one "gf: " stderr line with PATTERN.
expect_error() {
  [ "$rc" -eq "$2" ] || bad "$1: exit code $rc, expected $2"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || bad "$1: expected one stderr line, got: $err"
  case "$err" in gf:*"$3"*) ;; *) bad "$1: stderr '$err' lacks '$3'" ;; esac
}

# ---- command line errors -------------------------------------------------
gfrun gen join
expect_error "no --rows" 2 "needs --rows"
gfrun gen join --rows lots
expect_error "--rows lots" 2 "--rows expects"
gfrun gen join --rows 100
expect_error "--rows too small" 2 "--rows expects"
gfrun gen join --rows 1e5 --na-pct 101
expect_error "--na-pct 101" 2 "--na-pct"
gfrun gen join --rows 1e5 --frob
expect_error "unknown option" 2 "unknown option"
gfrun gen join --rows 1e5 extra
expect_error "extra argument" 2 "unexpected argument"
gfrun gen join --rows 1e5 -o "$tmp/no-such-dir/"
expect_error "unwritable output" 1 "no-such-dir"
[ -z "$(ls "$tmp" | grep J1_)" ] || bad "a failed run left files: $(ls "$tmp")"

# ---- names, row counts, determinism --------------------------------------
mkdir "$tmp/a" "$tmp/b" "$tmp/c"
gfrun gen join --rows 1e5 -o "$tmp/a"
[ "$rc" -eq 0 ] || bad "gen join 1e5: exit $rc ($err)"
gfrun gen join --rows 1e5 -o "$tmp/b/"
[ "$rc" -eq 0 ] || bad "gen join 1e5 again: exit $rc ($err)"
gfrun gen join --rows 1e5 --seed 7 -o "$tmp/c"
[ "$rc" -eq 0 ] || bad "gen join seed 7: exit $rc ($err)"
L=J1_1e5_NA_0_0.csv S=J1_1e5_1e0_0_0.csv M=J1_1e5_1e2_0_0.csv B=J1_1e5_1e5_0_0.csv
for f in $L $S $M $B; do
  [ -s "$tmp/a/$f" ] || { bad "missing $f"; continue; }
  cmp -s "$tmp/a/$f" "$tmp/b/$f" || bad "$f differs between two runs with the same seed"
done
cmp -s "$tmp/a/$L" "$tmp/c/$L" && bad "seed 7 gave the same left table as seed 108"
[ -z "$(ls "$tmp/a" | grep -v '^J1_1e5_.*\.csv$')" ] || bad "stray files: $(ls "$tmp/a")"
lines() { wc -l <"$1" | tr -d ' '; }
[ "$(lines "$tmp/a/$L")" = 100001 ] || bad "left rows: $(lines "$tmp/a/$L")"
[ "$(lines "$tmp/a/$S")" = 2 ] || bad "small rows: $(lines "$tmp/a/$S")"
[ "$(lines "$tmp/a/$M")" = 101 ] || bad "medium rows: $(lines "$tmp/a/$M")"
[ "$(lines "$tmp/a/$B")" = 100001 ] || bad "big rows: $(lines "$tmp/a/$B")"
[ "$(head -n 1 "$tmp/a/$L")" = "id1,id2,id3,id4,id5,id6,v1" ] || bad "left header"
[ "$(head -n 1 "$tmp/a/$S")" = "id1,id4,v2" ] || bad "small header"
[ "$(head -n 1 "$tmp/a/$M")" = "id1,id2,id4,id5,v2" ] || bad "medium header"
[ "$(head -n 1 "$tmp/a/$B")" = "id1,id2,id3,id4,id5,id6,v2" ] || bad "big header"
printf '%s\n' "$(cat "$tmp/out")" | grep -q "$tmp/c/$B" || bad "the written paths are not listed"

# ---- key properties --------------------------------------------------------
# keycheck NAME LEFTFILE LCOL RIGHTFILE RCOL N RIGHTROWS: the left side uses
# exactly n distinct values, the right side n, 90% shared, all in 1..1.1n;
# a table whose rows equal n holds a permutation of its set.
keycheck() {
  local name=$1 lf=$2 lc=$3 rf=$4 rc_=$5 n=$6
  local res
  res=$(awk -F, -v lc="$lc" -v rc="$rc_" -v lf="$lf" 'FNR == 1 { next }
        FILENAME == lf { if (!($lc in L)) nl++; L[$lc]++; if ($lc < 1 || $lc > mx) mx = $lc; next }
        { if (!($rc in R)) nr++; R[$rc]++; if ($rc > mx) mx = $rc }
        END { for (k in L) if (k in R) both++; printf "%d %d %d %d", nl, nr, both, mx }' "$lf" "$rf")
  local e=$((n / 10))
  local want="$n $n $((n - e))"
  [ "${res% *}" = "$want" ] || bad "$name: distinct left/right/common ${res% *}, expected $want"
  [ "${res##* }" -le $((n + e)) ] || bad "$name: a key above 1.1n: ${res##* }"
}
keycheck "id1 (small)" "$tmp/a/$L" 1 "$tmp/a/$S" 1 1
keycheck "id2 (medium)" "$tmp/a/$L" 2 "$tmp/a/$M" 2 100
keycheck "id3 (big)" "$tmp/a/$L" 3 "$tmp/a/$B" 3 100000
keycheck "id1 (big)" "$tmp/a/$L" 1 "$tmp/a/$B" 1 1
keycheck "id2 (big)" "$tmp/a/$L" 2 "$tmp/a/$B" 2 100
# 1e6 rows, written with a name prefix: the medium table's id2 is a permutation
# of 1000 values from 1..1100.
mkdir "$tmp/d"
gfrun gen join --rows 1e6 -o "$tmp/d/p_"
[ "$rc" -eq 0 ] || bad "gen join 1e6 with a prefix: exit $rc ($err)"
[ -s "$tmp/d/p_J1_1e6_NA_0_0.csv" ] && [ -s "$tmp/d/p_J1_1e6_1e0_0_0.csv" ] \
  && [ -s "$tmp/d/p_J1_1e6_1e3_0_0.csv" ] && [ -s "$tmp/d/p_J1_1e6_1e6_0_0.csv" ] \
  || bad "prefix output names: $(ls "$tmp/d")"
res=$(awk -F, 'FNR > 1 { if (!($2 in s)) n++; s[$2] = 1; if ($2 > mx) mx = $2 } END { print n, mx, FNR }' \
      "$tmp/d/p_J1_1e6_1e3_0_0.csv")
read -r nd mx nl <<<"$res"
[ "$nd $nl" = "1000 1001" ] && [ "$mx" -le 1100 ] || bad "1e6 medium id1: distinct/max/lines $res"
rm -rf "$tmp/d"
# Permutations: left id3, big id3, medium id2 have no repeated value.
for spec in "$L:3" "$B:3" "$M:2"; do
  f=${spec%%:*} c=${spec##*:}
  d=$(awk -F, -v c="$c" 'FNR > 1 && ($c in s) { d++ } FNR > 1 { s[$c] = 1 } END { print d + 0 }' "$tmp/a/$f")
  [ "$d" = 0 ] || bad "$f column $c repeats $d values (not a permutation)"
done
# String twins and values.
awk -F, 'FNR > 1 && ($4 != "id" $1 || $5 != "id" $2 || $6 != "id" $3 || $7 !~ /^[0-9]+\.[0-9]+$/ || $7 >= 100) { print FILENAME ": " $0; exit 1 }' \
  "$tmp/a/$L" "$tmp/a/$B" || bad "left/big string keys or values malformed"
awk -F, 'FNR > 1 && ($3 != "id" $1 || $4 != "id" $2) { print; exit 1 }' "$tmp/a/$M" \
  || bad "medium string keys malformed"

# ---- gf query --join / --sort on the generated data ------------------------
# Inner join on an int key and on its string twin match the rows whose key
# the right table has (awk counts them); a left join keeps every left row;
# the big table's id3 joins 90% of the left rows (both are permutations).
qcount() {
  gfrun query "$@" --agg 'count()' --format csv
  [ "$rc" -eq 0 ] || bad "query $*: exit $rc ($err)"
  tail -n 1 "$tmp/out"
}
want=$(awk -F, 'FNR == 1 { next } FILENAME ~ /1e2_0_0/ { m[$2] = 1; next } ($2 in m) { n++ } END { print n + 0 }' \
  "$tmp/a/$M" "$tmp/a/$L")
[ "$(qcount "$tmp/a/$L" --join "$tmp/a/$M" --on id2)" = "$want" ] || bad "inner join on id2: not $want rows"
[ "$(qcount "$tmp/a/$L" --join "$tmp/a/$M" --on id5)" = "$want" ] || bad "inner join on id5: not $want rows"
[ "$(qcount "$tmp/a/$L" --join "$tmp/a/$M" --on id2 --how left)" = 100000 ] || bad "left join on id2: not 100000 rows"
[ "$(qcount "$tmp/a/$L" --join "$tmp/a/$B" --on id3)" = 90000 ] || bad "inner join on id3: not 90000 rows"
[ "$(qcount "$tmp/a/$L" --join "$tmp/a/$B" --on id3 --how anti)" = 10000 ] || bad "anti join on id3: not 10000 rows"
# Sorting: the largest id3 values of big, and the smallest of left, as awk finds them.
gfrun query "$tmp/a/$B" --sort 'id3 desc' --limit 2 --select id3 --format csv
want=$(awk -F, 'FNR > 1 { print $3 }' "$tmp/a/$B" | sort -rn | head -n 2 | tr '\n' ' ')
[ "$(tail -n 2 "$tmp/out" | tr '\n' ' ')" = "$want" ] || bad "sort id3 desc: $(cat "$tmp/out"), expected $want"
gfrun query "$tmp/a/$L" --sort 'id6, id3' --limit 3 --select id6 --format csv
want=$(awk -F, 'FNR > 1 { print $6 }' "$tmp/a/$L" | LC_ALL=C sort | head -n 3 | tr '\n' ' ')
[ "$(tail -n 3 "$tmp/out" | tr '\n' ' ')" = "$want" ] || bad "sort id6 (bytes): $(cat "$tmp/out"), expected $want"

# ---- missing values -------------------------------------------------------
mkdir "$tmp/n"
gfrun gen join --rows 1e5 --na-pct 10 -o "$tmp/n"
[ "$rc" -eq 0 ] || bad "gen join --na-pct 10: exit $rc ($err)"
f="$tmp/n/J1_1e5_NA_10_0.csv"
[ -s "$f" ] && [ -s "$tmp/n/J1_1e5_1e5_10_0.csv" ] || bad "na file names: $(ls "$tmp/n")"
res=$(awk -F, 'FNR > 1 { if ($1 == "") m1++; if ($7 == "") m7++; if (($1 == "") != ($4 == "")) bad++ }
               END { printf "%d %d %d", m1, m7, bad }' "$f")
read -r m1 m7 nb <<<"$res"
[ "$m1" -gt 8000 ] && [ "$m1" -lt 12000 ] || bad "missing id1: $m1 of 100000 (want ~10%)"
[ "$m7" -gt 8000 ] && [ "$m7" -lt 12000 ] || bad "missing v1: $m7 of 100000 (want ~10%)"
[ "$nb" = 0 ] || bad "id4 missing where id1 is not (or back): $nb rows"

if [ $failures -ne 0 ]; then
  echo "cli_gen_join: $failures failure(s)" >&2
  exit 1
fi
echo "cli_gen_join: ok"
