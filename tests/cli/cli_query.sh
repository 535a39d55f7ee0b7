#!/usr/bin/env bash
# cli_query.sh GF_BINARY - `gf query`: filters, computed columns, select,
# limit, group-by, sort, join, distinct, output formats and -o, --stats, the
# whole-command timeout (no partial output file), the memory limit, error
# messages with expression positions, exit codes (0 ok, 1 failure, 2 bad
# command line), and identical results for any --threads / --chunk-rows /
# --strategy; results of a few queries equal to the ones DuckDB gives
# (tests/data/cli/expected). Registered as the ctest `cli_query`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
data=${GF_TEST_DATA:-$(dirname "$0")/../data}
people="$data/cli/people.csv"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-query.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# gfrun ARGS...: runs gf, leaving $rc, $out, $err.
gfrun() {
  "$gf" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  if [ $rc -ge 128 ]; then bad "gf $* died by signal $((rc - 128))"; fi
}
expect_rc() {
  [ "$rc" -eq "$2" ] || bad "$1: exit code $rc, expected $2 (stderr: $err)"
}
# expect_out CASE TEXT: stdout is exactly TEXT and stderr is empty.
expect_out() {
  [ "$out" == "$2" ] || bad "$1: stdout
---- got
$out
---- expected
$2"
  [ -z "$err" ] || bad "$1: unexpected stderr: $err"
}
# expect_one_error_line CASE PATTERN: one "gf: " line matching PATTERN, no stdout.
expect_one_error_line() {
  local lines
  lines=$(printf '%s' "$err" | grep -c '')
  [ "$lines" -eq 1 ] || bad "$1: $lines stderr lines, expected one: $err"
  [[ $err == "gf: "* ]] || bad "$1: stderr does not start with 'gf: ': $err"
  grep -Eq -- "$2" <<<"$err" || bad "$1: stderr '$err' does not match /$2/"
  [ -z "$out" ] || bad "$1: unexpected stdout: $out"
}

# --- help ---------------------------------------------------------------------
gfrun help query
expect_rc "gf help query" 0
grep -q '^Usage: gf query FILE' <<<"$out" || bad "gf help query: no usage line: $out"
grep -q 'table' <<<"$out" || bad "gf help query does not document the output format"

# --- filter, with, select, limit (CSV when stdout is not a terminal) ------------
gfrun query "$people"
expect_rc "no steps" 0
expect_out "no steps" "$(cat "$people")"

gfrun query "$people" --filter 'age > 30'
expect_rc "filter" 0
expect_out "filter" 'name,age,score,joined,active
alice,31,88.5,2021-03-04,true
"say ""hi""",45,-1.5,,true'

gfrun query "$people" --filter 'age > 30 or age is null' --with 'x=age * 2' --select 'name, x'
expect_rc "filter+with+select" 0
expect_out "filter+with+select" 'name,x
alice,62
"bob, jr",
"say ""hi""",90'

# --with steps see earlier ones, a later --filter tests them; replacing a column.
gfrun query "$people" --with 'a = age + 1' --with 'b=a * 10' --filter 'b > 300' --with 'age=-age' --select b,age,name
expect_rc "chained with" 0
expect_out "chained with" 'b,age,name
320,-31,alice
460,-45,"say ""hi"""'

gfrun query "$people" --select active,name --limit 2
expect_rc "select+limit" 0
expect_out "select+limit" 'active,name
true,alice
false,"bob, jr"'

gfrun query "$people" --limit 0 --format csv
expect_rc "limit 0" 0
expect_out "limit 0" 'name,age,score,joined,active'

gfrun query "$people" --filter "contains(name, 'o') and joined >= date '2020-01-01'" --select name
expect_rc "strings and dates" 0
expect_out "strings and dates" 'name
"bob, jr"'

# --- sort, group-by, aggregates, join ---------------------------------------------
gfrun query "$people" --sort 'score desc' --select name,score --limit 3
expect_rc "sort+limit" 0
expect_out "sort+limit" 'name,score
"bob, jr",92.25
alice,88.5
"say ""hi""",-1.5'

