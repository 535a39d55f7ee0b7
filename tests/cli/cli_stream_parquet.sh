#!/usr/bin/env bash
# cli_stream_parquet.sh GF_BINARY - `gf query -o FILE.parquet` written by
# the plan's Parquet sink (gf_plan_sink_parquet; docs/STREAMING.md): a CSV
# --sort, a filter and a group-by under a --memory-limit (64M: the sink
# holds up to one row group, 1Mi rows, of the result) write the bytes of
# the unlimited run and of the collected run (--profile keeps the
# collected path, written by gf_write_parquet) and leaves --temp-dir empty;
# the files convert back to
# the CSV a plain run writes; a failed run leaves no file. When a Python
# with pyarrow is found (GF_PYTHON, or the build's pyenv next to the
# binary) pyarrow reads the outputs. Registered as the ctest
# `cli_stream_parquet`.
set -uo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-spq.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
spill=$tmp/spill
mkdir "$spill"
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
"$gf" gen groupby --rows 300000 -k 100 -o "$tmp/g.csv" >/dev/null || bad "gen groupby"
# The same query three ways: streamed (2 and 3 threads, limited or not)
# and collected (--profile); all the same bytes.
run() { # NAME ARGS...: gf query g.csv ARGS -o NAME.parquet (and the collected twin)
  local name=$1
  shift
  "$gf" query --threads 2 "$tmp/g.csv" "$@" -o "$tmp/$name.parquet" 2>"$tmp/err" ||
    bad "$name: $(cat "$tmp/err")"
  "$gf" query --threads 3 "$tmp/g.csv" "$@" -o "$tmp/$name.lim.parquet" --memory-limit 64M \
    --temp-dir "$spill" 2>"$tmp/err" || bad "$name at 64M: $(cat "$tmp/err")"
  "$gf" query --threads 1 "$tmp/g.csv" "$@" -o "$tmp/$name.col.parquet" --profile \
    2>"$tmp/err" || bad "$name collected: $(cat "$tmp/err")"
  cmp -s "$tmp/$name.parquet" "$tmp/$name.lim.parquet" || bad "$name: bytes differ at 64M"
  cmp -s "$tmp/$name.parquet" "$tmp/$name.col.parquet" || bad "$name: bytes differ from the collected run"
  "$gf" query "$tmp/g.csv" "$@" -o "$tmp/$name.csv" 2>"$tmp/err" || bad "$name to csv"
  "$gf" convert "$tmp/$name.parquet" "$tmp/$name.back.csv" >/dev/null 2>&1 || bad "convert $name"
  cmp -s "$tmp/$name.csv" "$tmp/$name.back.csv" || bad "$name.parquet holds other rows than $name.csv"
  [ -z "$(ls -A "$spill")" ] || bad "$name: spill files left: $(ls "$spill")"
}
run sort --sort v3
run filt --filter 'v1 > 3' --select 'id1,v3'
run grp --group-by id1 --agg 'sum(v1) as s, max(v3) as m'
"$gf" head "$tmp/sort.parquet" >/dev/null 2>&1 || bad "gf head sort.parquet"
# A run that fails (an unknown column found at run time): no file.
"$gf" query "$tmp/g.csv" --sort nope -o "$tmp/bad.parquet" 2>/dev/null && bad "sort by an unknown column"
[ -e "$tmp/bad.parquet" ] && bad "a failed run left bad.parquet"
ls "$tmp" | grep -q '^\.\|tmp' && bad "temporary files left: $(ls -a "$tmp")"
py=${GF_PYTHON:-$(dirname "$gf")/pyenv/bin/python}
if [ -x "$py" ] && "$py" -c 'import pyarrow' 2>/dev/null; then
  "$py" - "$tmp" <<'PY' || bad "pyarrow check"
import sys, pyarrow.parquet as pq, pyarrow.csv as pcsv
d = sys.argv[1]
t = pq.read_table(f"{d}/sort.parquet")
src = pcsv.read_csv(f"{d}/g.csv")
assert t.num_rows == src.num_rows == 300000, t.num_rows
v3 = t.column("v3").to_pylist()
assert v3 == sorted(src.column("v3").to_pylist()), "v3 not the sorted input"
f = pq.read_table(f"{d}/filt.parquet")
want = [r for r in zip(src.column("v1").to_pylist(), src.column("v3").to_pylist()) if r[0] > 3]
assert f.column("v3").to_pylist() == [r[1] for r in want]
g = pq.read_table(f"{d}/grp.parquet")
assert g.num_rows == len(set(src.column("id1").to_pylist())), g.num_rows
PY
else
  echo "note: no Python with pyarrow; pyarrow checks skipped" >&2
fi
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "cli_stream_parquet: ok"
