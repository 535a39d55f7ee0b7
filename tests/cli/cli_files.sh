#!/usr/bin/env bash
# cli_files.sh GF_BINARY - the gf file commands: schema, head, describe,
# convert (CSV; Arrow IPC briefly, in depth in cli_ipc.sh) and gen groupby.
# Output, exit codes (0 ok, 1 failure, 2 bad command line), errors as
# exactly one "gf: " line on stderr, no partial output files, gen
# deterministic for a seed. Registered as the ctest
# `cli_files`; GF_TEST_DATA points at tests/data.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=${GF_TEST_DATA:-$(cd "$(dirname "$0")/../data" && pwd)}/cli
cli_name=cli_files
source "$(dirname "$0")/lib/cli_test.bash"

people=$data/people.csv

# --- schema -------------------------------------------------------------------------
gfrun schema "$people"
expect_ok "schema people"
expect_out "schema rows" '^rows: 4$'
expect_out "schema columns" '^columns: 5$'
expect_out "schema header" '^name +type +nullable +nulls$'
expect_out "schema name" '^name +utf8 +true +0$'
expect_out "schema age" '^age +int32 +true +1$'
expect_out "schema score" '^score +float64 +true +1$'
expect_out "schema joined" '^joined +date32 +true +1$'
expect_out "schema active" '^active +bool +true +1$'
gfrun schema --threads 1 "$people"
expect_ok "schema --threads 1"
gfrun schema --no-header "$people"
expect_ok "schema --no-header"
expect_out "schema --no-header rows" '^rows: 5$'
expect_out "schema --no-header names" '^column_1 +utf8'
printf 'x;y\n1;a\n2;b\n' >"$tmp/semi.csv"
gfrun schema -d ';' "$tmp/semi.csv"
expect_ok "schema -d ;"
expect_out "schema -d ; columns" '^columns: 2$'
gfrun schema --delimiter tab "$people"
expect_ok "schema --delimiter tab"
expect_out "schema tab: one column" '^columns: 1$'

gfrun schema
expect_error "schema without FILE" 2 "^gf: schema: missing FILE"
gfrun schema a.csv b.csv
expect_error "schema two missing files (read as one table)" 1 "^gf: schema: a.csv: No such file"
gfrun schema --threads 0 "$people"
expect_error "schema --threads 0" 2 "--threads must be between 1 and"
gfrun schema --delimiter ab "$people"
expect_error "schema --delimiter ab" 2 "--delimiter expects one character"
gfrun schema "$tmp/no-such-file.csv"
expect_error "schema missing file" 1 "no-such-file.csv: No such file or directory"
gfrun schema "$data/ragged.csv"
expect_error "schema ragged" 1 "ragged.csv:3:[0-9]+: "
gfrun schema "$data/unterminated.csv"
expect_error "schema unterminated" 1 "unterminated.csv:2:[0-9]+: .*quote"
: >"$tmp/empty.csv"
gfrun schema "$tmp/empty.csv"
expect_error "schema empty file" 1 "empty.csv"
gfrun schema "$tmp/data.arrow"
expect_error "schema missing .arrow" 1 "data.arrow: No such file or directory"

# --- head ---------------------------------------------------------------------------
gfrun head "$people"
expect_ok "head"
expect_out "head shape" '^shape: \(4, 5\)$'
expect_out "head quoted comma" 'bob, jr'
expect_out "head dtype row" 'str .*i32 .*f64 .*date .*bool'
gfrun head -n 2 "$people"
expect_ok "head -n 2"
expect_out "head -n 2 shape" '^shape: \(2, 5\)$'
grep -q carol <<<"$out" && bad "head -n 2 shows the 4th row"
gfrun head "$people" -n 1 --ascii
expect_ok "head FILE -n 1 --ascii"
expect_out "head -n 1 shape" '^shape: \(1, 5\)$'
grep -q '│' <<<"$out" && bad "head --ascii used box drawing"
gfrun head -n 0 "$people"
expect_ok "head -n 0"
expect_out "head -n 0 shape" '^shape: \(0, 5\)$'
gfrun head -n x "$people"
expect_error "head -n x" 2 "-n expects an integer"
gfrun head -n -1 "$people"
expect_error "head -n -1" 2 "-n must be between 0"
gfrun head --bogus "$people"
expect_error "head --bogus" 2 "unknown option '--bogus'"
gfrun head "$data/ragged.csv"
expect_error "head ragged" 1 "^gf: head: .*ragged.csv:3"
# A reader that goes away early: no signal, no message.
"$gf" head "$people" 2>"$tmp/err" | true
rc=${PIPESTATUS[0]}
[ "$rc" -lt 128 ] || bad "gf head | true died by signal $((rc - 128))"