gfrun query "$people" --group-by active --agg 'count() as n,max(age) as oldest' --sort active
expect_rc "group-by" 0
expect_out "group-by" 'active,n,oldest
false,1,
true,2,45
,1,27'

gfrun query "$people" --agg 'count() as n,sum(age) as s'
expect_rc "agg alone" 0
expect_out "agg alone" 'n,s
4,103'

printf 'who,team\nalice,red\ncarol,blue\nzoe,green\n' >"$tmp/teams.csv"
gfrun query "$people" --join "$tmp/teams.csv" --on 'name=who' --select name,team,age
expect_rc "join" 0
expect_out "join" 'name,team,age
alice,red,31
carol,blue,27'
gfrun query "$people" --join "$tmp/teams.csv" --on 'name=who' --how anti --select name
expect_rc "anti join" 0
expect_out "anti join" 'name
"bob, jr"
"say ""hi"""'

# --- distinct (the key policy: -0.0 = 0.0, NaN = NaN, nulls one key) ------------------
printf 'k,v\n0.0,a\n-0.0,b\nNaN,c\n,d\n1,e\n-NaN,f\n,g\n0,h\n' >"$tmp/keys.csv"
gfrun query "$tmp/keys.csv" --distinct=k
expect_rc "distinct k" 0
expect_out "distinct k" 'k,v
0.0,a
NaN,c
,d
1.0,e'
gfrun query "$tmp/keys.csv" --sort 'k desc' --distinct=k --limit 2
expect_rc "sort, distinct, limit" 0
expect_out "sort, distinct, limit" 'k,v
NaN,c
1.0,e'
gfrun query "$people" --select active,age --distinct=active
expect_rc "distinct on a bool" 0
expect_out "distinct on a bool" 'active,age
true,31
false,
,27'
gfrun query "$tmp/keys.csv" --select k --distinct
expect_rc "distinct all columns" 0
expect_out "distinct all columns" 'k
0.0
NaN

1.0'
gfrun query "$people" --distinct=nope
expect_rc "distinct unknown column" 2

# --- plans (issue 17): --having, --offset, filters before/after a join, group-by after a
# join, sort then limit, --explain, --profile. Expected rows worked out by hand from
# people.csv (alice 31 true, bob - false, say 45 true, carol 27 -).
gfrun query "$people" --group-by active --agg 'count() as n,sum(age)' --having 'sum(age) > 50' --sort active
expect_rc "having on an aggregate call" 0
expect_out "having on an aggregate call" 'active,n,sum(age)
true,2,76'
gfrun query "$people" --group-by active --agg 'count() as n,sum(age) as s' --having 'sum(age) > 50' --sort active
expect_rc "having on a renamed aggregate" 0
expect_out "having on a renamed aggregate" 'active,n,s
true,2,76'
gfrun query "$people" --group-by active --agg 'count() as n' --having 'n = 1' --having 'active is not null'
expect_rc "having on an output name, twice" 0
expect_out "having on an output name, twice" 'active,n
false,1'
gfrun query "$people" --having 'n > 1'
expect_rc "having without a group-by" 2
expect_one_error_line "having without a group-by" "--having needs --group-by"
gfrun query "$people" --group-by active --agg 'count() as n' --having 'nope > 1'
expect_rc "having on an unknown name" 2
expect_one_error_line "having on an unknown name" "--having 'nope > 1'.*unknown column 'nope'"
gfrun query "$people" --offset 1 --limit 2 --select name
expect_rc "offset+limit" 0
expect_out "offset+limit" 'name
"bob, jr"
"say ""hi"""'
gfrun query "$people" --sort 'age desc nulls last' --offset 3 --select name
expect_rc "sort+offset" 0
expect_out "sort+offset" 'name
"bob, jr"'
gfrun query "$people" --offset 9
expect_rc "offset past the end" 0
expect_out "offset past the end" 'name,age,score,joined,active'
printf 'who,team,age\nalice,red,1\ncarol,blue,2\nzoe,green,3\n"say ""hi""",red,4\n' >"$tmp/teams2.csv"
# A filter on left columns (pushed below the join) and one on the right side's renamed
# column (after it), a computed column over both, then group-by after the join.
gfrun query "$people" --join "$tmp/teams2.csv" --on 'name=who' --filter 'age > 28' \
  --filter 'age_right < 4' --with 't=age + age_right' --select name,team,t
