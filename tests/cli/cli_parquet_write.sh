#!/usr/bin/env bash
# cli_parquet_write.sh GF_BINARY - writing Parquet from the gf tool: `gf
# convert IN OUT.parquet` with every codec this build has (GF_CODECS), the
# same bytes for any --threads, `gf query -o OUT.parquet`, and refusals
# (unknown codec, Parquet options on another OUT, an unwritable target)
# that exit 1 or 2 with one "gf: " line and leave no file. What the files
# hold is checked by python/tests/test_parquet_interop.py (pyarrow, Polars,
# DuckDB). Registered as the ctest `cli_parquet_write`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cli_name=cli_parquet_write
source "$(dirname "$0")/lib/cli_test.bash"

# par1 CASE FILE: starts and ends with the Parquet magic.
par1() {
  [ -f "$2" ] || { bad "$1: $2 missing"; return; }
  [ "$(head -c 4 "$2")" = PAR1 ] || bad "$1: $2 does not start with PAR1"
  [ "$(tail -c 4 "$2")" = PAR1 ] || bad "$1: $2 does not end with PAR1"
}

{
  echo "id,name,x,day"
  for i in $(seq 1 3000); do
    echo "$i,n$((i % 37)),$((i * 7 % 1000)).25,2021-03-$(printf %02d $((i % 28 + 1)))"
  done
  echo ",,,"
} >"$tmp/in.csv"

built_codecs=" ${GF_CODECS-lz4 zstd snappy zlib} "
for c in none snappy gzip zstd lz4; do
  lib=$c
  [ "$c" = gzip ] && lib=zlib
  if [ "$c" != none ] && [[ $built_codecs != *" $lib "* ]]; then
    gfrun convert --compression "$c" "$tmp/in.csv" "$tmp/$c.parquet"
    expect_error "convert $c without lib$lib" 1 "not available"
    [ -e "$tmp/$c.parquet" ] && bad "convert $c without the codec left a file"
    continue
  fi
  gfrun convert --compression "$c" --row-group-size 1000 --page-rows 300 "$tmp/in.csv" "$tmp/$c.parquet"
  expect_ok "convert --compression $c"
  par1 "convert $c" "$tmp/$c.parquet"
  # The same bytes for any thread count.
  for t in 1 3; do
    gfrun convert --threads "$t" --compression "$c" --row-group-size 1000 --page-rows 300 \
      "$tmp/in.csv" "$tmp/$c.t$t.parquet"
    expect_ok "convert $c --threads $t"
    cmp -s "$tmp/$c.parquet" "$tmp/$c.t$t.parquet" || bad "convert $c: --threads $t changed the bytes"
  done
done

gfrun query "$tmp/in.csv" --filter 'id > 10' -o "$tmp/q.parquet"
expect_ok "query -o .parquet"
par1 "query -o" "$tmp/q.parquet"

gfrun convert --compression brotli "$tmp/in.csv" "$tmp/b.parquet"
expect_error "unknown codec" 2 "brotli"
[ -e "$tmp/b.parquet" ] && bad "unknown codec left a file"
gfrun convert --row-group-size 10 "$tmp/in.csv" "$tmp/b.csv"
expect_error "Parquet option on a CSV OUT" 2 "Parquet OUT"
gfrun convert "$tmp/in.csv" "$tmp/no-such-dir/x.parquet"
expect_error "unwritable target" 1 "no-such-dir"

if [ "$failures" -gt 0 ]; then
  echo "$cli_name: $failures failure(s)" >&2
  exit 1
fi
echo "$cli_name: all checks passed"
