#!/usr/bin/env bash
# cli_json.sh GF_BINARY - JSON in the gf tool: convert CSV -> .ndjson /
# .jsonl / .json and back (values equal, checked by Python's json module
# when python3 is there), query/head/schema/describe reading .ndjson and
# .json, --format table|csv|tsv|json|ndjson|markdown, bad JSON as one error
# line with line/column/byte and exit 1, no output file after a failure.
# Registered as the ctest `cli_json`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-json.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

gfrun() {
  "$gf" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
  if [ $rc -ge 128 ]; then
    bad "gf $* died by signal $((rc - 128))"
  fi
}
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
expect_rc() {
  [ "$rc" -eq "$2" ] || bad "$1: exit code $rc, expected $2 (stderr: $err)"
}
expect_out() {
  [ "$out" = "$2" ] || bad "$1: stdout was
$out
expected
$2"
}

cat >"$tmp/a.csv" <<'EOF'
id,name,score,when
1,"say ""hi""",1.5,2024-01-02
2,,-0.25,
3,é ünï,1e+300,2024-02-29
EOF

# CSV -> NDJSON / JSON array / JSON Lines and back.
gfrun convert "$tmp/a.csv" "$tmp/a.ndjson"
expect_rc "convert to ndjson" 0
out=$(cat "$tmp/a.ndjson")
expect_out "ndjson file" "$(printf '%s\n' \
  '{"id":1,"name":"say \"hi\"","score":1.5,"when":"2024-01-02"}' \
  '{"id":2,"name":null,"score":-0.25,"when":null}' \
  '{"id":3,"name":"é ünï","score":1e+300,"when":"2024-02-29"}')"
gfrun convert "$tmp/a.csv" "$tmp/a.json"
expect_rc "convert to json" 0
gfrun convert "$tmp/a.csv" "$tmp/a.jsonl"
expect_rc "convert to jsonl" 0
cmp -s "$tmp/a.ndjson" "$tmp/a.jsonl" || bad ".jsonl differs from .ndjson"
for f in a.ndjson a.json a.jsonl; do
  gfrun convert "$tmp/$f" "$tmp/back.csv"
  expect_rc "convert $f to csv" 0
  cmp -s "$tmp/a.csv" "$tmp/back.csv" || bad "$f -> csv differs: $(cat "$tmp/back.csv")"
done
if command -v python3 >/dev/null; then
  python3 - "$tmp/a.json" "$tmp/a.ndjson" <<'EOF' || bad "python json disagrees"
import json, sys
arr = json.load(open(sys.argv[1], encoding="utf-8"))
lines = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert arr == lines, (arr, lines)
assert arr[0] == {"id": 1, "name": 'say "hi"', "score": 1.5, "when": "2024-01-02"}, arr[0]
assert arr[2]["score"] == 1e300 and arr[1]["name"] is None
EOF
fi

# Reading JSON in every command; --format everywhere.
gfrun query "$tmp/a.ndjson" --filter 'score > 0' --select id,score --format json
expect_rc "query ndjson" 0
expect_out "query --format json" "$(printf '%s\n' '[' '{"id":1,"score":1.5},' '{"id":3,"score":1e+300}' ']')"
gfrun query "$tmp/a.json" --select id --format ndjson
expect_out "query json array --format ndjson" "$(printf '%s\n' '{"id":1}' '{"id":2}' '{"id":3}')"
gfrun query "$tmp/a.ndjson" --select id,name --format tsv
expect_out "--format tsv" "$(printf 'id\tname\n1\t"say ""hi"""\n2\t\n3\té ünï')"
gfrun query "$tmp/a.ndjson" --select id,name --format markdown
expect_out "--format markdown" "$(printf '%s\n' '| id | name |' '| ---: | --- |' '| 1 | say "hi" |' '| 2 |  |' '| 3 | é ünï |')"
gfrun query "$tmp/a.ndjson" --select id --format table
expect_rc "--format table" 0
echo "$out" | grep -q "shape: (3, 1)" || bad "--format table: $out"
gfrun head -n 1 "$tmp/a.json" --format ndjson
expect_out "head --format ndjson" '{"id":1,"name":"say \"hi\"","score":1.5,"when":"2024-01-02"}'
gfrun head -n 2 "$tmp/a.ndjson" --format csv
expect_out "head -n 2 ndjson" "$(printf '%s\n' 'id,name,score,when' '1,"say ""hi""",1.5,2024-01-02' '2,,-0.25,')"
gfrun schema "$tmp/a.ndjson" --format csv
expect_out "schema --format csv" "$(printf '%s\n' 'name,type,nullable,nulls' 'id,int64,true,0' 'name,utf8,true,1' 'score,float64,true,0' 'when,date32,true,1')"
gfrun describe "$tmp/a.ndjson" --format json
expect_rc "describe --format json" 0
echo "$out" | grep -q '"statistic":"count"' || bad "describe --format json: $out"
gfrun query "$tmp/a.ndjson" --format yaml
expect_rc "--format yaml" 2
gfrun query "$tmp/a.ndjson" --select id -o "$tmp/q.json"
expect_rc "query -o .json" 0
[ "$(cat "$tmp/q.json")" = "$(printf '%s\n' '[' '{"id":1},' '{"id":2},' '{"id":3}' ']')" ] || bad "query -o json: $(cat "$tmp/q.json")"

# Bad JSON: one error line with the location, exit 1, no output file.
printf '{"a":1}\n{"a":2,"b":{"c":1}}\n' >"$tmp/nested.ndjson"
gfrun convert "$tmp/nested.ndjson" "$tmp/never.csv"
expect_rc "nested" 1
[ "$(echo "$err" | wc -l)" -eq 1 ] || bad "nested: more than one error line: $err"
echo "$err" | grep -q "^gf: .*nested.ndjson:2:12 (byte 19): key 'b' holds a nested object" || bad "nested: $err"
[ -e "$tmp/never.csv" ] && bad "a failed convert left never.csv"
printf '{"a":"\xff"}\n' >"$tmp/utf.ndjson"
gfrun query "$tmp/utf.ndjson"
expect_rc "invalid utf-8" 1
echo "$err" | grep -q "utf.ndjson:1:7 (byte 6): invalid UTF-8" || bad "invalid utf-8: $err"
printf '[{"a":1},\n{"a":2}\n' >"$tmp/trunc.json"
gfrun query "$tmp/trunc.json"
expect_rc "truncated array" 1
echo "$err" | grep -q "trunc.json:3:1 (byte 18): expected ',' or ']'" || bad "truncated: $err"

if [ $failures -ne 0 ]; then
  echo "cli_json: $failures failure(s)" >&2
  exit 1
fi
echo "cli_json: ok"