expect_rc "filters before and after a join" 0
expect_out "filters before and after a join" 'name,team,t
alice,red,32'
# The filter on the right side's renamed column goes into the right scan under its own name.
gfrun query "$people" --join "$tmp/teams2.csv" --on 'name=who' --filter 'age_right < 4' --explain
expect_rc "renamed right column pushed" 0
grep -q 'teams2.csv" predicate=(age < 4)' <<<"$out" || bad "renamed right column pushed: $out"
gfrun query "$people" --join "$tmp/teams2.csv" --on 'name=who' --how left \
  --group-by team --agg 'count() as n,sum(age) as s' --sort 'team nulls first'
expect_rc "group-by after a left join" 0
expect_out "group-by after a left join" 'team,n,s
,1,
blue,1,27
red,2,76'
gfrun query "$people" --join "$tmp/teams2.csv" --on 'name=who' --how right --filter 'age is null' --select who,team
expect_rc "filter after a right join (not pushed into the null side)" 0
expect_out "filter after a right join (not pushed into the null side)" 'who,team
zoe,green'
gfrun query "$people" --sort 'score desc nulls last' --limit 2 --select name
expect_rc "sort then limit" 0
expect_out "sort then limit" 'name
"bob, jr"
alice'
gfrun query "$people" --filter 'age > 30' --select name --explain
expect_rc "--explain" 0
grep -q '^== logical plan ==$' <<<"$out" || bad "--explain: no logical plan: $out"
grep -q '^== optimized plan ==$' <<<"$out" || bad "--explain: no optimized plan: $out"
grep -Eq 'scan_csv .*columns=\[name, age\].*predicate=\(age > 30\)' <<<"$out" ||
  bad "--explain: the scan does not show the pushed columns and predicate: $out"
[ -z "$err" ] || bad "--explain: stderr: $err"
grep -q '^alice$' <<<"$out" && bad "--explain ran the query: $out"
gfrun query "$people" --explain -o "$tmp/x.csv"
expect_rc "--explain with -o" 2
gfrun query "$people" --filter 'age > 30' --select name --profile
expect_rc "--profile" 0
[ "$out" == $'name\nalice\n"say ""hi"""' ] || bad "--profile: stdout is not the data alone: $out"
grep -Eq 'scan_csv +4 +4 ' <<<"$err" || bad "--profile: no scan row with rows in/out: $err"
grep -Eq 'filter\+select \(fused\) +4 +2 ' <<<"$err" || bad "--profile: no fused row: $err"
grep -q 'peak' <<<"$err" || bad "--profile: no peak memory: $err"
grep -q 'workers' <<<"$err" || bad "--profile: no workers column: $err"
# Every operator's peak comes from the run's tracked allocator: a group-by's is not 0.
gfrun query "$people" --group-by active --agg 'count() as n' --sort active --profile
expect_rc "--profile group-by" 0
grep -Eq 'group-by +4 +3 +[0-9.]+ +[1-9][0-9]* ' <<<"$err" || bad "--profile: group-by peak is 0: $err"

# --- output formats and -o ----------------------------------------------------------
gfrun query "$people" --filter 'age > 30' --select name,age --format table
expect_rc "table" 0
grep -q '^shape: (2, 2)' <<<"$out" || bad "table: no shape line: $out"
grep -q 'alice' <<<"$out" || bad "table: no data: $out"