# --- describe -----------------------------------------------------------------------
gfrun describe "$people"
expect_ok "describe"
expect_out "describe shape" '^shape: \(10, 6\)$'
for stat in count null_count n_unique mean std min 25% 50% 75% max; do
  expect_out "describe row $stat" "\"$stat\""
done
# age: 31, 45, 27 -> mean 34.333..., median 31, min 27, max 45
expect_out "describe age mean" '"mean" .*34\.333333333333336'
expect_out "describe age min/max" '"min" .*┆ 27\.0 '
expect_out "describe age max" '"max" .*┆ 45\.0 '
expect_out "describe name n_unique" '"n_unique" +┆ "4"'
expect_out "describe name min" '"min" +┆ "alice"'
expect_out "describe dates" '"max" .*"2021-03-04"'
gfrun describe
expect_error "describe without FILE" 2 "missing FILE"
gfrun describe "$data/unterminated.csv"
expect_error "describe bad file" 1 "^gf: describe: "

# --- convert ------------------------------------------------------------------------
gfrun convert "$people" "$tmp/copy.csv"
expect_ok "convert csv->csv"
out=""
cmp -s "$people" "$tmp/copy.csv" || bad "convert of a canonical CSV changed it: $(diff "$people" "$tmp/copy.csv")"
gfrun convert --out-delimiter ';' --null NA "$people" "$tmp/semi-out.csv"
expect_ok "convert --out-delimiter ;"
[ "$(head -n 1 "$tmp/semi-out.csv")" = "name;age;score;joined;active" ] ||
  bad "convert --out-delimiter header: $(head -n 1 "$tmp/semi-out.csv")"
grep -qx 'carol;27;NA;2019-12-31;NA' "$tmp/semi-out.csv" || bad "convert --null: $(cat "$tmp/semi-out.csv")"
gfrun convert "$tmp/semi-out.csv" "$tmp/back.csv" --null ''
expect_ok "convert back"
# Arrow IPC in depth is cli_ipc.sh; here only that it round-trips.
gfrun convert "$people" "$tmp/out.arrow"
expect_ok "convert to .arrow"
gfrun convert "$tmp/out.arrow" "$tmp/from-arrow.csv"
expect_ok "convert from .arrow"
cmp -s "$people" "$tmp/from-arrow.csv" || bad "csv->arrow->csv changed people.csv"
gfrun convert "$tmp/in.feather" "$tmp/x.csv"
expect_error "convert from a missing .feather" 1 "in.feather: No such file or directory"
[ ! -e "$tmp/x.csv" ] || bad "a failed convert from .feather left its output"
gfrun convert "$people" "$tmp/no-such-dir/out.csv"
expect_error "convert into a missing directory" 1 "no-such-dir/out.csv: .*No such file or directory"
echo "keep me" >"$tmp/existing.csv"
gfrun convert "$data/ragged.csv" "$tmp/existing.csv"
expect_error "convert bad input" 1 "ragged.csv:3"
[ "$(cat "$tmp/existing.csv")" = "keep me" ] || bad "a failed convert changed the existing output"
gfrun convert "$people"
expect_error "convert one argument" 2 "expects IN and OUT"
[ -z "$(find "$tmp" -name '*.gf-tmp-*')" ] || bad "temporary files left behind: $(ls -a "$tmp")"

