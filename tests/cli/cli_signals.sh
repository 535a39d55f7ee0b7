#!/usr/bin/env bash
# cli_signals.sh GF_BINARY - gf in a hostile environment: SIGTERM and SIGHUP
# during a write cancel it like Ctrl-C (exit 1, one error line, no
# temporary or partial file), a file-size limit (SIGXFSZ) becomes a clean
# write error, and a full stdout gives exactly one error line. Registered as
# the ctest `cli_signals`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cli_name=cli_signals
source "$(dirname "$0")/lib/cli_test.bash"

# no_leftovers CASE DIR: no gf temporary file and no output file in DIR.
no_leftovers() {
  local left
  left=$(find "$2" -name '.*gf-tmp*' | head -3)
  [ -z "$left" ] || bad "$1: temporary file left behind: $left"
}

# --- SIGTERM / SIGHUP while gen writes a large file ------------------------------------
# 5e7 rows take tens of seconds to write, so the signal (after 0.5 s, once the
# temporary file exists) always lands mid-write.
for sig in TERM HUP; do
  d="$tmp/sig$sig"
  mkdir -p "$d"
  "$gf" gen groupby --rows 50000000 --k 100 -o "$d/big.csv" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  for _ in $(seq 100); do
    [ -n "$(find "$d" -name '.*gf-tmp*' 2>/dev/null)" ] && break
    sleep 0.05
  done
  [ -n "$(find "$d" -name '.*gf-tmp*')" ] || bad "SIG$sig: gen never created its temporary file"
  sleep 0.5
  kill -"$sig" "$pid"
  t0=$SECONDS
  wait "$pid"
  rc=$?
  err=$(cat "$tmp/err")
  [ "$rc" -eq 1 ] || bad "SIG$sig: exit code $rc, expected 1 (cancelled); stderr: $err"
  [ $((SECONDS - t0)) -le 5 ] || bad "SIG$sig: took $((SECONDS - t0)) s to stop"
  lines=$(printf '%s' "$err" | grep -c '')
  [ "$lines" -eq 1 ] || bad "SIG$sig: $lines stderr lines, expected one: $err"
  grep -Eqi 'cancel|interrupt' <<<"$err" || bad "SIG$sig: stderr does not say it was interrupted: $err"
  [ ! -e "$d/big.csv" ] || bad "SIG$sig: partial output file big.csv exists"
  no_leftovers "SIG$sig" "$d"
done

# --- a file-size limit: EFBIG, not death by SIGXFSZ ------------------------------------------
d="$tmp/fsize"
mkdir -p "$d"
"$gf" gen groupby --rows 20000 --k 10 -o "$d/in.csv" 2>/dev/null || bad "gen in.csv failed"
for out in out.csv out.arrow; do
  (ulimit -f 64; exec "$gf" convert "$d/in.csv" "$d/$out") >"$tmp/out" 2>"$tmp/err"
  rc=$?
  err=$(cat "$tmp/err")
  [ "$rc" -eq 1 ] || bad "ulimit -f convert $out: exit code $rc, expected 1 (stderr: $err)"
  [ "$(printf '%s' "$err" | grep -c '')" -eq 1 ] || bad "ulimit -f convert $out: not one error line: $err"
  grep -qi 'too large\|limit' <<<"$err" || bad "ulimit -f convert $out: message does not name the cause: $err"
  [ ! -e "$d/$out" ] || bad "ulimit -f convert $out: partial output file exists"
  no_leftovers "ulimit -f convert $out" "$d"
done

# --- a full stdout: one error line ---------------------------------------------------------
if [ -w /dev/full ]; then
  for args in "head $d/in.csv" "query $d/in.csv --group-by id1 --agg sum(v1)" "schema $d/in.csv"; do
    # shellcheck disable=SC2086
    "$gf" $args >/dev/full 2>"$tmp/err"
    rc=$?
    err=$(cat "$tmp/err")
    [ "$rc" -eq 1 ] || bad "$args >/dev/full: exit code $rc, expected 1"
    [ "$(printf '%s' "$err" | grep -c '')" -eq 1 ] || bad "$args >/dev/full: not one error line: $err"
  done
else
  echo "cli_signals: SKIP /dev/full cases (no /dev/full here)"
fi

if [ "$failures" -ne 0 ]; then
  echo "$cli_name: $failures failure(s)" >&2
  exit 1
fi
echo "$cli_name: all passed"
