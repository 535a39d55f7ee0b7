#!/usr/bin/env python3
"""Generates the decimal reference files of tests/unit/test_decimal.c with
other engines (run once, outputs committed; the tests never run Python):

  arith.arrow    pyarrow 26: columns a decimal128(12, 2), b decimal128(10, 4)
                 (random, with nulls) and pyarrow.compute's add, subtract,
                 multiply, divide of a and b, less(a, b), equal(a, b),
                 cast(a, float64).
  groupby.arrow  DuckDB 2.0: SELECT k, sum(v), min(v), max(v), avg(v),
                 count(v) FROM t GROUP BY k ORDER BY k NULLS LAST over
                 k decimal(8, 2), v decimal(30, 3), plus the input t itself.

Usage: ~/.cache/gopherframe-bench/venv/bin/python tests/data/decimal/make_expected.py
"""
import decimal
import os
import random

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261207)


def rand_dec(digits, scale):
    n = rng.randint(1, digits)
    v = rng.randint(0, 10**n - 1) * rng.choice([-1, 1])
    return decimal.Decimal(v).scaleb(-scale)


def column(digits, scale, n, null_every):
    return [None if i % null_every == 0 else rand_dec(digits, scale) for i in range(n)]


def write(path, table):
    with ipc.new_file(path, table.schema) as w:
        w.write_table(table)


def arith():
    n = 300
    a = pa.array(column(12, 2, n, 13), pa.decimal128(12, 2))
    bvals = column(10, 4, n, 17)
    for i in range(0, n, 7):  # zero divisors
        if bvals[i] is not None:
            bvals[i] = decimal.Decimal(0).scaleb(-4)
    for i in range(3, n, 11):  # equal across scales
        if a[i].as_py() is not None and bvals[i] is not None and abs(a[i].as_py()) < 10**6:
            bvals[i] = a[i].as_py().quantize(decimal.Decimal("0.0001"))
    b = pa.array(bvals, pa.decimal128(10, 4))
    nz = pc.if_else(pc.equal(b, pa.scalar(decimal.Decimal(0), pa.decimal128(10, 4))), None, b)
    table = pa.table({
        "a": a, "b": b,
        "add": pc.add(a, b),
        "sub": pc.subtract(a, b),
        "mul": pc.multiply(a, b),
        "div": pc.divide(a, nz),
        "lt": pc.less(a, b),
        "eq": pc.equal(a, b),
        "f": pc.cast(a, pa.float64()),
    })
    write(os.path.join(HERE, "arith.arrow"), table)


def groupby():
    n = 2000
    pool = [rand_dec(8, 2) for _ in range(25)] + [decimal.Decimal("0.00"), decimal.Decimal("-0.01")]
    k = pa.array([None if i % 19 == 0 else rng.choice(pool) for i in range(n)], pa.decimal128(8, 2))
    v = pa.array(column(30, 3, n, 23), pa.decimal128(30, 3))
    t = pa.table({"k": k, "v": v})
    write(os.path.join(HERE, "groupby_input.arrow"), t)
    con = duckdb.connect()
    con.register("t", t)
    out = con.execute(
        "SELECT k, sum(v) AS s, min(v) AS lo, max(v) AS hi, avg(v) AS m, count(v) AS n "
        "FROM t GROUP BY k ORDER BY k NULLS LAST").to_arrow_table()
    if isinstance(out, pa.RecordBatchReader):
        out = out.read_all()
    write(os.path.join(HERE, "groupby_duckdb.arrow"), out)




def fuzz_seeds():
    """Small IPC seeds for tests/fuzz/corpus/ipc (decimal128 and decimal256
    with nulls), written by pyarrow so the fuzzers start from another
    writer's bytes."""
    t = pa.table({
        "d": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("-99999999.99")],
                      pa.decimal128(10, 2)),
        "w": pa.array([decimal.Decimal(2**200), decimal.Decimal(-7), None], pa.decimal256(76, 0)),
    })
    corpus = os.path.join(HERE, "..", "..", "fuzz", "corpus", "ipc")
    write(os.path.join(corpus, "pyarrow_decimal.arrow_file"), t)
    with ipc.new_stream(os.path.join(corpus, "pyarrow_decimal.stream"), t.schema) as w:
        w.write_table(t)


if __name__ == "__main__":
    arith()
    groupby()
    fuzz_seeds()