# --- gen groupby ---------------------------------------------------------------------
gfrun gen groupby --rows 10000 --k 10 --seed 7 -o "$tmp/g1.csv"
expect_ok "gen groupby"
[ "$(head -n 1 "$tmp/g1.csv")" = "id1,id2,id3,id4,id5,id6,v1,v2,v3" ] || bad "gen header: $(head -n 1 "$tmp/g1.csv")"
[ "$(wc -l <"$tmp/g1.csv")" -eq 10001 ] || bad "gen wrote $(wc -l <"$tmp/g1.csv") lines, expected 10001"
# Every field in range and in the db-benchmark text form.
awk -F, 'NR > 1 {
  if ($1 !~ /^id0(0[1-9]|10)$/ || $2 !~ /^id0(0[1-9]|10)$/) { print "id1/id2: " $0; exit 1 }
  if ($3 !~ /^id[0-9]+$/ || length($3) != 12 || substr($3, 3) + 0 < 1 || substr($3, 3) + 0 > 1000) { print "id3: " $0; exit 1 }
  if ($4 < 1 || $4 > 10 || $5 < 1 || $5 > 10 || $6 < 1 || $6 > 1000) { print "id4-6: " $0; exit 1 }
  if ($7 < 1 || $7 > 5 || $8 < 1 || $8 > 15) { print "v1/v2: " $0; exit 1 }
  if ($9 !~ /^[0-9][0-9]?(\.[0-9]*[1-9])?$/ || length($9) > 9 || $9 >= 100) { print "v3: " $0; exit 1 }
}' "$tmp/g1.csv" >"$tmp/awk.out" || bad "gen field out of range: $(cat "$tmp/awk.out")"
# All K levels of id1 occur.
[ "$(tail -n +2 "$tmp/g1.csv" | cut -d, -f1 | sort -u | wc -l)" -eq 10 ] || bad "gen id1 does not have 10 levels"
# Deterministic: same seed, any thread count -> same bytes; other seed differs.
gfrun gen groupby --rows 10000 --k 10 --seed 7 --threads 1 -o "$tmp/g2.csv"
expect_ok "gen --threads 1"
cmp -s "$tmp/g1.csv" "$tmp/g2.csv" || bad "gen differs between default threads and --threads 1"
gfrun gen groupby --rows 1e4 --k 1e1 --seed 7 --threads 3 -o "$tmp/g3.csv"
cmp -s "$tmp/g1.csv" "$tmp/g3.csv" || bad "gen --rows 1e4 --threads 3 differs"
gfrun gen groupby --rows 10000 --k 10 --seed 8 -o "$tmp/g4.csv"
cmp -s "$tmp/g1.csv" "$tmp/g4.csv" && bad "gen with another seed gave the same file"
# The reader agrees on the shape and types.
gfrun schema "$tmp/g1.csv"
expect_ok "schema of generated data"
expect_out "gen rows" '^rows: 10000$'
expect_out "gen id4 int" '^id4 +int(32|64) '
expect_out "gen v3 float" '^v3 +float64 '

# --na-pct: exactly floor(N * P / 100) missing values per v column, and
# whole id levels missing (10% of 10 levels = 1 level of id1).
gfrun gen groupby --rows 20000 --k 10 --na-pct 10 --seed 3 -o "$tmp/na.csv"
expect_ok "gen --na-pct 10"
for col in 7 8 9; do
  n=$(tail -n +2 "$tmp/na.csv" | cut -d, -f$col | grep -c '^$')
  [ "$n" -eq 2000 ] || bad "gen --na-pct 10: column $col has $n missing values, expected 2000"
done
levels=$(tail -n +2 "$tmp/na.csv" | cut -d, -f1 | sort -u | grep -c .)
[ "$levels" -eq 9 ] || bad "gen --na-pct 10: id1 has $levels non-missing levels, expected 9"
missing_id1=$(tail -n +2 "$tmp/na.csv" | cut -d, -f1 | grep -c '^$')
[ "$missing_id1" -gt 1000 ] || bad "gen --na-pct 10: only $missing_id1 rows miss id1 (whole groups expected)"

