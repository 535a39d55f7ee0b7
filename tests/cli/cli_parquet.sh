#!/usr/bin/env bash
# cli_parquet.sh GF_BINARY - Parquet input in the gf tool (paths ending
# .parquet): schema from the footer only, head, query, convert to CSV, and
# truncated or unsupported files failing with exit 1 and one "gf: " line.
# Registered as the ctest `cli_parquet`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cli_name=cli_parquet
source "$(dirname "$0")/lib/cli_test.bash"
gen=$(cd "$(dirname "$0")/../data/parquet/gen" && pwd)

gfrun schema "$gen/tiny.parquet"
expect_ok "schema"
expect_out "schema" '^rows: 7$'
expect_out "schema" '^s +dictionary<utf8> +true +-$'

gfrun head -n 3 "$gen/tiny.parquet"
expect_ok "head"
expect_out "head" 'shape: \(3, 4\)'

# key = 3 * row: 10 rows below 30.
gfrun query "$gen/many_row_groups.parquet" --filter "key < 30" --select key,name
expect_ok "query"
[ "$(printf '%s\n' "$out" | grep -c '^[0-9]')" -eq 10 ] || bad "query: expected 10 rows: $out"

gfrun convert "$gen/tiny.parquet" "$tmp/tiny.csv"
expect_ok "convert"
[ "$(head -n 1 "$tmp/tiny.csv")" = "id,s,x,t" ] || bad "convert: header $(head -n 1 "$tmp/tiny.csv")"
[ "$(grep -c '' "$tmp/tiny.csv")" -eq 8 ] || bad "convert: expected 8 lines"

head -c 300 "$gen/tiny.parquet" >"$tmp/cut.parquet"
gfrun head "$tmp/cut.parquet"
expect_error "truncated" 1 'not a Parquet file'
gfrun schema "$tmp/cut.parquet"
expect_error "truncated schema" 1 'not a Parquet file'

if [ $failures -ne 0 ]; then
  echo "cli_parquet: $failures failure(s)" >&2
  exit 1
fi
echo "cli_parquet: PASS"
