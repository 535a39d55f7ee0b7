#!/usr/bin/env bash
# cli_stream_sinks.sh GF_BINARY - `gf query` results written batch by batch
# (docs/STREAMING.md): a CSV --sort to .arrow under a --memory-limit that
# makes the sort sink spill its input writes the unlimited run's bytes and
# leaves --temp-dir empty; the same as an IPC stream to a pipe (-o -) and
# to .arrows; a pass-through filter to .arrow; a failing write leaves no
# file. When a Python with pyarrow is found (GF_PYTHON, or the build's
# pyenv next to the binary) pyarrow reads every output: row counts, v3
# sorted, equal tables. Registered as the ctest `cli_stream_sinks`.
set -uo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-ssinks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
spill=$tmp/spill
mkdir "$spill"
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
"$gf" gen groupby --rows 300000 -k 100 -o "$tmp/g.csv" >/dev/null || bad "gen groupby"
"$gf" query --threads 2 "$tmp/g.csv" --sort v3 -o "$tmp/ref.arrow" 2>"$tmp/err" ||
  bad "unlimited sort: $(cat "$tmp/err")"
# 24M: the in-memory sort of the gathered input does not fit; it spills.
"$gf" query --threads 2 "$tmp/g.csv" --sort v3 -o "$tmp/lim.arrow" --memory-limit 24M \
  --temp-dir "$spill" 2>"$tmp/err" || bad "sort at 24M: $(cat "$tmp/err")"
cmp -s "$tmp/ref.arrow" "$tmp/lim.arrow" || bad "sort at 24M: bytes differ from the unlimited run"
[ -z "$(ls -A "$spill")" ] || bad "spill files left: $(ls "$spill")"
"$gf" query --threads 3 "$tmp/g.csv" --sort v3 -o - --output-format arrows --memory-limit 24M \
  --temp-dir "$spill" 2>"$tmp/err" | cat >"$tmp/pipe.arrows" || bad "sort to a pipe"
"$gf" query --threads 1 "$tmp/g.csv" --sort v3 -o "$tmp/s.arrows" 2>"$tmp/err" ||
  bad "sort to .arrows: $(cat "$tmp/err")"
cmp -s "$tmp/pipe.arrows" "$tmp/s.arrows" || bad "the piped stream differs from the .arrows file"
"$gf" query "$tmp/g.csv" --filter 'v1 > 3' -o "$tmp/f.arrow" 2>"$tmp/err" ||
  bad "filter to .arrow: $(cat "$tmp/err")"
"$gf" query "$tmp/g.csv" --filter 'v1 > 3' -o "$tmp/f.csv" 2>"$tmp/err" ||
  bad "filter to .csv: $(cat "$tmp/err")"
# Small windows (the limit's): dictionaries grow from window to window,
# written after the batches (file) or as deltas (stream).
"$gf" query "$tmp/g.csv" --filter 'v1 > 3' -o "$tmp/fw.arrow" --memory-limit 24M 2>"$tmp/err" ||
  bad "filter to .arrow at 24M: $(cat "$tmp/err")"
"$gf" query "$tmp/g.csv" --filter 'v1 > 3' -o - --output-format arrows --memory-limit 24M \
  2>"$tmp/err" | cat >"$tmp/fw.arrows" || bad "filter to a pipe"
for x in fw.arrow fw.arrows; do
  "$gf" convert "$tmp/$x" "$tmp/$x.csv" >/dev/null 2>&1 || bad "convert $x"
  cmp -s "$tmp/f.csv" "$tmp/$x.csv" || bad "$x holds other rows than the .csv"
done
# Values that appear late: the stream carries delta dictionaries.
awk 'BEGIN{print "d,x"; for(i=0;i<300000;i++) printf "v%d,%d\n", int(i/7000), i}' >"$tmp/late.csv"
"$gf" query "$tmp/late.csv" --filter 'x > 5' -o - --output-format arrows --memory-limit 16M \
  2>"$tmp/err" | cat >"$tmp/late.arrows" || bad "late values to a pipe"
"$gf" query "$tmp/late.csv" --filter 'x > 5' -o "$tmp/late.arrow" --memory-limit 16M \
  2>"$tmp/err" || bad "late values to .arrow: $(cat "$tmp/err")"
"$gf" convert "$tmp/f.arrow" "$tmp/f2.csv" >/dev/null 2>&1 || bad "convert f.arrow"
cmp -s "$tmp/f.csv" "$tmp/f2.csv" || bad "the streamed .arrow holds other rows than the .csv"
# A directory that cannot be written: one error line, no file.
mkdir "$tmp/ro"
chmod 555 "$tmp/ro"
if [ "$(id -u)" != 0 ]; then
  "$gf" query "$tmp/g.csv" --sort v3 -o "$tmp/ro/x.arrow" 2>"$tmp/err" && bad "wrote into a read-only dir"
  [ -z "$(ls -A "$tmp/ro")" ] || bad "a failed write left $(ls "$tmp/ro")"
fi
py=${GF_PYTHON:-$(dirname "$gf")/pyenv/bin/python}
if [ -x "$py" ] && "$py" -c 'import pyarrow' 2>/dev/null; then
  "$py" - "$tmp" <<'PY' || bad "pyarrow check"
import sys, pyarrow as pa, pyarrow.ipc as ipc, pyarrow.compute as pc, pyarrow.csv as pcsv
d = sys.argv[1]
ref = ipc.open_file(f"{d}/ref.arrow").read_all()
assert ref.num_rows == 300000, ref.num_rows
v3 = ref.column("v3").to_pylist()
assert all(a <= b for a, b in zip(v3, v3[1:])), "v3 not sorted"
src = pcsv.read_csv(f"{d}/g.csv")
assert sorted(src.column("v3").to_pylist()) == v3
for name in ("lim.arrow",):
    assert ipc.open_file(f"{d}/{name}").read_all().equals(ref), name
for name in ("pipe.arrows", "s.arrows"):
    assert ipc.open_stream(f"{d}/{name}").read_all().equals(ref), name
f = ipc.open_file(f"{d}/f.arrow").read_all()
for name in ("fw.arrow", "fw.arrows"):
    r = ipc.open_file(f"{d}/{name}") if name.endswith("w") else ipc.open_stream(f"{d}/{name}")
    t = r.read_all()
    assert t.num_rows == f.num_rows, name
    for c in ("id1", "id3", "v3"):
        assert t.column(c).to_pylist() == f.column(c).to_pylist(), (name, c)
r = ipc.open_stream(f"{d}/late.arrows")
late = r.read_all()
assert r.stats.num_dictionary_deltas > 0, r.stats
lf = ipc.open_file(f"{d}/late.arrow").read_all()
for t in (late, lf):
    assert t.column("x").to_pylist() == list(range(6, 300000))
    assert t.column("d").to_pylist() == ["v%d" % (i // 7000) for i in range(6, 300000)]
want = src.filter(pc.greater(src.column("v1"), 3))
assert f.num_rows == want.num_rows
assert f.column("v3").to_pylist() == want.column("v3").to_pylist()
assert [str(x) for x in f.column("id1").to_pylist()] == want.column("id1").to_pylist()
PY
else
  echo "note: no Python with pyarrow; pyarrow checks skipped" >&2
fi
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "cli_stream_sinks: ok"
