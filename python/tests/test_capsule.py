"""The Arrow PyCapsule interface both ways: zero-copy by buffer address,
capsule ownership (released only when not consumed), lifetimes."""
import gc

import duckdb
import polars as pl
import pyarrow as pa
import pytest

import gopherframe as gf
from gopherframe import _gopherframe as _ext


def _table():
    ints = pa.array([i * 7 if i % 5 else None for i in range(1000)], pa.int64())
    strs = pa.array([f"s{i}" if i % 3 else None for i in range(1000)], pa.string())
    return pa.table({"i": ints.slice(3, 900), "s": strs.slice(3, 900)})


def test_pyarrow_to_us_is_zero_copy():
    t = _table()
    df = gf.from_arrow(t)
    for col, nbuf in ((0, 2), (1, 3)):
        chunk = t.column(col).chunk(0)
        for b in range(nbuf):
            addr, off = df._buffer_address(0, col, b)
            assert addr == chunk.buffers()[b].address, (col, b)
            assert off == chunk.offset == 3


def test_us_to_pyarrow_is_zero_copy():
    df = gf.from_arrow(_table()).with_columns(j="i * 2")
    back = pa.table(df)
    for col, nbuf in ((0, 2), (1, 3), (2, 2)):
        chunk = back.column(col).chunk(0)
        for b in range(nbuf):
            addr, off = df._buffer_address(0, col, b)
            assert chunk.buffers()[b].address == addr, (col, b)
            assert chunk.offset == off


def test_polars_zero_copy_both_ways():
    p = pl.DataFrame({"i": pl.int_range(0, 100_000, eager=True), "f": pl.Series([1.5] * 100_000)})
    df = gf.from_arrow(p)
    # Polars' own zero-copy view of its buffers (to_arrow) shows the address.
    pa_view = p.to_arrow()
    for col in (0, 1):
        assert df._buffer_address(0, col, 1)[0] == pa_view.column(col).chunk(0).buffers()[1].address
    again = pl.DataFrame(df)
    view2 = again.to_arrow()
    for col in (0, 1):
        assert view2.column(col).chunk(0).buffers()[1].address == df._buffer_address(0, col, 1)[0]


def test_duckdb_reads_our_frame_and_we_read_its_results():
    df = gf.from_arrow(_table())
    con = duckdb.connect()
    # DuckDB finds the Python variable by name and scans its Arrow stream.
    n, s = con.sql("select count(*), sum(i) from df").fetchall()[0]
    assert n == 900
    assert s == sum(v for v in _table().column("i").to_pylist() if v is not None)
    rel = con.sql("select i, s from df where i > 100 order by i")
    got = gf.from_arrow(rel)
    ref = con.sql("select i, s from df where i > 100 order by i").to_arrow_table()
    assert pa.table(got).equals(ref)


def test_recordbatchreader_and_chunked_inputs():
    t = _table()
    batches = t.to_batches(max_chunksize=100)
    reader = pa.RecordBatchReader.from_batches(t.schema, batches)
    df = gf.from_arrow(reader)
    assert df.num_batches == len(batches) and len(df) == 900
    assert pa.table(df).equals(t)


def test_python_generator_producer_needs_the_gil():
    """A reader whose batches come from Python code runs while the import
    waits without the GIL."""
    t = _table()

    def gen():
        for b in t.to_batches(max_chunksize=128):
            yield b

    df = gf.from_arrow(pa.RecordBatchReader.from_batches(t.schema, gen()))
    assert pa.table(df).equals(t)


def test_capsules_names_and_consumption():
    df = gf.from_arrow(_table())
    cap = df.__arrow_c_stream__()
    assert "arrow_array_stream" in repr(cap)
    assert "arrow_schema" in repr(df.__arrow_c_schema__())
    # Unconsumed capsules release their stream when collected.
    del cap
    gc.collect()
    # A consumed capsule (pyarrow moved the stream out) is not released twice.
    cap = df.__arrow_c_stream__()
    reader = pa.RecordBatchReader._import_from_c_capsule(cap)
    assert reader.read_all().equals(_table())
    del cap
    gc.collect()
    # Our import moves the stream out of the producer's capsule.
    pcap = _table().__arrow_c_stream__()
    f = _ext.import_stream(pcap, False)
    assert _ext.info(f)[0] == 900
    with pytest.raises(ValueError, match="already consumed"):
        _ext.import_stream(pcap, False)


def test_lifetimes_outlive_the_other_side():
    t = _table()
    want = t.to_pylist()
    df = gf.from_arrow(t)
    del t
    gc.collect()
    back = pa.table(df)
    del df
    gc.collect()
    assert back.to_pylist() == want


def test_from_arrow_refuses_non_producers():
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        gf.from_arrow([1, 2, 3])
    with pytest.raises(TypeError):
        gf.DataFrame()


def test_import_validates_utf8_on_request():
    bad = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(b"\x00\x00\x00\x00\x02\x00\x00\x00"),
                                                 pa.py_buffer(b"\xff\xfe")])
    t = pa.table({"s": bad})
    gf.from_arrow(t)  # the layout is fine
    with pytest.raises(gf.InvalidArgumentError):
        gf.from_arrow(t, validate_utf8=True)
