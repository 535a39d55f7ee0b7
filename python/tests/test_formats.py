"""Parquet, JSON and many-files bindings checked against independent
references: pyarrow reads the Parquet files we write (every codec, nulls
with garbage under them, several row groups, sliced input) and we read the
ones pyarrow writes; Python's json module reads our NDJSON/JSON and writes
what we read; read_files/scan_files over a temporary tree with Hive
directories equals pyarrow's concatenation of the files with the partition
columns added by hand. Errors raise gopherframe's classes with the engine's
message."""
import datetime
import json
import os
import random
import struct

import pytest

import gopherframe as gf

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ipc = pytest.importorskip("pyarrow.ipc")
pacsv = pytest.importorskip("pyarrow.csv")

CODECS = ["none", "snappy", "gzip", "zstd", "lz4"]
THREADS = [1, 2, 3, 8]


def _validity(valid):
    bits = bytearray((len(valid) + 7) // 8)
    for i, ok in enumerate(valid):
        if ok:
            bits[i // 8] |= 1 << (i % 8)
    return pa.py_buffer(bytes(bits))


def _garbage_int64(values, valid):
    """An int64 array whose null slots hold non-zero garbage."""
    data = struct.pack(f"<{len(values)}q", *values)
    return pa.Array.from_buffers(pa.int64(), len(values), [_validity(valid), pa.py_buffer(data)],
                                 null_count=valid.count(False))


def _garbage_utf8(values, valid):
    """A utf8 array whose null slots span real (garbage) bytes."""
    offsets, data = [0], bytearray()
    for v in values:
        data += v.encode()
        offsets.append(len(data))
    return pa.Array.from_buffers(pa.string(), len(values),
                                 [_validity(valid), pa.py_buffer(struct.pack(f"<{len(offsets)}i", *offsets)),
                                  pa.py_buffer(bytes(data))], null_count=valid.count(False))


def source_table(n=1000, seed=3):
    """int64 / utf8 with garbage under nulls, float64, bool, date32,
    timestamp[us]; ~20% nulls."""
    rnd = random.Random(seed)
    valid = [rnd.random() > 0.2 for _ in range(n)]

    def m(vals):
        return [v if ok else None for v, ok in zip(vals, valid)]

    ints = [rnd.randint(-10**12, 10**12) for _ in range(n)]
    words = [rnd.choice(["", "a", "zz", "é", "日本", "Zebra"]) + str(rnd.randint(0, 30)) for _ in range(n)]
    return pa.table({
        "i": _garbage_int64(ints, valid),
        "s": _garbage_utf8(words, valid),
        "f": pa.array(m([rnd.choice([0.0, -0.0, 1.5, -2.25, 3.0e10, -1e-300, 7.0]) for _ in range(n)]),
                      pa.float64()),
        "b": pa.array(m([rnd.random() < 0.5 for _ in range(n)]), pa.bool_()),
        "d": pa.array(m([datetime.date(1960, 1, 1) + datetime.timedelta(days=rnd.randint(0, 40000))
                         for _ in range(n)]), pa.date32()),
        "t": pa.array(m([rnd.randint(-2**50, 2**50) for _ in range(n)]), pa.timestamp("us")),
    })


def available(codec):
    return gf.build_info()["parquet"].get(codec, False)


# ---------------------------------------------------------------- Parquet --

@pytest.mark.parametrize("codec", CODECS)
def test_pyarrow_reads_what_we_write(tmp_path, codec):
    if not available(codec):
        pytest.skip(f"built without {codec}")
    src = source_table()
    df = gf.from_arrow(src)
    path = tmp_path / f"out-{codec}.parquet"
    df.write_parquet(path, compression=codec, row_group_size=300)
    back = pq.read_table(path)
    assert back.schema.names == src.schema.names
    assert back.equals(src)
    md = pq.ParquetFile(path).metadata
    assert md.num_row_groups == 4  # 300 + 300 + 300 + 100 rows
    # pyarrow names Parquet's LZ4_RAW "LZ4" (Arrow's LZ4 is the raw block format).
    want = "UNCOMPRESSED" if codec == "none" else codec.upper()
    assert md.row_group(0).column(0).compression == want
    # The bytes do not depend on the worker count.
    ref = path.read_bytes()
    for t in THREADS:
        p = tmp_path / f"t{t}.parquet"
        df.write_parquet(p, compression=codec, row_group_size=300, threads=t)
        assert p.read_bytes() == ref, f"threads={t}"


def test_write_parquet_sliced_and_empty(tmp_path):
    src = source_table(200)
    sliced = src.slice(37, 101)
    gf.from_arrow(sliced).write_parquet(tmp_path / "s.parquet")
    assert pq.read_table(tmp_path / "s.parquet").equals(sliced)
    empty = src.slice(0, 0)
    gf.from_arrow(empty).write_parquet(tmp_path / "e.parquet", compression="none")
    back = pq.read_table(tmp_path / "e.parquet")
    assert back.num_rows == 0 and back.schema.names == src.schema.names


@pytest.mark.parametrize("codec", CODECS)
def test_we_read_what_pyarrow_writes(tmp_path, codec):
    if not available(codec):
        pytest.skip(f"built without {codec}")
    src = source_table(1500, seed=11)
    path = tmp_path / "pa.parquet"
    pq.write_table(src, path, compression=codec, row_group_size=400, data_page_size=2048)
    for t in THREADS:
        df = gf.read_parquet(path, threads=t)
        assert df.num_batches == 4  # one batch per row group
        assert pa.table(df).equals(src), f"threads={t}"
    # Projection, in the order asked.
    sub = gf.read_parquet(path, columns=["t", "i"])
    assert sub.columns == ["t", "i"]
    assert pa.table(sub).equals(src.select(["t", "i"]))


def test_read_parquet_filter_prunes_row_groups(tmp_path):
    n = 1000
    t = pa.table({"k": pa.array(range(n), pa.int64()),
                  "s": pa.array([None if k % 7 == 0 else f"v{k % 13}" for k in range(n)], pa.string())})
    p = tmp_path / "sorted.parquet"
    pq.write_table(t, p, row_group_size=100)  # statistics per row group
    for t_ in THREADS:
        df = gf.read_parquet(p, filter="k >= 750 and s != 'v3'", threads=t_)
        assert df.num_batches <= 3  # row groups 0..6 are ruled out by their max
        want = [(k, s) for k, s in zip(t["k"].to_pylist(), t["s"].to_pylist())
                if k >= 750 and s is not None and s != "v3"]
        got = pa.table(df)
        assert list(zip(got["k"].to_pylist(), got["s"].to_pylist())) == want
    with pytest.raises(gf.Error):
        gf.read_parquet(p, columns=["s"], filter="k > 3")  # the filter's column is not read


def test_read_parquet_dictionary_and_no_dictionary(tmp_path):
    src = source_table(500, seed=5)
    for use_dict in (True, False):
        p = tmp_path / f"d{use_dict}.parquet"
        pq.write_table(src, p, use_dictionary=use_dict, compression="none")
        got = pa.table(gf.read_parquet(p))
        assert got.equals(src)


def test_read_parquet_brotli_refused_or_read(tmp_path):
    """The wheel leaves brotli out (python/CMakeLists.txt): a clean
    NotSupportedError naming the codec; a build with it reads the values."""
    src = source_table(100)
    p = tmp_path / "b.parquet"
    pq.write_table(src, p, compression="brotli")
    try:
        got = gf.read_parquet(p)
    except gf.NotSupportedError as e:
        assert "brotli" in str(e).lower()
        assert e.status == "GF_ENOTSUP"
    else:
        assert pa.table(got).equals(src)


def test_parquet_errors(tmp_path):
    missing = tmp_path / "missing.parquet"
    with pytest.raises(gf.IoError) as ei:
        gf.read_parquet(missing)
    assert str(missing) in str(ei.value)

    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1" + b"\x00garbage, not a footer" * 10 + b"PAR1")
    with pytest.raises(gf.Error) as ei:
        gf.read_parquet(bad)
    assert str(bad) in str(ei.value)
    assert isinstance(ei.value, (gf.InvalidArgumentError, gf.ParseError))

    good = tmp_path / "good.parquet"
    pq.write_table(source_table(10), good)
    with pytest.raises(gf.InvalidArgumentError) as ei:
        gf.read_parquet(good, columns=["i", "nope"])
    assert "nope" in str(ei.value)

    df = gf.from_arrow(source_table(10))
    out = tmp_path / "x.parquet"
    with pytest.raises(gf.InvalidArgumentError) as ei:
        df.write_parquet(out, compression="brotli9")
    assert "brotli9" in str(ei.value)
    with pytest.raises(gf.InvalidArgumentError):
        df.write_parquet(out, row_group_size=0)
    assert not out.exists()
    # A directory that does not exist: the engine's I/O error, no file left.
    with pytest.raises(gf.IoError):
        df.write_parquet(tmp_path / "no" / "such" / "dir.parquet")


def test_scan_parquet_pushes_columns_and_prunes(tmp_path):
    """The lazy source against a plain-Python filter of what pyarrow wrote;
    explain() names the pushed columns and, after a run, the row groups the
    statistics skipped (0..6 of 10: k < 700 there)."""
    n = 1000
    t = pa.table({"k": pa.array(range(n), pa.int64()),
                  "s": pa.array([None if k % 7 == 0 else f"v{k % 13}" for k in range(n)], pa.string()),
                  "x": pa.array([float(k) / 3 for k in range(n)], pa.float64())})
    p = tmp_path / "sorted.parquet"
    pq.write_table(t, p, row_group_size=100)
    want = [(k, s) for k, s in zip(t["k"].to_pylist(), t["s"].to_pylist())
            if k >= 750 and s is not None and s != "v3"]
    for t_ in THREADS:
        lazy = gf.scan_parquet(p).filter("k >= 750 and s != 'v3'").select("k", "s")
        got = pa.table(lazy.collect(threads=t_))
        assert list(zip(got["k"].to_pylist(), got["s"].to_pylist())) == want
        plan = lazy.explain()
        assert "columns=[k, s]" in plan and "row_groups_skipped=7" in plan
    assert gf.scan_parquet(p).columns == ["k", "s", "x"]
    with pytest.raises(gf.Error):
        gf.scan_parquet(tmp_path / "missing.parquet")


def test_parquet_round_trip_through_lazy(tmp_path):
    src = source_table(300)
    p = tmp_path / "r.parquet"
    gf.from_arrow(src).write_parquet(p, compression="zstd")
    df = gf.read_parquet(p)
    got = df.lazy().filter("i > 0").select("i", "s").collect()
    want = [(i, s) for i, s in zip(src["i"].to_pylist(), src["s"].to_pylist()) if i is not None and i > 0]
    assert list(zip(pa.table(got)["i"].to_pylist(), pa.table(got)["s"].to_pylist())) == want


# ------------------------------------------------------------------- JSON --

def _json_rows(t):
    """What the JSON writers must produce, computed from the pyarrow table
    with Python's own conversions: dates and timestamps as ISO 8601."""
    rows = []
    for r in t.to_pylist():
        out = {}
        for k, v in r.items():
            if isinstance(v, (datetime.date, datetime.datetime)):
                v = v.isoformat()
            out[k] = v
        rows.append(out)
    return rows


def test_json_module_reads_what_we_write(tmp_path):
    src = source_table(400).select(["i", "s", "f", "b", "d"])
    df = gf.from_arrow(src)
    want = _json_rows(src)
    for t in THREADS:
        df.write_ndjson(tmp_path / "o.ndjson", threads=t)
        lines = (tmp_path / "o.ndjson").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == want, f"threads={t}"
        df.write_json(tmp_path / "o.json", threads=t)
        assert json.loads((tmp_path / "o.json").read_text(encoding="utf-8")) == want
    # Sliced and empty frames.
    gf.from_arrow(src.slice(13, 7)).write_ndjson(tmp_path / "s.ndjson")
    lines = (tmp_path / "s.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == want[13:20]
    gf.from_arrow(src.slice(0, 0)).write_json(tmp_path / "e.json")
    assert json.loads((tmp_path / "e.json").read_text()) == []


def test_we_read_what_json_module_writes(tmp_path):
    rnd = random.Random(9)
    rows = []
    for k in range(700):
        r = {"id": k, "x": rnd.choice([None, 1.25, -3.5, 1e100]),
             "name": rnd.choice([None, "", "a\"b", "é\n\tz", "日本"]), "ok": rnd.choice([None, True, False])}
        if k % 5 == 0:
            del r["ok"]  # a missing key is null
        rows.append(r)
    (tmp_path / "in.ndjson").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "in.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    want = {c: [r.get(c) for r in rows] for c in ("id", "x", "name", "ok")}
    for t in THREADS:
        for df in (gf.read_ndjson(tmp_path / "in.ndjson", threads=t), gf.read_json(tmp_path / "in.json", threads=t),
                   gf.read_json(tmp_path / "in.ndjson", threads=t)):
            got = pa.table(df)
            assert got.column_names == ["id", "x", "name", "ok"]
            assert got.schema.field("id").type == pa.int64()
            assert got.schema.field("x").type == pa.float64()
            for c, vals in want.items():
                assert got[c].to_pylist() == vals, (c, t)
    sub = gf.read_ndjson(tmp_path / "in.ndjson", columns=["name", "id"])
    assert sorted(sub.columns) == ["id", "name"]


def test_json_errors(tmp_path):
    p = tmp_path / "bad.ndjson"
    p.write_text('{"a": 1}\n{"a": 2,, }\n', encoding="utf-8")
    with pytest.raises(gf.ParseError) as ei:
        gf.read_ndjson(p)
    assert f"{p}:2:" in str(ei.value)
    nested = tmp_path / "nested.ndjson"
    nested.write_text('{"a": {"b": 1}}\n', encoding="utf-8")
    with pytest.raises(gf.NotSupportedError) as ei:
        gf.read_ndjson(nested)
    assert "a" in str(ei.value)
    with pytest.raises(gf.IoError):
        gf.read_json(tmp_path / "missing.json")


# ------------------------------------------------------------- many files --

def _tree(root):
    """root/year=Y/month=M/part-K.arrow (IPC, with nulls), and the pyarrow
    reference in path order (sorted by bytes) with filename/hive columns."""
    rnd = random.Random(4)
    pieces = []
    for year in (2023, 2024):
        for month in (1, 2, 11):
            d = root / f"year={year}" / f"month={month}"
            d.mkdir(parents=True)
            for k in range(2):
                n = rnd.randint(0, 40)
                t = pa.table({"v": pa.array([rnd.choice([None, rnd.randint(-99, 99)]) for _ in range(n)], pa.int64()),
                              "w": pa.array([rnd.choice([None, "x", "yy"]) for _ in range(n)], pa.string())})
                p = d / f"part-{k}.arrow"
                with ipc.new_file(p, t.schema) as w:
                    w.write_table(t)
                pieces.append((str(p), year, month, t))
    pieces.sort(key=lambda x: os.fsencode(x[0]))
    return pieces


def _reference(pieces, filename=True):
    tabs = []
    for path, year, month, t in pieces:
        n = t.num_rows
        cols = {"v": t["v"], "w": t["w"]}
        if filename:
            cols["file"] = pa.array([path] * n, pa.string())
        cols["year"] = pa.array([year] * n, pa.int64())
        cols["month"] = pa.array([month] * n, pa.int64())
        tabs.append(pa.table(cols))
    return pa.concat_tables(tabs).combine_chunks()


def _eq(df, ref):
    got = pa.table(df).combine_chunks()
    assert got.column_names == ref.column_names
    for c in ref.column_names:
        assert got[c].to_pylist() == ref[c].to_pylist(), c


def test_read_files_hive_tree(tmp_path):
    pieces = _tree(tmp_path / "data")
    ref = _reference(pieces)
    for t in THREADS:
        _eq(gf.read_files(str(tmp_path / "data"), filename_column="file", threads=t), ref)
        _eq(gf.read_files([tmp_path / "data" / "**" / "*.arrow"], filename_column="file", hive=True, threads=t),
            ref)
    # No Hive columns when turned off; no filename column unless asked.
    off = gf.read_files(str(tmp_path / "data"), hive=False)
    assert off.columns == ["v", "w"]


def test_scan_files_prunes_partitions(tmp_path):
    pieces = _tree(tmp_path / "data")
    ref = _reference(pieces)
    lazy = gf.scan_files(str(tmp_path / "data"), filename_column="file").filter("year = 2024 and month > 1")
    keep = [(y == 2024 and m > 1) for y, m in zip(ref["year"].to_pylist(), ref["month"].to_pylist())]
    _eq(lazy.collect(threads=2), ref.filter(pa.array(keep)))
    assert "pruned=" in lazy.explain()
    assert gf.scan_files(str(tmp_path / "data")).columns == ["v", "w", "year", "month"]


def test_read_files_csv_tree(tmp_path):
    """CSV files with a column that is int in one file and text in another
    (unified to utf8, read again as text so "007" stays "007")."""
    (tmp_path / "k=a").mkdir()
    (tmp_path / "k=b").mkdir()
    (tmp_path / "k=a" / "1.csv").write_text("x,y\n1,2.5\n2,3\n", encoding="utf-8")
    (tmp_path / "k=b" / "2.csv").write_text("x,y\n007,1\nabc,-4\n", encoding="utf-8")
    got = pa.table(gf.read_files([str(tmp_path / "k=*" / "*.csv")]))
    ref = pa.concat_tables([
        pacsv.read_csv(tmp_path / "k=a" / "1.csv",
                       convert_options=pacsv.ConvertOptions(column_types={"x": pa.string(), "y": pa.float64()})),
        pacsv.read_csv(tmp_path / "k=b" / "2.csv",
                       convert_options=pacsv.ConvertOptions(column_types={"x": pa.string(), "y": pa.float64()})),
    ])
    assert got.column_names == ["x", "y", "k"]
    assert got["x"].to_pylist() == ref["x"].to_pylist()
    assert got["y"].to_pylist() == ref["y"].to_pylist()
    assert got["k"].to_pylist() == ["a", "a", "b", "b"]


def test_files_errors(tmp_path):
    with pytest.raises(gf.InvalidArgumentError) as ei:
        gf.read_files(str(tmp_path / "nothing-*.csv"))
    assert "nothing-*.csv" in str(ei.value)
    with pytest.raises(gf.IoError):
        gf.read_files(str(tmp_path / "missing.csv"))
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n2020-01-01\n")
    with pytest.raises(gf.TypeMismatchError) as ei:
        gf.read_files([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert "a.csv" in str(ei.value) and "b.csv" in str(ei.value)
    with pytest.raises(ValueError):
        gf.read_files([])
    with pytest.raises(ValueError):
        gf.scan_files(str(tmp_path), hive="sometimes")
