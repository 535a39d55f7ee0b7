#!/usr/bin/env bash
# Installs the benchmark peers on demand, cached outside the clone:
#   DuckDB      npm @duckdb/node-api
#   Polars      npm nodejs-polars (+ its linux-x64-gnu binary package)
#   data.table  Debian r-cran-data.table (R comes with it)
# Idempotent: a second run only prints the versions. Never run by `make test`.
# Cache: ${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}
set -euo pipefail

CACHE="${GF_BENCH_CACHE:-$HOME/.cache/gopherframe-bench}"
# Pinned: newer nodejs-polars releases are not built for every platform the
# lock file names, which makes installs refuse; 0.25.2 installs cleanly here.
DUCKDB_VERSION="${GF_BENCH_DUCKDB_VERSION:-1.5.6-r.1}"
POLARS_VERSION="${GF_BENCH_POLARS_VERSION:-0.25.2}"

mkdir -p "$CACHE"
cd "$CACHE"

if [ ! -f package.json ]; then
  cat > package.json <<JSON
{ "name": "gopherframe-bench-peers", "private": true, "version": "0.0.0" }
JSON
fi

have_node_pkg() { [ -f "node_modules/$1/package.json" ]; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: node and npm are needed (apt-get install -y nodejs npm)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y nodejs npm; else exit 1; fi
fi

if ! have_node_pkg @duckdb/node-api; then
  npm install --no-audit --no-fund -E "@duckdb/node-api@${DUCKDB_VERSION}"
fi
if ! have_node_pkg nodejs-polars; then
  npm install --no-audit --no-fund -E "nodejs-polars@${POLARS_VERSION}" \
    "nodejs-polars-linux-x64-gnu@${POLARS_VERSION}"
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
echo "node: $(node --version)"
node -e 'console.log("duckdb: " + require("./node_modules/@duckdb/node-api/package.json").version)'
node -e 'console.log("polars: " + require("./node_modules/nodejs-polars/package.json").version)'
Rscript -e 'cat("data.table:", as.character(packageVersion("data.table")), "\n")'
