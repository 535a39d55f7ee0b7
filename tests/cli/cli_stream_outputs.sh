#!/usr/bin/env bash
# cli_stream_outputs.sh GF_BINARY - a group-by whose result streams into an
# Arrow IPC file (`gf query big.csv --group-by ... -o out.arrow`) writes the
# same bytes whether its sink spilled under --memory-limit or not: the
# spilled sink hands out 65,536-group batches, the in-memory one a single
# batch, and the rebatching sink in front of the file puts both on one
# grid (exec/sink_rebatch.c). The values are also checked against the
# materialising path's file (--input-mode read), row by row through CSV.
# Registered as the ctest `cli_stream_outputs`.
set -uo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-stream-out.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
spill=$tmp/spill
mkdir "$spill"
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
"$gf" gen groupby --rows 300000 -k 100000 -o "$tmp/g.csv" >/dev/null || bad "gen groupby"
q=(--group-by id1,id2,id3,id4,id5,id6 --agg 'sum(v3),count()')
"$gf" query --threads 2 "$tmp/g.csv" "${q[@]}" -o "$tmp/ref.arrow" 2>"$tmp/err" ||
  bad "unlimited: $(cat "$tmp/err")"
"$gf" query --threads 2 "$tmp/g.csv" --input-mode read "${q[@]}" -o "$tmp/read.arrow" 2>"$tmp/err" ||
  bad "--input-mode read: $(cat "$tmp/err")"
for threads in 1 2 3; do
  trace=()
  # Not under sanitizers: LeakSanitizer cannot run under ptrace.
  [ -z "${GF_TEST_SANITIZED:-}" ] && command -v strace >/dev/null &&
    trace=(strace -f -qq -e trace=openat -o "$tmp/st")
  rm -f "$tmp/st"
  # 40M: under the ~110 MB the 300,000 groups' in-memory state takes.
  if "${trace[@]}" "$gf" query --threads "$threads" "$tmp/g.csv" "${q[@]}" --memory-limit 40M \
    --temp-dir "$spill" -o "$tmp/lim.arrow" 2>"$tmp/err"; then
    cmp -s "$tmp/lim.arrow" "$tmp/ref.arrow" || bad "threads $threads: spilled group-by file differs"
    if [ -f "$tmp/st" ]; then
      grep -q "$spill" "$tmp/st" || bad "threads $threads: nothing opened in --temp-dir (did not spill)"
    fi
  else
    bad "threads $threads under 40M: $(cat "$tmp/err")"
  fi
  [ -z "$(ls -A "$spill")" ] || bad "threads $threads: files left in --temp-dir"
done
"$gf" convert "$tmp/ref.arrow" "$tmp/ref.csv" >/dev/null 2>&1 || bad "convert ref"
"$gf" convert "$tmp/read.arrow" "$tmp/read.csv" >/dev/null 2>&1 || bad "convert read"
cmp -s "$tmp/ref.csv" "$tmp/read.csv" || bad "streamed group-by values differ from --input-mode read"
if [ "$failures" -ne 0 ]; then
  echo "cli_stream_outputs: $failures failure(s)" >&2
  exit 1
fi
echo "cli_stream_outputs: ok"