gfrun query "$people" --filter 'age > 30' -o "$tmp/res.csv"
expect_rc "-o csv" 0
[ -z "$out" ] || bad "-o csv wrote to stdout: $out"
"$gf" query "$people" --filter 'age > 30' --format csv >"$tmp/res_stdout.csv"
cmp -s "$tmp/res.csv" "$tmp/res_stdout.csv" || bad "-o FILE differs from the CSV on stdout"

gfrun query "$people" --select name,age -o "$tmp/res.arrow"
expect_rc "-o arrow" 0
[ "$(head -c 6 "$tmp/res.arrow" 2>/dev/null)" == "ARROW1" ] || bad "-o .arrow did not write an Arrow IPC file"

# A pipe is read once, whole, by the plan's scan when it is built (the run starts from it).
out=$(cat "$people" | "$gf" query /dev/stdin --filter 'age > 30' --select name --format csv 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
expect_rc "query of a pipe" 0
expect_out "query of a pipe" $'name\nalice\n"say ""hi"""'

# --- --stats ------------------------------------------------------------------------
gfrun query "$people" --filter 'age > 30' --select name --stats
expect_rc "--stats" 0
grep -q '^stats: read ' <<<"$err" || bad "--stats: no read line: $err"
grep -q '^stats: filter+select (fused): 4 -> 2 rows' <<<"$err" || bad "--stats: no fused step line: $err"
grep -q '^workers used: ' <<<"$err" || bad "--stats: no runtime table: $err"
grep -q '^alice$' <<<"$out" || bad "--stats: result missing: $out"

# --- bad command lines: exit 2, one line ------------------------------------------------
gfrun query "$people" --filter 'age > (30'
expect_rc "parse error" 2
expect_one_error_line "parse error" "--filter 'age > \(30': at column 10: expected '\)'"
gfrun query "$people" --with 'x=age +* 2'
expect_rc "parse error in --with" 2
expect_one_error_line "parse error in --with" "--with .*at column [0-9]+"
gfrun query "$people" --filter 'agex > 30'
expect_rc "unknown column in filter" 2
expect_one_error_line "unknown column in filter" "unknown column 'agex'"
gfrun query "$people" --select name,nope
expect_rc "unknown column in select" 2
expect_one_error_line "unknown column in select" "unknown column 'nope'"
gfrun query "$people" --filter 'name + 1 > 2'
expect_rc "type error" 2
expect_one_error_line "type error" "utf8"
gfrun query "$people" --filter 'age'
expect_rc "non-bool filter" 2
expect_one_error_line "non-bool filter" "bool"
for args in "--bogus" "--limit abc" "--limit -1" "--format xml" "--strategy fast" \
  "--memory-limit 12Q" "--memory-limit 0" "--timeout-ms 0" "--chunk-rows 0" "--threads 0" \
  "--with noequals" "--with =1" "--select a,,b" "--how inner" "--join x.csv" \
  "--sort" "--sort 'a sideways'" "--agg 'sum('" "-o x.csv --format table"; do
  eval "gfrun query \"\$people\" $args"
  expect_rc "gf query $args" 2
  expect_one_error_line "gf query $args" "^gf: query: "
done
gfrun query
expect_rc "missing FILE" 2
expect_one_error_line "missing FILE" "missing FILE"
gfrun query "$people" "$people"
expect_rc "the same file twice (read once: cli_multi.sh)" 0
gfrun query "$tmp/does-not-exist.csv"
expect_rc "missing file" 1
expect_one_error_line "missing file" "does-not-exist.csv"

# --- bigger data: identical results for any workers/chunks/strategy --------------------
"$gf" gen groupby --rows 200000 --k 20 --seed 7 -o "$tmp/g.csv" >/dev/null 2>&1 ||
  bad "gf gen groupby failed"
q=(--filter 'v1 >= 3 and id4 <= 10' --with 'w=v3 * v2 - id6' --filter 'w > 100' --select id1,id3,w,v1)
"$gf" query "$tmp/g.csv" "${q[@]}" --threads 1 --format csv >"$tmp/ref.csv" 2>"$tmp/err" ||
  bad "reference query failed: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/ref.csv")" -gt 1000 ] || bad "reference query returned too few rows"
