#!/usr/bin/env bash
# cli_public_api.sh GF_BINARY - the gf tool is a client of the public API:
# src/cli/*.c include, of the project's headers, only their own cli.h / cli_*.h and
# <gopherframe.h> (or a gopherframe/*.h public header), and call no
# internal gfi_ function or GF_ internal macro of the library. Registered
# as the ctest `cli_public_api` (GF_BINARY is unused; the check reads the
# sources next to this script).
set -uo pipefail

src=$(cd "$(dirname "$0")/../../src/cli" && pwd)
failures=0
bad() {
  echo "cli_public_api: FAIL: $*" >&2
  failures=$((failures + 1))
}

for f in "$src"/*.c "$src"/*.h; do
  name=${f##*/}
  # Every #include "..." and <...> naming a project header.
  while IFS= read -r inc; do
    case $inc in
    cli.h | cli_*.h | gopherframe.h | gopherframe/*.h) ;;
    *) bad "$name includes \"$inc\", an internal header of the library" ;;
    esac
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
  if grep -n -E '#[[:space:]]*include[[:space:]]*<(core|data|exec|expr|ops|io)/' "$f" >/dev/null; then
    bad "$name includes an internal header through <...>"
  fi
  if grep -n -E '\bgfi_[a-z0-9_]+|\bGF_(RETURN_NOT_OK|OOM)\b' "$f" >"${TMPDIR:-/tmp}/gf-cli-api.$$" 2>/dev/null; then
    bad "$name uses internal names: $(tr '\n' ' ' <"${TMPDIR:-/tmp}/gf-cli-api.$$")"
  fi
  rm -f "${TMPDIR:-/tmp}/gf-cli-api.$$"
done

if [ "$failures" -ne 0 ]; then
  echo "cli_public_api: $failures failure(s)" >&2
  exit 1
fi
echo "cli_public_api: PASS ($(ls "$src"/*.c "$src"/*.h | wc -l) files)"
