#!/usr/bin/env bash
# Installs the benchmark peers on demand, outside the clone:
#   Polars, DuckDB, DataFusion, pyarrow (Acero)  the current PyPI releases,
#       pinned below, in a virtual environment ($CACHE/venv)
#   data.table                                   Debian r-cran-data.table (R with it)
# Idempotent: a second run only prints the versions. Never run by `make test`.
# Cache: ${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}
# To move a pin, change it here; every results line records the version it ran.
set -euo pipefail

CACHE="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}"
VENV="$CACHE/venv"
PINS=(polars==2.1.0 duckdb==2.0.1 datafusion==55.0.0 pyarrow==26.0.1)

mkdir -p "$CACHE"
PY="${GF_BENCH_PYTHON:-python3}"
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  else
    echo "install.sh: python3 with venv is needed (apt-get install python3-venv)" >&2; exit 1
  fi
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
# Install only when a pin is not satisfied (a fresh cache, or a moved pin).
if ! "$VENV/bin/python" - "${PINS[@]}" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name) != want:
        sys.exit(1)
PYEOF
then
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
fi

if ! Rscript -e 'quit(status = !requireNamespace("data.table", quietly = TRUE))' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    # apt-get update only when the package is not known yet (a fresh machine)
    apt-cache show r-cran-data.table >/dev/null 2>&1 || apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-cran-data.table
  else
    echo "install.sh: data.table missing; as root run: apt-get install -y r-cran-data.table" >&2
    exit 1
  fi
fi

echo "cache: $CACHE"
"$VENV/bin/python" -c 'import sys, polars, duckdb, datafusion, pyarrow
print("python:", sys.version.split()[0])
print("polars:", polars.__version__); print("duckdb:", duckdb.__version__)
print("datafusion:", datafusion.__version__); print("pyarrow:", pyarrow.__version__)'
Rscript -e 'cat("data.table:", as.character(packageVersion("data.table")), "\n")'