# Under sanitizers (GF_TEST_SANITIZED, set by .ci/run) every gf run is 5-20x
# slower: fewer combinations there; the plain stage runs them all.
threads_set="1 2 3 8" chunks_set="1000 7777 65536"
[ -n "${GF_TEST_SANITIZED:-}" ] && threads_set="2 8" chunks_set="7777"
for t in $threads_set; do
  for c in $chunks_set; do
    "$gf" query "$tmp/g.csv" "${q[@]}" --threads $t --chunk-rows $c --format csv >"$tmp/got.csv" 2>"$tmp/err"
    cmp -s "$tmp/ref.csv" "$tmp/got.csv" || bad "--threads $t --chunk-rows $c differs from --threads 1"
  done
done
for s in auto fixed cache memory; do
  "$gf" query "$tmp/g.csv" "${q[@]}" --threads 2 --strategy $s --format csv >"$tmp/got.csv" 2>"$tmp/err"
  cmp -s "$tmp/ref.csv" "$tmp/got.csv" || bad "--strategy $s differs"
done
g=(--filter 'v1 > 1' --group-by id1,id4 --agg 'sum(v1) as s,mean(v3) as m,count() as n' --sort 'id1, id4 desc')
"$gf" query "$tmp/g.csv" "${g[@]}" --threads 1 --format csv >"$tmp/gref.csv" 2>"$tmp/err" ||
  bad "reference group-by failed: $(cat "$tmp/err")"
for t in 2 3 8; do
  "$gf" query "$tmp/g.csv" "${g[@]}" --threads $t --chunk-rows 5000 --format csv >"$tmp/got.csv" 2>"$tmp/err"
  cmp -s "$tmp/gref.csv" "$tmp/got.csv" || bad "group-by --threads $t differs from --threads 1"
done
# --limit alone reads only what it needs and still answers correctly.
gfrun query "$tmp/g.csv" --limit 3 --select id1,v1 --format csv
expect_rc "limit on a big file" 0
[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] || bad "limit on a big file: $out"
[ "$(printf '%s\n' "$out" | tail -n +2)" == "$(head -n 4 "$tmp/g.csv" | tail -n 3 | cut -d, -f1,7)" ] ||
  bad "limit on a big file: wrong rows: $out"

# --- independent reference: results DuckDB produced ------------------------------------
# tests/data/cli/expected/*.csv hold DuckDB's answers to the SQL twins of the
# queries below over the same generated input (make_expected.py regenerates
# them; it needs the duckdb Python package, this test does not). Floats are
# rounded in the queries on both sides. Each query runs at several worker
# counts and chunk sizes, and every run must equal DuckDB's file.
expected="$data/cli/expected"
"$gf" gen groupby --rows 20000 --k 20 --seed 7 -o "$tmp/g20.csv" >/dev/null 2>&1 ||
  bad "gf gen groupby (20000 rows) failed"
if [ "$(sha256sum <"$tmp/g20.csv" | cut -d' ' -f1)" != "$(cat "$expected/input.sha256")" ]; then
  bad "gf gen groupby --seed 7 no longer makes the input of $expected: rerun make_expected.py"
