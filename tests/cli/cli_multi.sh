#!/usr/bin/env bash
# cli_multi.sh GF_BINARY - many files as one table (docs/FILES.md): a
# directory, a quoted glob and several paths give the same rows as the same
# data in one file and as the expected output committed in
# tests/data/cli/multi/; Hive key=value directories become columns and a
# --filter on them prunes files (--explain); --filename-column; the other
# reading commands (head, describe, schema, convert); any --threads; and
# the errors: a glob matching nothing, a directory without data files,
# schemas that cannot be united (file and column named), no partial output.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
data=${GF_TEST_DATA:-$(cd "$(dirname "$0")/../data" && pwd)}/cli/multi
cli_name=cli_multi
source "$(dirname "$0")/lib/cli_test.bash"

# The data set: three partitions (columns in other orders, one file
# without score), a quoted value, and files a directory scan skips.
ds=$tmp/ds
mkdir -p "$ds/year=2023/m=1" "$ds/year=2024/m=1" "$ds/year=2024/m=2" "$ds/_tmp"
printf 'id,name,score\n1,ann,3.5\n2,bob,\n' >"$ds/year=2023/m=1/a.csv"
printf 'id,name\n3,cy\n' >"$ds/year=2024/m=1/b.csv"
printf 'score,id,name\n7,4,"d, e"\n8,5,eve\n' >"$ds/year=2024/m=2/c.csv"
: >"$ds/_SUCCESS"
printf 'junk' >"$ds/year=2024/m=2/.c.csv.crc"
printf 'x\n9\n' >"$ds/_tmp/part.csv"
printf 'not data' >"$ds/README.md"
# The same rows in one file, Hive values as columns.
printf 'id,name,score,year,m\n1,ann,3.5,2023,1\n2,bob,,2023,1\n3,cy,,2024,1\n4,"d, e",7,2024,2\n5,eve,8,2024,2\n' \
  >"$tmp/one.csv"

cd "$tmp" || exit 1
want=$(cat "$data/expected_all.csv")
gfrun query one.csv --format csv
expect_ok "one file"
one=$out
[ "$one" = "$want" ] || bad "one file differs from the expected output: $one"

gfrun query ds --format csv
expect_ok "directory"
[ "$out" = "$want" ] || bad "directory: $out"
gfrun query 'ds/year=*/m=*/*.csv' --format csv
expect_ok "glob"
[ "$out" = "$want" ] || bad "glob: $out"
gfrun query 'ds/**/[a-c].csv' --format csv
expect_ok "glob **"
[ "$out" = "$want" ] || bad "glob **: $out"
gfrun query ds/year=2024/m=2/c.csv ds/year=2023/m=1/a.csv ds/year=2024/m=1/b.csv --format csv
expect_ok "several paths"
# Arguments keep their order (each one's matches are sorted); columns come
# in order of first appearance.
expect_out "several paths: c.csv's columns first" '^score,id,name,year,m$'
[ "$(sed -n 2p <<<"$out")" = '7.0,4,"d, e",2024,2' ] || bad "several paths: first row $out"
gfrun query ds/year=2024/m=2/c.csv ds/year=2023/m=1/a.csv ds/year=2024/m=1/b.csv --format csv --sort id \
  --select id,name,score,year,m
[ "$out" = "$want" ] || bad "several paths sorted: $out"
for t in 1 2 3 8; do
  gfrun query ds --format csv --threads $t
  expect_ok "directory --threads $t"
  [ "$out" = "$want" ] || bad "directory --threads $t: $out"
done

# Steps over the union equal the same steps over the one file.
gfrun query one.csv --format csv --filter 'score > 3' --group-by year --agg 'sum(score) as s, count() as n'
a=$out
gfrun query ds --format csv --filter 'score > 3' --group-by year --agg 'sum(score) as s, count() as n'
expect_ok "group-by over the union"
[ "$out" = "$a" ] || bad "group-by over the union: $out vs $a"

# Hive pruning: --explain shows it, the rows are those of the one file.
gfrun query ds --filter 'year = 2024 and m = 2' --explain
expect_ok "explain pruning"
expect_out "explain: files pruned" 'scan_files .*files=3 pruned=2 hive=\[year, m\]'
gfrun query ds --format csv --filter 'year = 2024 and m = 2'
b=$out
gfrun query one.csv --format csv --filter 'year = 2024 and m = 2'
[ "$out" = "$b" ] || bad "pruned result: $b vs $out"
gfrun query ds --no-hive --format csv --select id
expect_ok "--no-hive"
gfrun query ds --no-hive --format csv --filter 'year = 2024'
expect_rc "--no-hive: no year column" 2
gfrun query ds --hive --format csv --select year,m --sort year
expect_ok "--hive"
gfrun query 'ds/year=2023/m=1/a.csv' ds/_tmp/part.csv --hive
expect_error "--hive with files without keys" 1 "hive partitioning: .*_tmp/part.csv"

