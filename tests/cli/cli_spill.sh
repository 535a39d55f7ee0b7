#!/usr/bin/env bash
# cli_spill.sh GF_BINARY - `gf query --memory-limit` with `--temp-dir`: a
# sort and a join under limits their in-memory runs cannot meet spill
# (temporary files opened in --temp-dir, none left behind) and write output
# files byte-identical to the unlimited runs; --max-temp and a missing
# --temp-dir fail with one line naming them. Registered as the ctest
# `cli_spill`.
set -uo pipefail
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-spill.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
spill=$tmp/spill
mkdir "$spill"
failures=0
bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
"$gf" gen groupby --rows 300000 -k 100000 -o "$tmp/g.csv" >/dev/null || bad "gen groupby"
"$gf" convert "$tmp/g.csv" "$tmp/g.arrow" >/dev/null || bad "convert"
"$gf" gen join --rows 200000 -o "$tmp/" >/dev/null || bad "gen join"
"$gf" convert "$tmp/J1_2e5_NA_0_0.csv" "$tmp/a.arrow" >/dev/null || bad "convert"
"$gf" convert "$tmp/J1_2e5_2e5_0_0.csv" "$tmp/b.arrow" >/dev/null || bad "convert"
# run_case NAME LIMIT QUERY-ARGS...: LIMIT is under what the in-memory run
# needs (at 2 threads: sort 17 MB, join 11 MB) but fits the spilled one.
run_case() {
  local name=$1 lim=$2
  shift 2
  "$gf" query --threads 2 "$@" -o "$tmp/$name-ref.arrow" 2>"$tmp/err" ||
    { bad "$name unlimited: $(cat "$tmp/err")"; return; }
  local trace=()
  # Not under sanitizers: LeakSanitizer cannot run under ptrace.
  [ -z "${GF_TEST_SANITIZED:-}" ] && command -v strace >/dev/null &&
    trace=(strace -f -qq -e trace=openat -o "$tmp/st")
  rm -f "$tmp/st"
  if "${trace[@]}" "$gf" query --threads 2 "$@" --memory-limit "$lim" --temp-dir "$spill" \
    -o "$tmp/$name.arrow" 2>"$tmp/err"; then
    cmp -s "$tmp/$name.arrow" "$tmp/$name-ref.arrow" || bad "$name: spilled output differs"
    if [ -f "$tmp/st" ]; then
      grep -q "$spill" "$tmp/st" || bad "$name: opened nothing in --temp-dir (did not spill)"
    fi
  else
    bad "$name under $lim: $(cat "$tmp/err")"
  fi
  [ -z "$(ls -A "$spill")" ] || bad "$name: files left in --temp-dir: $(ls -A "$spill")"
}
run_case sort 15M "$tmp/g.arrow" --sort 'v3 desc, id1'
run_case join 7M "$tmp/a.arrow" --join "$tmp/b.arrow" --on id3 --how semi --select id1
# --max-temp caps what the files hold: one line naming max_temp_bytes.
if "$gf" query --threads 2 "$tmp/g.arrow" --sort v3 --memory-limit 15M --temp-dir "$spill" \
  --max-temp 1K -o "$tmp/x.arrow" 2>"$tmp/err"; then
  bad "--max-temp 1K: the spilled sort succeeded"
else
  grep -q "max_temp_bytes (gf --max-temp)" "$tmp/err" || bad "--max-temp 1K: $(cat "$tmp/err")"
fi
[ -z "$(ls -A "$spill")" ] || bad "--max-temp: files left in --temp-dir"
# A missing directory is named.
if "$gf" query --threads 2 "$tmp/g.arrow" --sort v3 --memory-limit 15M --temp-dir "$tmp/nope" -o "$tmp/x.arrow" 2>"$tmp/err"; then
  : # fitted without spilling: nothing to check
else
  grep -q "$tmp/nope" "$tmp/err" || bad "missing --temp-dir not named: $(cat "$tmp/err")"
fi
[ "$failures" = 0 ] && echo "cli_spill: ok"
exit $((failures > 0))