else
  # check_ref NAME ARGS...: gf query over g20.csv must print $expected/NAME.csv.
  check_ref() {
    local name=$1 t c
    shift
    for t in 1 2 4; do
      for c in 0 3000; do
        local chunk=()
        [ "$c" -gt 0 ] && chunk=(--chunk-rows "$c")
        "$gf" query "$tmp/g20.csv" "$@" --threads $t "${chunk[@]}" --format csv \
          >"$tmp/ref_got.csv" 2>"$tmp/err" || bad "$name: gf failed: $(cat "$tmp/err")"
        cmp -s "$expected/$name.csv" "$tmp/ref_got.csv" ||
          bad "$name (--threads $t --chunk-rows $c) differs from DuckDB's answer:
$(diff "$expected/$name.csv" "$tmp/ref_got.csv" | head -n 10)"
      done
    done
  }
  check_ref filter_with_select --filter "v1 >= 3 and id4 <= 10 and id2 = 'id005'" \
    --with 'w=round(v3 * v2 - id6, 3)' --filter 'w > 100' --select id1,id3,w,v1
  check_ref groupby_sort --filter 'v1 > 1' --group-by id1,id4 \
    --agg 'sum(v1) as s,round(mean(v3), 6) as m,count() as n' --sort 'id1, id4 desc'
  check_ref groupby_stats --group-by id2 --agg 'min(v3) as lo,max(v3) as hi,count(v3) as c,round(std(v3), 6) as sd,round(median(v3) * 2, 6) as med2,n_unique(id4) as u' --sort id2
  check_ref sort_limit --sort 'v3 desc, id3' --limit 25 --select id3,v3,id1
fi

# --- the whole-command timeout: exit 1, "timed out", no partial -o file -----------------
gfrun query "$tmp/g.csv" --filter 'v1 > 1' --timeout-ms 1 -o "$tmp/timeout.csv"
expect_rc "--timeout-ms 1" 1
expect_one_error_line "--timeout-ms 1" "timed out"
[ ! -e "$tmp/timeout.csv" ] || bad "--timeout-ms left an output file"
ls "$tmp" | grep -q 'timeout.csv.' && bad "--timeout-ms left a temporary file: $(ls "$tmp")"
gfrun query "$people" --timeout-ms 60000 --filter 'age > 40' --select name
expect_rc "generous timeout" 0
expect_out "generous timeout" 'name
"say ""hi"""'

# --- the memory limit ------------------------------------------------------------------------
gfrun query "$tmp/g.csv" --filter 'v1 > 1' --memory-limit 64K -o "$tmp/mem.csv"
expect_rc "--memory-limit 64K" 1
expect_one_error_line "--memory-limit 64K" "memory limit"
[ ! -e "$tmp/mem.csv" ] || bad "--memory-limit left an output file"
gfrun query "$people" --memory-limit 512M --filter 'age > 40' --select name
expect_rc "--memory-limit 512M" 0

# --- a skewed join (issue 14, item 7): 20k rows of one key on each side -----------------
# 400M output rows: --timeout-ms and --memory-limit must stop it within 2 s. Under
# sanitizers 10k rows: ASan spends 1.3 s poisoning the 6.4 GB a 400M-row output
# reserves when it is freed (test_join_skew.c).
skew_rows=20000
[ -n "${GF_TEST_SANITIZED:-}" ] && skew_rows=10000
{
  echo k,v
  for i in $(seq 1 $skew_rows); do echo "1,$i"; done
} >"$tmp/skewL.csv"
sed 's/^k,v$/k,w/' "$tmp/skewL.csv" >"$tmp/skewR.csv"
for t in 1 2 4; do
  t0=$(date +%s%N)
  gfrun query "$tmp/skewL.csv" --join "$tmp/skewR.csv" --on k --timeout-ms 200 --threads $t \
    -o "$tmp/skew.csv"
  ms=$((($(date +%s%N) - t0) / 1000000))
  expect_rc "skewed join --timeout-ms 200 --threads $t" 1
  expect_one_error_line "skewed join --timeout-ms 200 --threads $t" "timed out"
  [ "$ms" -lt 2000 ] || bad "skewed join --timeout-ms 200 --threads $t took $ms ms"
  [ ! -e "$tmp/skew.csv" ] || bad "skewed join --timeout-ms left an output file"
