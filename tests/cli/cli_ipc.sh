#!/usr/bin/env bash
# cli_ipc.sh GF_BINARY - Arrow IPC in the gf tool: convert between CSV and
# IPC files (.arrow .feather .ipc) and streams (.arrows) in every direction,
# types kept exactly, body compression, custom metadata, schema/head/
# describe/query on IPC input, and corrupt or truncated IPC input failing
# with exit 1 and one "gf: " line naming a byte offset, never a signal.
# Registered as the ctest `cli_ipc`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cli_name=cli_ipc
source "$(dirname "$0")/lib/cli_test.bash"
# same_file CASE A B: byte-identical files.
same_file() {
  cmp -s "$2" "$3" || bad "$1: $2 and $3 differ: $(diff "$2" "$3" | head -n 6)"
}

# A CSV with every type the CSV reader infers, nulls in every column, a
# low-cardinality string column (read as a dictionary), quoting and
# non-ASCII text. Written in canonical form (what gf writes back), so a
# round trip must reproduce it byte for byte.
cat >"$tmp/mixed.csv" <<'CSV'
id,big,x,name,colour,ok,day,at
1,9007199254740993,0.5,alice,red,true,2021-03-04,2021-03-04T10:11:12.000000
2,-9007199254740993,-1.25,"bob, jr",green,false,1970-01-01,1970-01-01T00:00:00.000000
,12,1e+300,"say ""hi""",red,,1969-12-31,1969-12-31T23:59:59.500000
4,,,,blue,true,,
5,0,3.141592653589793,zoë,,false,2000-02-29,2000-02-29T12:00:00.123456
6,1,-0.0,"multi
line",red,true,2038-01-19,2038-01-19T03:14:08.000000
7,2,2.5e-10,x,green,false,1900-01-01,
8,3,42.0,,red,true,2100-12-31,2100-12-31T23:59:59.999999
9,4,-7.0,nine,green,,2024-02-29,2024-02-29T00:00:01.000000
10,5,100.0,ten,red,false,2001-09-09,2001-09-09T01:46:40.000000
CSV
# The reference: what gf itself writes for this CSV (must be unchanged).
gfrun convert "$tmp/mixed.csv" "$tmp/canon.csv"
expect_ok "convert csv->csv"
same_file "mixed.csv is canonical" "$tmp/mixed.csv" "$tmp/canon.csv"
gfrun schema "$tmp/mixed.csv"
expect_ok "schema of the CSV"
printf '%s\n' "$out" | sed -n '/^name /,$p' >"$tmp/schema.csv.txt"
expect_out "CSV has a dictionary column" '^colour +dictionary<utf8> '
expect_out "CSV has a timestamp column" '^at +timestamp\[us\] '
expect_out "CSV int64" '^big +int64 '

# schema_of FILE: the column table of `gf schema FILE` (without the file line).
schema_of() {
  gfrun schema "$1"
  expect_ok "schema $1"
  printf '%s\n' "$out" | sed -n '/^name /,$p'
}

# --- CSV -> IPC -> CSV, every container and codec ---------------------------------
# GF_CODECS (set by CMake) lists the codecs this build has: those must work;
# any other must be refused cleanly. Run by hand, all are expected.
built_codecs=${GF_CODECS-lz4 zstd}
built() { [[ " $built_codecs " == *" $1 "* ]]; }
for c in lz4 zstd; do built "$c" || echo "cli_ipc: SKIP $c round trips: this build has no $c (GF_CODECS='$built_codecs')"; done
codecs="none lz4 zstd"
for ext in arrow feather ipc arrows; do
  for codec in $codecs; do
    f="$tmp/mixed-$codec.$ext"
    gfrun convert --compression "$codec" "$tmp/mixed.csv" "$f"
    if [ "$codec" != none ] && ! built "$codec"; then
      expect_error "convert --compression $codec (not built)" 1 "not available in this build"
      [ ! -e "$f" ] || bad "refused $codec convert left $f"
      continue
    fi
    expect_ok "convert csv->$ext ($codec)"
    schema_of "$f" >"$tmp/schema.ipc.txt"
    same_file "types kept in $ext ($codec)" "$tmp/schema.csv.txt" "$tmp/schema.ipc.txt"
    gfrun convert "$f" "$tmp/back.csv"
    expect_ok "convert $ext ($codec)->csv"
    same_file "round trip through $ext ($codec)" "$tmp/mixed.csv" "$tmp/back.csv"
  done
done