# --filename-column.
gfrun query ds --format csv --filename-column src --select id,src --sort id --limit 2
expect_ok "--filename-column"
expect_out "--filename-column value" '^1,ds/year=2023/m=1/a.csv$'
gfrun query ds --format csv --filename-column id
expect_error "--filename-column clash" 1 "column 'id' is both"

# --join over a directory.
printf 'id,city\n1,x\n4,y\n' >cities.csv
gfrun query cities.csv --join ds --on id --format csv --select id,city,name --sort id
expect_ok "--join DIR"
[ "$out" = $'id,city,name\n1,x,ann\n4,y,"d, e"' ] || bad "--join DIR: $out"
gfrun query one.csv -
expect_error "standard input among several inputs" 1 "standard input\) cannot be one of several inputs"

# The other commands.
gfrun head -n 2 ds
expect_ok "head directory"
expect_out "head rows" 'ann'
# 2.csv is ragged past the rows sampled for the plan (at most 10000).
mkdir -p cut && printf 'a\n1\n2\n3\n' >cut/1.csv && { echo a; seq 4 10010; echo 5,6; } >cut/2.csv
gfrun head -n 2 cut
expect_ok "head reads only the files it needs (2.csv is ragged past its sample)"
gfrun query cut --limit 3 --format csv
expect_ok "query --limit reads only the files it needs"
[ "$out" = $'a\n1\n2\n3' ] || bad "query --limit over files: $out"
gfrun query cut --format csv
expect_error "the ragged file, read whole" 1 "cut/2.csv:10009:"
gfrun schema 'ds/*/*/*.csv'
expect_ok "schema glob"
expect_out "schema rows" '^rows: 5$'
expect_out "schema year" '^year +int64'
gfrun describe ds
expect_ok "describe directory"
gfrun convert ds "$tmp/all.arrow"
expect_ok "convert directory"
gfrun query "$tmp/all.arrow" --format csv
[ "$out" = "$want" ] || bad "convert round trip: $out"
gfrun convert ds/year=2023/m=1/a.csv ds/year=2024/m=1/b.csv "$tmp/two.csv"
expect_ok "convert two files"
[ "$(wc -l <"$tmp/two.csv")" -eq 4 ] || bad "convert two files: $(cat "$tmp/two.csv")"

# Errors: one line, exit 1, no output file.
gfrun query 'nothing/*.csv'
expect_error "glob matches nothing" 1 "nothing/\*\.csv: no file matches this pattern"
mkdir -p empty/_x && : >empty/_SUCCESS && : >empty/.a.csv && echo x >empty/notes.md
gfrun query empty
expect_error "directory without data files" 1 "empty: directory has no data files"
mkdir -p bad && printf 'k,d\n1,2024-01-01\n' >bad/a.csv && printf 'k,d\n2,true\n' >bad/b.csv
gfrun convert bad "$tmp/bad.arrow"
expect_error "schema conflict" 1 "column 'd' is date32 in 'bad/a.csv' but bool in 'bad/b.csv'"
[ ! -e "$tmp/bad.arrow" ] || bad "schema conflict left an output file"
gfrun query 'ds/**'
expect_error "trailing **" 1 "'\*\*' must be followed by a file pattern"
# The same data set as Parquet files and as NDJSON files (each file
# converted on its own): the same rows; Hive pruning still shown.
for kind in parquet ndjson; do
  for f in year=2023/m=1/a year=2024/m=1/b year=2024/m=2/c; do
    mkdir -p "ds_$kind/$(dirname "$f")"
    gfrun convert "ds/$f.csv" "ds_$kind/$f.$kind"
    expect_ok "convert $f to $kind"
  done
  gfrun query "ds_$kind" --format csv
  expect_ok "directory of $kind files"
  [ "$out" = "$want" ] || bad "directory of $kind files: $out"
  gfrun query "ds_$kind" --filter 'year = 2024 and m = 2' --explain
  expect_out "$kind: files pruned" 'scan_files .*files=3 pruned=2'
done
# One Parquet file: the scan takes the columns and the filter.
gfrun convert one.csv one.parquet
gfrun query one.parquet --filter 'id > 3' --select id,name --explain
expect_out "parquet scan pushdown" 'scan_parquet "one.parquet" columns=\[id, name\] predicate=\(id > 3\)'
gfrun query one.parquet --filter 'id > 3' --select id,name --format csv
expect_ok "parquet scan"
[ "$out" = $'id,name\n4,"d, e"\n5,eve' ] || bad "parquet scan: $out"
mkdir -p pq && printf 'a\n1\n' >pq/a.csv && printf 'PAR1' >pq/b.parquet
gfrun query pq
expect_error "a truncated Parquet file in a directory" 1 "b.parquet"

if [ "$failures" -ne 0 ]; then
  echo "$cli_name: $failures failure(s)" >&2
  exit 1
fi
echo "$cli_name: PASS"