done
t0=$(date +%s%N)
gfrun query "$tmp/skewL.csv" --join "$tmp/skewR.csv" --on k --memory-limit 256M
ms=$((($(date +%s%N) - t0) / 1000000))
expect_rc "skewed join --memory-limit 256M" 1
expect_one_error_line "skewed join --memory-limit 256M" "memory limit"
[ "$ms" -lt 2000 ] || bad "skewed join --memory-limit 256M took $ms ms"

# Issue 14 item 1: long flat expressions work (they crashed, then were
# refused above 1,000 levels): 10,000-term sum, 10,000-term or chain,
# 8,000 count() terms, a 15,000-item in list (an argument must stay under
# the kernel's 128 KiB per-argument limit).
printf 'a\n1\n2\n-3\n' >"$tmp/chain.csv"
sum="$(printf 'a+%.0s' $(seq 1 9999))a"
gfrun query "$tmp/chain.csv" --with "x=$sum" --select x
expect_rc "10,000-term sum" 0
expect_out "10,000-term sum" "x
10000
20000
-30000"
ors="$(for i in $(seq 1 9999); do printf 'a = %d or ' $((i % 50 + 5)); done)a = 2"
gfrun query "$tmp/chain.csv" --filter "$ors"
expect_rc "10,000-term or" 0
expect_out "10,000-term or" "a
2"
cnt="$(printf 'count()+%.0s' $(seq 1 7999))count() as n"
gfrun query "$tmp/chain.csv" --agg "$cnt"
expect_rc "8,000 count() terms" 0
expect_out "8,000 count() terms" "n
24000"
items="$(seq -s, 100 15099),-3"
gfrun query "$tmp/chain.csv" --filter "a in ($items)"
expect_rc "15,001-item in list" 0
expect_out "15,001-item in list" "a
-3"

# --- a late value wider than the streamed CSV's sampled type ---------------------
# 200,000 rows (2.4 MB: streamed, types from samples at 0, 1/4, 1/2, 3/4 and
# the end); one "3.5" at row 30,001, outside every sample. The sums are
# computed here by a naive loop (v = i % 100, one row 3.5 instead).
awk 'BEGIN { print "id,v,s"; for (i = 0; i < 200000; i++) printf "%d,%s,k%d\n", i, (i == 30000 ? "3.5" : i % 100), i % 7 }' >"$tmp/late.csv"
want="s,sum(v)
$(awk 'BEGIN { for (i = 0; i < 200000; i++) t[i % 7] += (i == 30000 ? 3.5 : i % 100); for (k = 0; k < 7; k++) printf "k%d,%.1f\n", k, t[k] }')"
gfrun query "$tmp/late.csv" --group-by s --agg 'sum(v)' --sort s
expect_rc "late wider value" 1
grep -q 'late.csv:30002:7: value "3.5" in column "v" is not a valid int32' <<<"$err" &&
  grep -q -- '--types NAME:TYPE' <<<"$err" && grep -q -- '--input-mode read' <<<"$err" ||
  bad "late wider value: error without position or remedies: $err"
gfrun query "$tmp/late.csv" --types v:float64 --group-by s --agg 'sum(v)' --sort s
expect_rc "late value, --types" 0
expect_out "late value, --types" "$want"
gfrun query "$tmp/late.csv" --input-mode read --group-by s --agg 'sum(v)' --sort s
expect_rc "late value, --input-mode read" 0
expect_out "late value, --input-mode read" "$want"
gfrun head -n 1 "$tmp/late.csv" --types 'v:decimal(10, 2),id:int64' --format csv
expect_rc "--types decimal" 0
expect_out "--types decimal" "id,v,s
0,0.00,k0"
for spec in 'v:floaty' 'v' ':int64' 'v:decimal(39,1)' 'v:int64(3)'; do
  gfrun query "$tmp/late.csv" --types "$spec" --limit 1
  expect_rc "--types '$spec' refused" 2
  grep -q -- '--types' <<<"$err" || bad "--types '$spec': message does not name the option: $err"
done

if [ $failures -gt 0 ]; then
  echo "cli_query: $failures failure(s)" >&2
  exit 1
fi
echo "cli_query: ok"
