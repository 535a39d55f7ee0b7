#!/usr/bin/env bash
# Builds heapmeter.so next to this script (or into $1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/heapmeter.so}
${CC:-cc} -O2 -Wall -Wextra -shared -fPIC -o "$out" "$here/heapmeter.c" -ldl
echo "$out"
