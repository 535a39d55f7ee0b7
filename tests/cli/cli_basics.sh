#!/usr/bin/env bash
# cli_basics.sh GF_BINARY - the gf tool's skeleton: --version, help, exit
# codes (0 ok, 1 failure, 2 bad command line), errors as exactly one stderr
# line starting with "gf: ", commands of later issues refused honestly, and
# never an exit by a signal. Registered as the ctest `cli_basics`.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 GF_BINARY" >&2
  exit 2
fi
gf=$1
if [ ! -x "$gf" ]; then
  echo "cli_basics: FAIL: '$gf' is not an executable file" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-cli-basics.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

# gfrun ARGS...: runs gf, leaving $rc, $out, $err.
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
# expect CASE RC: checks $rc.
expect_rc() {
  [ "$rc" -eq "$2" ] || bad "$1: exit code $rc, expected $2 (stderr: $err)"
}
# expect_one_error_line CASE PATTERN: stderr is exactly one "gf: " line
# matching the extended regex PATTERN, and stdout is empty.
expect_one_error_line() {
  local lines
  lines=$(printf '%s' "$err" | grep -c '')
  [ "$lines" -eq 1 ] || bad "$1: $lines stderr lines, expected one: $err"
  [[ $err == "gf: "* ]] || bad "$1: stderr does not start with 'gf: ': $err"
  grep -Eq -- "$2" <<<"$err" || bad "$1: stderr '$err' does not match /$2/"
  [ -z "$out" ] || bad "$1: unexpected stdout: $out"
}

# --- --version ----------------------------------------------------------------
for opt in --version -V; do
  gfrun "$opt"
  expect_rc "gf $opt" 0
  [ -z "$err" ] || bad "gf $opt wrote to stderr: $err"
  first=$(printf '%s\n' "$out" | head -n 1)
  [ "$first" = "gf 0.1.0 (gopherframe 0.1.0)" ] || bad "gf $opt first line: '$first'"
  grep -Eq '^cpu features: [a-z0-9.,]+$' <<<"$out" ||
    bad "gf $opt lacks a 'cpu features:' line: $out"
done
gfrun --version extra
expect_rc "gf --version extra" 2
expect_one_error_line "gf --version extra" "unexpected argument 'extra'"

# --- help -----------------------------------------------------------------------
for args in "help" "--help" "-h"; do
  # shellcheck disable=SC2086
  gfrun $args
  expect_rc "gf $args" 0
  [ -z "$err" ] || bad "gf $args wrote to stderr: $err"
  for cmd in schema head describe query convert gen help; do
    grep -Eq "^  $cmd +[a-z]" <<<"$out" || bad "gf $args does not list '$cmd'"
  done
  grep -q '^Usage: gf COMMAND' <<<"$out" || bad "gf $args has no usage line"
done
gfrun help help
expect_rc "gf help help" 0
gfrun help frobnicate
expect_rc "gf help frobnicate" 2
expect_one_error_line "gf help frobnicate" "unknown command 'frobnicate'"
gfrun help schema head
expect_rc "gf help schema head" 2
expect_one_error_line "gf help schema head" "^gf: help: "

# --- bad command lines: exit 2, one line ------------------------------------------
gfrun
expect_rc "gf (no arguments)" 2
expect_one_error_line "gf (no arguments)" "missing command"
gfrun frobnicate
expect_rc "gf frobnicate" 2
expect_one_error_line "gf frobnicate" "^gf: unknown command 'frobnicate' \(try 'gf help'\)$"
gfrun --frobnicate
expect_rc "gf --frobnicate" 2
expect_one_error_line "gf --frobnicate" "unknown option '--frobnicate'"
gfrun ""
expect_rc "gf ''" 2
expect_one_error_line "gf ''" "unknown command ''"

# --- every command is built: its help works and it rejects a nonsense option ---------------
for cmd in schema head describe query convert gen; do
  gfrun "$cmd" --help
  expect_rc "gf $cmd --help" 0
  grep -q "^Usage: gf $cmd" <<<"$out" || bad "gf $cmd --help: no usage line: $out"
  gfrun "$cmd" --no-such-option-xyz
  [ "$rc" -eq 2 ] || bad "gf $cmd --no-such-option-xyz: exit $rc, expected 2"
done
gfrun bench
expect_rc "gf bench (benchmarks run from bench/run.sh)" 2

# --- output errors: exit 1, never SIGPIPE -------------------------------------------
if [ -w /dev/full ]; then
  "$gf" --help >/dev/full 2>"$tmp/err"
  rc=$?
  [ $rc -eq 1 ] || bad "gf --help >/dev/full: exit $rc, expected 1"
  grep -q '^gf: error writing output' "$tmp/err" || bad "gf --help >/dev/full: stderr '$(cat "$tmp/err")'"
fi
# A reader that closes the pipe at once: gf must not die by SIGPIPE.
for _ in 1 2 3; do
  "$gf" --help 2>"$tmp/err" | true
  rc=${PIPESTATUS[0]}
  [ "$rc" -lt 128 ] || bad "gf --help | true died by signal $((rc - 128))"
  [ ! -s "$tmp/err" ] || bad "gf --help | true wrote to stderr: $(cat "$tmp/err")"
done

if [ $failures -ne 0 ]; then
  echo "cli_basics: $failures failure(s)" >&2
  exit 1
fi
echo "cli_basics: PASS"