# File vs stream: the magic decides, so the same bytes differ by container.
head -c 6 "$tmp/mixed-none.arrow" | grep -q '^ARROW1$' || bad ".arrow does not start with ARROW1"
head -c 6 "$tmp/mixed-none.arrows" | grep -q 'ARROW1' && bad ".arrows starts with the file magic"
[ "$(tail -c 6 "$tmp/mixed-none.arrow")" = ARROW1 ] || bad ".arrow does not end with ARROW1"
# A stream under a file name (and a file under a stream name) still reads.
cp "$tmp/mixed-none.arrows" "$tmp/stream-named.arrow"
cp "$tmp/mixed-none.arrow" "$tmp/file-named.arrows"
for f in "$tmp/stream-named.arrow" "$tmp/file-named.arrows"; do
  gfrun convert "$f" "$tmp/back.csv"
  expect_ok "convert $(basename "$f")"
  same_file "content of $(basename "$f")" "$tmp/mixed.csv" "$tmp/back.csv"
done
# Uppercase extensions count too.
gfrun convert "$tmp/mixed.csv" "$tmp/UPPER.ARROW"
expect_ok "convert to .ARROW"
head -c 6 "$tmp/UPPER.ARROW" | grep -q '^ARROW1$' || bad ".ARROW is not an IPC file"

# --- IPC -> IPC: types exact across containers and codecs --------------------------
gfrun convert "$tmp/mixed-none.arrow" "$tmp/chain1.arrows"
expect_ok "arrow->arrows"
chain_codec=none
built zstd && chain_codec=zstd
gfrun convert --compression "$chain_codec" "$tmp/chain1.arrows" "$tmp/chain2.feather"
expect_ok "arrows->feather ($chain_codec)"
gfrun convert "$tmp/chain2.feather" "$tmp/chain3.ipc"
expect_ok "feather->ipc"
schema_of "$tmp/chain3.ipc" >"$tmp/schema.ipc.txt"
same_file "types kept through IPC->IPC" "$tmp/schema.csv.txt" "$tmp/schema.ipc.txt"
gfrun convert "$tmp/chain3.ipc" "$tmp/back.csv"
same_file "content kept through IPC->IPC" "$tmp/mixed.csv" "$tmp/back.csv"
# Uncompressed IPC -> IPC of the same container is byte-stable.
gfrun convert "$tmp/mixed-none.arrow" "$tmp/again.arrow"
expect_ok "arrow->arrow"
same_file "arrow->arrow is byte-stable" "$tmp/mixed-none.arrow" "$tmp/again.arrow"

# --- compression really compresses, and is refused where it does not apply -------------
gfrun gen groupby --rows 20000 --k 10 --seed 3 -o "$tmp/g.csv"
expect_ok "gen"
gfrun convert "$tmp/g.csv" "$tmp/g-none.arrow"
expect_ok "convert g none"
for codec in lz4 zstd; do
  gfrun convert --compression "$codec" "$tmp/g.csv" "$tmp/g-$codec.arrow"
  if ! built "$codec"; then
    expect_error "convert --compression $codec" 1 "$codec compression is not available in this build"
    continue
  fi
  expect_ok "convert g $codec"
  small=$(stat -c %s "$tmp/g-$codec.arrow")
  big=$(stat -c %s "$tmp/g-none.arrow")
  [ "$small" -lt $((big * 3 / 4)) ] || bad "$codec file is $small bytes, uncompressed $big"
  gfrun convert "$tmp/g-$codec.arrow" "$tmp/g-back.csv"
  expect_ok "convert g $codec->csv"
  gfrun convert "$tmp/g.csv" "$tmp/g-canon.csv"
  same_file "g round trip through $codec" "$tmp/g-canon.csv" "$tmp/g-back.csv"
done
gfrun convert --compression zstd --compression-level 19 "$tmp/g.csv" "$tmp/g-z19.arrows"
if built zstd; then expect_ok "convert --compression-level 19"
else expect_error "convert --compression-level" 1 "not available in this build"; fi
gfrun convert --compression gzip "$tmp/g.csv" "$tmp/x.arrow"
expect_error "convert --compression gzip" 2 "--compression expects none, lz4 or zstd, got 'gzip'"
gfrun convert --compression lz4 "$tmp/g.csv" "$tmp/x.csv"
expect_error "--compression with CSV out" 2 "apply to an Arrow IPC OUT"
gfrun convert --null NA "$tmp/g.csv" "$tmp/x.arrow"
expect_error "--null with IPC out" 2 "apply to a CSV OUT"
gfrun convert --compression-level abc "$tmp/g.csv" "$tmp/x.arrow"
expect_error "--compression-level abc" 2 "--compression-level expects an integer"
[ ! -e "$tmp/x.arrow" ] || bad "a refused convert left x.arrow"