# --sort: ordered by id1..id6 (missing first, strings bytewise, ints numerically).
gfrun gen groupby --rows 20000 --k 10 --na-pct 5 --sort --seed 3 -o "$tmp/sorted.csv"
expect_ok "gen --sort"
tail -n +2 "$tmp/sorted.csv" | LC_ALL=C sort -c -t, -k1,1 -k2,2 -k3,3 -k4,4n -k5,5n -k6,6n 2>"$tmp/sort.err" ||
  bad "gen --sort output is not sorted: $(cat "$tmp/sort.err")"
# The same rows as the unsorted file of the same seed.
gfrun gen groupby --rows 20000 --k 10 --na-pct 5 --seed 3 -o "$tmp/unsorted.csv"
[ "$(tail -n +2 "$tmp/sorted.csv" | LC_ALL=C sort | md5sum)" = "$(tail -n +2 "$tmp/unsorted.csv" | LC_ALL=C sort | md5sum)" ] ||
  bad "gen --sort holds different rows than the unsorted file"
# K > 999: "id%03d" levels sort bytewise ("id1000" < "id101").
gfrun gen groupby --rows 3000 --k 1500 --sort --seed 1 -o "$tmp/bigk.csv"
expect_ok "gen --k 1500 --sort"
tail -n +2 "$tmp/bigk.csv" | LC_ALL=C sort -c -t, -k1,1 -k2,2 -k3,3 -k4,4n -k5,5n -k6,6n 2>"$tmp/sort.err" ||
  bad "gen --k 1500 --sort is not in byte order: $(cat "$tmp/sort.err")"

# Default file name as db-benchmark names it.
(cd "$tmp" && "$gf" gen groupby --rows 1000 --k 10 >/dev/null 2>&1)
[ -f "$tmp/G1_1e3_1e1_0_0.csv" ] || bad "gen default name G1_1e3_1e1_0_0.csv missing: $(ls "$tmp")"

gfrun gen groupby --k 10 -o "$tmp/x.csv"
expect_error "gen without --rows" 2 "needs --rows"
gfrun gen groupby --rows lots -o "$tmp/x.csv"
expect_error "gen --rows lots" 2 "--rows expects "
gfrun gen groupby --rows 10 --k 100 -o "$tmp/x.csv"
expect_error "gen k > rows" 2 "may not exceed"
gfrun gen groupby --rows 10 --na-pct 101 -o "$tmp/x.csv"
expect_error "gen --na-pct 101" 2 "--na-pct must be between 0 and 100"
gfrun gen join --rows 10
expect_error "gen join --rows 10" 2 "^gf: gen: .*--rows"
gfrun gen frobnicate
expect_error "gen frobnicate" 2 "unknown data set 'frobnicate'"
gfrun gen
expect_error "gen without a name" 2 "missing data set name"
gfrun gen groupby --rows 100 --k 10 -o "$tmp/no-such-dir/g.csv"
expect_error "gen into a missing directory" 1 "no-such-dir/g.csv"
[ -z "$(find "$tmp" -name '*.gf-tmp-*')" ] || bad "temporary files left behind: $(ls -a "$tmp")"

# Ctrl-C: a long generation stops cleanly (exit 1, one line, no file and no
# temporary file left), never by the signal.
"$gf" gen groupby --rows 1e8 --seed 1 -o "$tmp/interrupted.csv" >"$tmp/out" 2>"$tmp/err" &
pid=$!
# Interrupt once it is writing (its temporary file exists), not while it may
# still be starting up on a loaded machine.
for _ in $(seq 100); do
  [ -n "$(find "$tmp" -name '*interrupted.csv*gf-tmp*' 2>/dev/null)" ] && break
  sleep 0.1
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
out=$(cat "$tmp/out")
err=$(cat "$tmp/err")
expect_error "gen interrupted by SIGINT" 1 "interrupted; .*interrupted.csv was not written"
[ ! -e "$tmp/interrupted.csv" ] || bad "an interrupted gen left its output"
[ -z "$(find "$tmp" -name '*.gf-tmp-*')" ] || bad "an interrupted gen left a temporary file"

if [ $failures -ne 0 ]; then
  echo "cli_files: $failures failure(s)" >&2
  exit 1
fi
echo "cli_files: PASS"
