"""Peers of bench_parquet_read at T threads: pyarrow, Polars and DuckDB
reading a Parquet file whole (all_columns) or two columns with a filter
(select_filter: COLS and a filter `col == value`, results materialised as
Arrow / Polars frames). Prints one summary line per engine:
    <engine> parquet_read <case> median_s=... min_s=... rows=...
Usage: parquet_read_peers.py FILE CASE THREADS RUNS [COL1,COL2 FCOL FVALUE]"""
import os
import sys
import time

path, case, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.environ["POLARS_MAX_THREADS"] = str(threads)
import duckdb  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

pa.set_cpu_count(threads)
pa.set_io_thread_count(threads)
if case == "select_filter":
    cols = sys.argv[5].split(",")
    fcol, fval = sys.argv[6], int(sys.argv[7])


def run_pyarrow():
    if case == "all_columns":
        return pq.read_table(path).num_rows
    t = pq.read_table(path, columns=cols, filters=[(fcol, "=", fval)])
    return t.num_rows


def run_polars():
    if case == "all_columns":
        return pl.read_parquet(path).height
    return pl.scan_parquet(path).filter(pl.col(fcol) == fval).select(cols).collect().height


con = duckdb.connect()
con.execute("SET threads=%d" % threads)


def arrow_of(res):
    # DuckDB renamed fetch_arrow_table to to_arrow_table in 1.4.
    fn = getattr(res, "to_arrow_table", None) or getattr(res, "fetch_arrow_table")
    return fn()


def run_duckdb():
    if case == "all_columns":
        return arrow_of(con.execute("SELECT * FROM read_parquet('%s')" % path)).num_rows
    q = "SELECT %s FROM read_parquet('%s') WHERE %s = %d" % (", ".join(cols), path, fcol, fval)
    return arrow_of(con.execute(q)).num_rows


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


for name, fn in [("pyarrow", run_pyarrow), ("polars", run_polars), ("duckdb", run_duckdb)]:
    ts, cs = [], []
    rows = 0
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        rows = fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)  # all threads of the process
    print("%s parquet_read %s median_s=%.3f min_s=%.3f cpu_median_s=%.3f rows=%d threads=%d"
          % (name, case, median(ts), min(ts), median(cs), rows, threads), flush=True)