# --- custom metadata ---------------------------------------------------------------
gfrun convert --metadata owner=team --metadata 'formula=a=b' --metadata owner=lead \
  "$tmp/mixed.csv" "$tmp/meta.arrow"
expect_ok "convert --metadata"
gfrun schema "$tmp/meta.arrow"
expect_ok "schema with metadata"
expect_out "metadata header" '^metadata:$'
expect_out "metadata last value wins" '^  owner: lead$'
expect_out "metadata value keeps '='" '^  formula: a=b$'
grep -q 'owner: team' <<<"$out" && bad "replaced metadata value still shown"
gfrun convert --metadata extra=1 "$tmp/meta.arrow" "$tmp/meta2.arrows"
expect_ok "IPC->IPC keeps metadata"
gfrun schema "$tmp/meta2.arrows"
expect_out "metadata carried over" '^  owner: lead$'
expect_out "metadata added" '^  extra: 1$'
gfrun schema "$tmp/mixed-none.arrow"
grep -q '^metadata:' <<<"$out" && bad "schema shows metadata for a file without any"
gfrun convert --metadata novalue "$tmp/mixed.csv" "$tmp/x.arrow"
expect_error "--metadata without =" 2 "--metadata expects KEY=VALUE"

# --- schema / head / describe / query on IPC ------------------------------------------
for f in "$tmp/mixed-none.arrow" "$tmp/mixed-none.arrows"; do
  gfrun schema "$f"
  expect_ok "schema $(basename "$f")"
  expect_out "schema rows" '^rows: 10$'
  expect_out "schema nulls" '^id +int32 +true +1$'
  gfrun head -n 3 "$f"
  expect_ok "head $(basename "$f")"
  expect_out "head shape" '^shape: \(3, 8\)$'
  expect_out "head dtypes" 'i32 .*i64 .*f64 .*str .*cat .*bool .*date .*datetime'
  expect_out "head values" '"bob, jr"'
  gfrun describe "$f"
  expect_ok "describe $(basename "$f")"
  expect_out "describe id mean" '"mean" +┆ 5\.777777777777778 '
done
gfrun head -n 0 "$tmp/mixed-none.arrow"
expect_ok "head -n 0 IPC"
expect_out "head -n 0 shape" '^shape: \(0, 8\)$'
gfrun query "$tmp/mixed-none.arrow" --filter 'id > 5' --select id,colour,at --format csv
expect_ok "query IPC"
[ "$(printf '%s\n' "$out" | head -n 1)" = "id,colour,at" ] || bad "query IPC header: $out"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 6 ] || bad "query IPC rows: $out"
gfrun query "$tmp/mixed-none.arrows" --limit 2 --format csv
expect_ok "query IPC stream --limit"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 3 ] || bad "query --limit 2 rows: $out"
# query -o writes IPC files and streams that read back with the same types.
for ext in arrow arrows; do
  gfrun query "$tmp/mixed.csv" --filter 'ok' -o "$tmp/q.$ext"
  expect_ok "query -o .$ext"
  gfrun schema "$tmp/q.$ext"
  expect_out "query -o .$ext rows" '^rows: 4$'
  expect_out "query -o .$ext dictionary kept" '^colour +dictionary<utf8> '
  expect_out "query -o .$ext timestamp kept" '^at +timestamp\[us\] '
done
head -c 6 "$tmp/q.arrow" | grep -q '^ARROW1$' || bad "query -o .arrow is not an IPC file"
head -c 6 "$tmp/q.arrows" | grep -q 'ARROW1' && bad "query -o .arrows wrote a file, not a stream"
gfrun query "$tmp/mixed-none.arrow" --join "$tmp/mixed-none.arrows" --on id --select id --sort id --format csv
expect_ok "query join IPC with IPC"
[ "$(printf '%s\n' "$out" | tr '\n' ' ')" = "id 1 2 4 5 6 7 8 9 10 " ] || bad "join rows: $out"

