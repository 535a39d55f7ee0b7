# tests/cli/lib/cli_test.bash - shared set-up and assertions of the gf CLI
# test scripts (sourced, not run: the .bash suffix keeps it out of ctest's
# tests/cli/*.sh glob). Expects $gf (absolute path of the binary) and
# $cli_name (the test's name, for messages); creates $tmp (removed on exit)
# and counts failures in $failures.
if [ ! -x "$gf" ]; then
  echo "$cli_name: FAIL: '$gf' is not an executable file" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gf-$cli_name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0


bad() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
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
expect_rc() {
  [ "$rc" -eq "$2" ] || bad "$1: exit code $rc, expected $2 (stderr: $err)"
}
expect_ok() {
  expect_rc "$1" 0
  [ -z "$err" ] || bad "$1: unexpected stderr: $err"
}
# expect_error CASE RC PATTERN: exit RC, stderr exactly one "gf: " line
# matching PATTERN, stdout empty.
expect_error() {
  local lines
  expect_rc "$1" "$2"
  lines=$(printf '%s' "$err" | grep -c '')
  [ "$lines" -eq 1 ] || bad "$1: $lines stderr lines, expected one: $err"
  [[ $err == "gf: "* ]] || bad "$1: stderr does not start with 'gf: ': $err"
  grep -Eq -- "$3" <<<"$err" || bad "$1: stderr '$err' does not match /$3/"
  [ -z "$out" ] || bad "$1: unexpected stdout: $out"
}
# expect_out CASE PATTERN: some stdout line matches the extended regex.
expect_out() {
  grep -Eq -- "$2" <<<"$out" || bad "$1: no stdout line matches /$2/ in:
$out"
}