# --- bad input: exit 1, one line, a byte offset, never a signal -----------------------
gfrun schema "$tmp/missing.arrow"
expect_error "schema missing IPC" 1 "missing.arrow: No such file or directory"
: >"$tmp/empty.arrow"
gfrun schema "$tmp/empty.arrow"
expect_error "schema empty IPC" 1 "empty.arrow: .*byte"
printf 'a,b\n1,2\n' >"$tmp/csv-named.arrow"
gfrun head "$tmp/csv-named.arrow"
# The content decides (docs/FORMATS.md): CSV named .arrow reads as CSV.
expect_ok "CSV named .arrow"
expect_out "CSV named .arrow reads as CSV" 'a'
echo "keep me" >"$tmp/existing.csv"
head -c 300 "$tmp/mixed-none.arrow" >"$tmp/cut.arrow"
gfrun convert "$tmp/cut.arrow" "$tmp/existing.csv"
expect_error "convert truncated IPC" 1 "^gf: convert: .*cut.arrow: .*byte"
[ "$(cat "$tmp/existing.csv")" = "keep me" ] || bad "a failed convert changed the existing output"

# Truncated at every 7th byte of the first 512 and every 61st after (the
# library's unit tests cut at every byte; here each cut costs a process, and
# the suite also runs under sanitizers on 2 cores): a
# file fails (exit 1, byte offset); a stream cut exactly between messages is
# a valid shorter stream, so it may read (0 rows after the schema, all rows
# without the end marker).
for f in mixed-none.arrow mixed-none.arrows; do
  size=$(stat -c %s "$tmp/$f")
  ext=${f##*.}
  for ((i = 0; i < size; i += (i < 512 ? 7 : 61))); do
    head -c "$i" "$tmp/$f" >"$tmp/cut.$ext"
    "$gf" schema "$tmp/cut.$ext" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$ext" = arrows ] && grep -Eq '^rows: (0|10)$' "$tmp/out"; then
      continue
    fi
    if [ "$rc" -ne 1 ] || [ "$(grep -c '' "$tmp/err")" -ne 1 ] || ! grep -q '^gf: schema: .*byte' "$tmp/err"; then
      bad "$f cut at $i bytes: exit $rc, stderr: $(cat "$tmp/err")"
      break
    fi
  done
done

# Random bit flips: any exit 0 or 1 (a flip in a value is still a valid
# file), one error line on failure, never a signal.
seed=12345
size=$(stat -c %s "$tmp/mixed-none.arrow")
for ((t = 0; t < 20; t++)); do
  cp "$tmp/mixed-none.arrow" "$tmp/flip.arrow"
  for ((k = 0; k < 3; k++)); do
    seed=$(((seed * 1103515245 + 12345) % 2147483648))
    pos=$((seed % size))
    seed=$(((seed * 1103515245 + 12345) % 2147483648))
    bit=$((1 << (seed % 8)))
    byte=$(od -An -tu1 -j "$pos" -N1 "$tmp/flip.arrow" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ bit)))" |
      dd of="$tmp/flip.arrow" bs=1 seek="$pos" conv=notrunc status=none
  done
  "$gf" convert "$tmp/flip.arrow" "$tmp/flip.csv" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "$(grep -c '' "$tmp/err")" -ne 1 ]; }; then
    bad "bit flip trial $t: exit $rc, stderr: $(cat "$tmp/err")"
    break
  fi
done
# Absurd lengths: a metadata length of 2^31-1 right after the magic.
{
  printf 'ARROW1\0\0\377\377\377\377\377\377\377\177'
  head -c 64 /dev/zero
  printf 'ARROW1'
} >"$tmp/absurd.arrow"
gfrun schema "$tmp/absurd.arrow"
expect_error "absurd length" 1 "byte"
[ -z "$(find "$tmp" -name '*.gf-tmp-*')" ] || bad "temporary files left behind: $(ls -a "$tmp")"

# pyarrow's Utf8View/BinaryView files (tests/data/views/make_views.py) read
# as utf8/binary; a nested column is refused naming its type and field.
views=${GF_TEST_DATA:-$(cd "$(dirname "$0")/../data" && pwd)}/views
gfrun schema "$views/views.arrow"
expect_ok "view schema"
expect_out "view schema" "^sv +utf8 "
expect_out "view schema" "^bv +binary "
gfrun convert "$views/views.arrows" "$tmp/views.csv"
expect_ok "view stream to CSV"
gfrun convert "$views/views.arrow" "$tmp/views2.csv"
same_file "view file and stream" "$tmp/views.csv" "$tmp/views2.csv"
gfrun head "$views/nested_struct.arrow"
expect_error "nested struct" 1 "type struct is not supported.*|'n'.*struct"
gfrun head "$views/nested_list.arrow"
expect_error "nested list" 1 "'n': type list is not supported"

if [ $failures -ne 0 ]; then
  echo "cli_ipc: $failures failure(s)" >&2
  exit 1
fi
echo "cli_ipc: PASS"
