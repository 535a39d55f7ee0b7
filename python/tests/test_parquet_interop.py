"""Parquet files written by GopherFrame (`gf convert x.arrow y.parquet`) read
back by three independent readers -- pyarrow, Polars and DuckDB -- with the
values of the source table: every type x codec, nulls with garbage under
them, empty tables, several row groups and pages, dictionary fallback; the
statistics and the page index checked against values computed here (the
page index decoded by a small Thrift compact reader written in this file
from the spec, independent of the C encoder).

The source tables are built by pyarrow and written as Arrow IPC files, which
gf reads; `gf` is the binary of the build directory (scripts/python-tests
runs pytest from there) or $GF_BIN."""

import datetime
import decimal
import math
import os
import pathlib
import shutil
import struct
import subprocess

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
ipc = pytest.importorskip("pyarrow.ipc")


def _gf_binary():
    cand = [os.environ.get("GF_BIN"), str(pathlib.Path.cwd() / "gf")]
    for c in cand:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


GF = _gf_binary()
pytestmark = pytest.mark.skipif(GF is None, reason="no gf binary (run from the build directory or set GF_BIN)")

CODECS = ["none", "snappy", "gzip", "zstd", "lz4"]
N = 3000


def _garbage_ints(pa_type, values, valid, width):
    """An integer array whose null slots hold non-zero garbage."""
    raw = bytearray()
    for v in values:
        raw += int(v).to_bytes(width, "little", signed=pa_type in (pa.int8(), pa.int16(), pa.int32(), pa.int64()))
    bits = bytearray((len(values) + 7) // 8)
    for i, ok in enumerate(valid):
        if ok:
            bits[i // 8] |= 1 << (i % 8)
    return pa.Array.from_buffers(pa_type, len(values), [pa.py_buffer(bytes(bits)), pa.py_buffer(bytes(raw))],
                                 null_count=valid.count(False))


def _garbage_strings(values, valid):
    """A utf8 array whose null slots span real (garbage) bytes."""
    offsets, data = [0], bytearray()
    for v in values:
        data += v.encode()
        offsets.append(len(data))
    bits = bytearray((len(values) + 7) // 8)
    for i, ok in enumerate(valid):
        if ok:
            bits[i // 8] |= 1 << (i % 8)
    return pa.Array.from_buffers(pa.string(), len(values),
                                 [pa.py_buffer(bytes(bits)), pa.py_buffer(struct.pack(f"<{len(offsets)}i", *offsets)),
                                  pa.py_buffer(bytes(data))], null_count=valid.count(False))


def source_table(n=N, seed=7):
    """One column of every type the writer supports, ~15% nulls."""
    import random

    rnd = random.Random(seed)
    valid = [rnd.random() > 0.15 for _ in range(n)]

    def m(vals):
        return [v if ok else None for v, ok in zip(vals, valid)]

    ints = [rnd.randint(-10**6, 10**6) for _ in range(n)]
    words = [rnd.choice(["", "a", "b", "zz", "é", "日本", "Zebra", "apple"]) + str(rnd.randint(0, 40)) for _ in range(n)]
    floats = [rnd.choice([0.0, -0.0, 1.5, -2.25, float("nan"), float("inf"), 3.0e10, -1e-300]) for _ in range(n)]
    cols = {
        "bool": pa.array(m([rnd.random() < 0.5 for _ in range(n)]), pa.bool_()),
        "i8": pa.array(m([rnd.randint(-128, 127) for _ in range(n)]), pa.int8()),
        "i16": pa.array(m([rnd.randint(-32768, 32767) for _ in range(n)]), pa.int16()),
        "i32": _garbage_ints(pa.int32(), [rnd.randint(-2**31, 2**31 - 1) for _ in range(n)], valid, 4),
        "i64": _garbage_ints(pa.int64(), [rnd.randint(-2**63, 2**63 - 1) for _ in range(n)], valid, 8),
        "u8": pa.array(m([rnd.randint(0, 255) for _ in range(n)]), pa.uint8()),
        "u16": pa.array(m([rnd.randint(0, 65535) for _ in range(n)]), pa.uint16()),
        "u32": pa.array(m([rnd.randint(0, 2**32 - 1) for _ in range(n)]), pa.uint32()),
        "u64": pa.array(m([rnd.randint(0, 2**64 - 1) for _ in range(n)]), pa.uint64()),
        "f32": pa.array(m(floats), pa.float32()),
        "f64": pa.array(m([f * 1.1 for f in floats]), pa.float64()),
        "str": _garbage_strings(words, valid),
        "lstr": pa.array(m(words), pa.large_string()),
        "bin": pa.array(m([w.encode() + b"\x00\xff" for w in words]), pa.binary()),
        "lbin": pa.array(m([w.encode() for w in words]), pa.large_binary()),
        "fsb": pa.array(m([bytes([rnd.randint(0, 255) for _ in range(3)]) for _ in range(n)]), pa.binary(3)),
        "date32": pa.array(m([rnd.randint(-30000, 30000) for _ in range(n)]), pa.date32()),
        "date64": pa.array(m([rnd.randint(-30000, 30000) * 86400000 for _ in range(n)]), pa.date64()),
        "t32s": pa.array(m([rnd.randint(0, 86399) for _ in range(n)]), pa.time32("s")),
        "t32ms": pa.array(m([rnd.randint(0, 86399999) for _ in range(n)]), pa.time32("ms")),
        "t64us": pa.array(m([rnd.randint(0, 86399999999) for _ in range(n)]), pa.time64("us")),
        "t64ns": pa.array(m([rnd.randint(0, 86399999999999) for _ in range(n)]), pa.time64("ns")),
        "ts_s": pa.array(m(ints), pa.timestamp("s")),
        "ts_ms": pa.array(m([i * 1000 + 7 for i in ints]), pa.timestamp("ms", tz="UTC")),
        "ts_us": pa.array(m([i * 10**6 + 7 for i in ints]), pa.timestamp("us", tz="America/New_York")),
        "ts_ns": pa.array(m([i * 10**9 + 7 for i in ints]), pa.timestamp("ns", tz="+05:30")),
        "dur": pa.array(m(ints), pa.duration("ms")),
        "dec5": pa.array(m([decimal.Decimal(rnd.randint(-99999, 99999)).scaleb(-2) for _ in range(n)]), pa.decimal128(5, 2)),
        "dec15": pa.array(m([decimal.Decimal(rnd.randint(-10**15 + 1, 10**15 - 1)).scaleb(-4) for _ in range(n)]), pa.decimal128(15, 4)),
        "dec30": pa.array(m([decimal.Decimal(rnd.randint(-10**30 + 1, 10**30 - 1)).scaleb(-6) for _ in range(n)]), pa.decimal128(30, 6)),
        "dec38": pa.array(m([decimal.Decimal(rnd.randint(-10**38 + 1, 10**38 - 1)) for _ in range(n)]), pa.decimal128(38, 0)),
        "estr": pa.array(m(["" for _ in range(n)]), pa.string()),  # empty bounds
        "dict": pa.array(m(words), pa.string()).dictionary_encode(),
        "dict_i": pa.array(m([i % 17 for i in ints]), pa.int32()).dictionary_encode(),
        "null": pa.nulls(n),
    }
    t = pa.table(cols)
    # Non-nullable fields: REQUIRED columns, no definition levels.
    t = t.append_column(pa.field("req_i64", pa.int64(), nullable=False), pa.array(ints, pa.int64()))
    return t.append_column(pa.field("req_str", pa.string(), nullable=False), pa.array(words, pa.string()))


def pyarrow_read_schema(schema):
    """The schema pyarrow reads back from a Parquet file of `schema`, its own
    files included: Parquet has no date64, time32[s] or timestamp[s] (they
    come back as date32, time32[ms], timestamp[ms]), and pyarrow restores
    dictionaries of strings and binaries only. The values are the same."""
    fields = []
    for f in schema:
        t = f.type
        if t == pa.date64():
            t = pa.date32()
        elif t == pa.time32("s"):
            t = pa.time32("ms")
        elif pa.types.is_timestamp(t) and t.unit == "s":
            t = pa.timestamp("ms", tz=t.tz)
        elif pa.types.is_dictionary(t) and not (pa.types.is_string(t.value_type) or pa.types.is_binary(t.value_type)
                                                 or pa.types.is_large_string(t.value_type)):
            t = t.value_type
        fields.append(pa.field(f.name, t, f.nullable))
    return pa.schema(fields)


def write_ipc(table, path):
    with ipc.new_file(str(path), table.schema) as w:
        w.write_table(table, max_chunksize=700)  # several batches: row groups span them


def gf_convert(src, dst, *args):
    r = subprocess.run([GF, "convert", str(src), str(dst), *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return dst


def _plain(col):
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def assert_same_values(got, want, context):
    """Column by column (dictionaries decoded; NaN equal to NaN)."""
    assert got.num_rows == want.num_rows, context
    for name in want.column_names:
        g, w = _plain(got.column(name)), _plain(want.column(name))
        if g.type != w.type:  # see pyarrow_read_schema: same values, another type
            assert g.type == pyarrow_read_schema(pa.schema([pa.field(name, w.type)]))[0].type, name
            w = w.cast(g.type)
        if pa.types.is_floating(w.type):
            assert _nan_equal(g.to_pylist(), w.to_pylist()), f"{context}: {name}"
            continue
        if g.equals(w):
            continue
        for i in range(len(w)):
            assert g[i] == w[i], f"{context}: {name}[{i}] {g[i]!r} != {w[i]!r}"
        raise AssertionError(f"{context}: {name} differs")


@pytest.fixture(scope="module")
def table():
    return source_table()


@pytest.fixture(scope="module")
def ipc_file(tmp_path_factory, table):
    p = tmp_path_factory.mktemp("pqw") / "src.arrow"
    write_ipc(table, p)
    return p


@pytest.mark.parametrize("codec", CODECS)
def test_pyarrow_reads_every_type_and_codec(tmp_path, table, ipc_file, codec):
    out = gf_convert(ipc_file, tmp_path / "t.parquet", "--compression", codec,
                     "--row-group-size", "1000", "--page-rows", "300")
    meta = pq.ParquetFile(out).metadata
    assert meta.num_row_groups == 3
    pschema = pq.ParquetFile(out).schema
    for i, name in enumerate(table.column_names):  # REQUIRED exactly for non-nullable fields
        assert pschema.column(i).max_definition_level == (1 if table.schema.field(name).nullable else 0), name
    # pyarrow names LZ4_RAW "LZ4"; the footer's codec number says which.
    want_codec = {"none": "UNCOMPRESSED", "lz4": "LZ4"}.get(codec, codec.upper())
    assert meta.row_group(0).column(0).compression == want_codec
    data = out.read_bytes()
    fmd, _ = _thrift_struct(data, len(data) - 8 - struct.unpack_from("<I", data, len(data) - 8)[0])
    codec_number = {"none": 0, "snappy": 1, "gzip": 2, "zstd": 6, "lz4": 7}[codec]
    assert {cc[3][4] for rg in fmd[4] for cc in rg[1]} == {codec_number}
    got = pq.read_table(out)
    # ARROW:schema restores the exact types (dictionaries, zones, units)...
    assert got.schema.remove_metadata() == pyarrow_read_schema(table.schema)
    # ... as pyarrow reads its own files: check that it does.
    pq.write_table(table, tmp_path / "pyarrow.parquet")
    assert pq.read_table(tmp_path / "pyarrow.parquet").schema.remove_metadata() == got.schema.remove_metadata()
    assert_same_values(got, table, codec)


def _page_encodings(path, column):
    """Kinds of the pages of `column` in each row group, from the footer,
    the OffsetIndex and the page headers: "dict", "RLE_DICTIONARY" or
    "PLAIN" per page (decoded in this file)."""
    data = pathlib.Path(path).read_bytes()
    fmd, _ = _thrift_struct(data, len(data) - 8 - struct.unpack_from("<I", data, len(data) - 8)[0])
    kinds = []
    for rg in fmd[4]:
        cc = rg[1][column]
        meta = cc[3]
        pages = []
        if 11 in meta:  # dictionary_page_offset
            ph, _ = _thrift_struct(data, meta[11])
            assert ph[1] == 2
            pages.append("dict")
        oi, _ = _thrift_struct(data, cc[4])
        for loc in oi[1]:
            ph, _ = _thrift_struct(data, loc[1])
            assert ph[1] == 0  # DATA_PAGE
            pages.append({0: "PLAIN", 8: "RLE_DICTIONARY"}[ph[5][2]])
        kinds.append(pages)
    return kinds


def test_dictionary_fallback_and_plain(tmp_path, table, ipc_file):
    col = table.column_names.index("str")
    # A dictionary page too small for the chunk: dictionary pages for the
    # rows up to the overflow, PLAIN after it.
    out = gf_convert(ipc_file, tmp_path / "f.parquet", "--dictionary-limit", "64", "--row-group-size", "1000",
                     "--page-rows", "10")
    for pages in _page_encodings(out, col):
        assert pages[0] == "dict" and pages[1] == "RLE_DICTIONARY" and pages[-1] == "PLAIN", pages
        k = pages.index("PLAIN")
        assert set(pages[1:k]) == {"RLE_DICTIONARY"} and set(pages[k:]) == {"PLAIN"}, pages
    assert_same_values(pq.read_table(out), table, "fallback")
    out = gf_convert(ipc_file, tmp_path / "n.parquet", "--no-dictionary", "--row-group-size", "1000")
    assert all(set(p) == {"PLAIN"} for p in _page_encodings(out, col))
    assert_same_values(pq.read_table(out), table, "no dictionary")
    out = gf_convert(ipc_file, tmp_path / "d.parquet")
    pages = _page_encodings(out, table.column_names.index("u8"))[0]
    assert pages[0] == "dict" and set(pages[1:]) == {"RLE_DICTIONARY"}
    assert_same_values(pq.read_table(out), table, "dictionary")


def test_dictionary_fallback_rule(tmp_path):
    """docs/PARQUET.md "Dictionary fallback": a dictionary<utf8> column
    whose entries repeat stays dictionary-encoded past the page limit, one
    whose values are all distinct falls back mid-chunk, as does a plain
    utf8 column crossing the limit; pyarrow reads each back identically."""
    n = 3000
    repeat = [None if i % 17 == 3 else "entry-%014d" % ((i * 31) % 400) for i in range(n)]
    distinct = ["u%019d" % i for i in range(n)]
    plain = [None if i % 13 == 5 else "v%04d" % ((i * 7919) % 600) for i in range(n)]
    t = pa.table({
        "repeat": pa.array(repeat).dictionary_encode(),
        "distinct": pa.array(distinct).dictionary_encode(),
        "plain": pa.array(plain),
    })
    src = tmp_path / "rule.arrow"
    write_ipc(t, src)
    out = gf_convert(src, tmp_path / "rule.parquet", "--dictionary-limit", "1000",
                     "--row-group-size", str(n), "--page-rows", "500")
    rep, dis, pla = (_page_encodings(out, c)[0] for c in range(3))
    assert rep[0] == "dict" and set(rep[1:]) == {"RLE_DICTIONARY"}, rep
    for pages in (dis, pla):
        k = pages.index("PLAIN")
        assert pages[0] == "dict" and set(pages[1:k]) == {"RLE_DICTIONARY"} and set(pages[k:]) == {"PLAIN"}, pages
    assert_same_values(pq.read_table(out), t, "fallback rule")


def test_empty_table(tmp_path, table):
    src = tmp_path / "e.arrow"
    write_ipc(table.slice(0, 0), src)
    out = gf_convert(src, tmp_path / "e.parquet")
    got = pq.read_table(out)
    assert got.num_rows == 0
    assert got.schema.remove_metadata() == pyarrow_read_schema(table.schema)


@pytest.mark.parametrize("dictionary", ["default", "fallback", "none"])
def test_statistics_match_the_values(tmp_path, table, ipc_file, dictionary):
    """Row-group min/max/null_count against values computed here: signed and
    unsigned integers, floats without NaN and with -0.0/+0.0, strings as
    unsigned bytes, decimals, dictionary columns; with dictionary pages, with
    chunks that fell back to PLAIN and without dictionaries."""
    args = {"default": [], "fallback": ["--dictionary-limit", "64"], "none": ["--no-dictionary"]}[dictionary]
    out = gf_convert(ipc_file, tmp_path / "s.parquet", "--row-group-size", "1000", *args)
    md = pq.ParquetFile(out).metadata
    for rg in range(md.num_row_groups):
        part = table.slice(rg * 1000, 1000)
        for name in ["i8", "i32", "i64", "u32", "u64", "f32", "f64", "str", "estr", "bin", "dec5", "dec15", "dec30", "date32", "ts_ns",
                     "dict", "dict_i", "u8"]:
            st = md.row_group(rg).column(table.column_names.index(name)).statistics
            col = part.column(name)
            if name == "ts_ns":  # compared as the stored int64 (min_raw)
                col = col.cast(pa.int64())
            vals = [v for v in col.to_pylist() if v is not None]
            assert st.null_count == part.column(name).null_count, name
            if name in ("f32", "f64"):
                vals = [v for v in vals if not math.isnan(v)]
            if not vals:
                assert not st.has_min_max
                continue
            assert st.has_min_max, name
            lo, hi = min(vals), max(vals)
            if name in ("str", "dict"):
                lo = min(vals, key=lambda s: s.encode())
                hi = max(vals, key=lambda s: s.encode())
            if name in ("f32", "f64"):
                if lo == 0:
                    assert math.copysign(1, st.min) < 0, "a zero minimum is -0.0"
                if hi == 0:
                    assert math.copysign(1, st.max) > 0, "a zero maximum is +0.0"
            if name == "ts_ns":
                assert (st.min_raw, st.max_raw) == (lo, hi)
                continue
            assert st.min == lo, (name, rg, st.min, lo)
            assert st.max == hi, (name, rg, st.max, hi)


@pytest.mark.parametrize("codec", CODECS)
def test_polars_reads_it(tmp_path, table, ipc_file, codec):
    pl = pytest.importorskip("polars")
    # Polars refuses fixed-offset zones ("+05:30") in any file: leave that
    # column out.
    src = tmp_path / "p.arrow"
    write_ipc(table.drop_columns(["ts_ns"]), src)
    out = gf_convert(src, tmp_path / "p.parquet", "--compression", codec, "--row-group-size", "1000")
    got = pl.read_parquet(out)
    want = pl.from_arrow(pq.read_table(out))
    # The reference: what pyarrow (checked against the source above) reads,
    # in Polars' types.
    assert got.columns == want.columns
    for name in want.columns:
        g, w = got[name], want[name]
        if g.dtype != w.dtype:
            w = w.cast(g.dtype)
        assert g.to_list() == w.to_list() or _nan_equal(g.to_list(), w.to_list()), name


def _nan_equal(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            return False
    return True


def test_duckdb_reads_it(tmp_path, table, ipc_file):
    duckdb = pytest.importorskip("duckdb")
    for codec in CODECS:
        out = gf_convert(ipc_file, tmp_path / f"k_{codec}.parquet", "--compression", codec, "--row-group-size", "1000")
        con = duckdb.connect()
        cols = [c for c in table.column_names]
        got = con.sql(f"select * from read_parquet('{out}')").to_arrow_table()
        assert got.num_rows == table.num_rows
        ref = pq.read_table(out)  # checked against the source above
        for name in cols:
            g = _plain(got.column(name))
            # DuckDB has its own types (time in us, intervals, timestamps
            # with zone in UTC...): compare in them.
            w = _plain(ref.column(name) if name in ("t32s", "t64ns", "date64", "dur", "null", "ts_s")
                       else table.column(name))
            if g.type != w.type:
                try:
                    w = w.cast(g.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    assert g.null_count == w.null_count, (codec, name)
                    continue
            if pa.types.is_floating(w.type):
                assert _nan_equal(g.to_pylist(), w.to_pylist()), (codec, name)
            else:
                assert g.equals(w), (codec, name, g.type)
        con.close()


def _thrift_varint(b, i):
    shift = v = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return v, i


def _zz(v):
    return (v >> 1) ^ -(v & 1)


def _thrift_struct(b, i):
    """Decodes one compact-protocol struct into {field id: value}."""
    out, last = {}, 0
    while True:
        h = b[i]
        i += 1
        if h == 0:
            return out, i
        t = h & 0x0F
        d = h >> 4
        if d:
            fid = last + d
        else:
            v, i = _thrift_varint(b, i)
            fid = _zz(v)
        last = fid
        val, i = _thrift_value(b, i, t)
        out[fid] = val


def _thrift_value(b, i, t):
    if t in (1, 2):
        return t == 1, i
    if t == 3:
        return b[i], i + 1
    if t in (4, 5, 6):
        v, i = _thrift_varint(b, i)
        return _zz(v), i
    if t == 7:
        return struct.unpack_from("<d", b, i)[0], i + 8
    if t == 8:
        n, i = _thrift_varint(b, i)
        return bytes(b[i:i + n]), i + n
    if t == 9:
        h = b[i]
        i += 1
        n, et = h >> 4, h & 0x0F
        if n == 15:
            n, i = _thrift_varint(b, i)
        items = []
        for _ in range(n):
            if et in (1, 2):  # bools in lists are one byte
                items.append(b[i] == 1)
                i += 1
            else:
                v, i = _thrift_value(b, i, et)
                items.append(v)
        return items, i
    if t == 12:
        return _thrift_struct(b, i)
    raise AssertionError(f"thrift type {t}")


def test_page_index_matches_the_pages(tmp_path, table, ipc_file):
    """ColumnIndex and OffsetIndex decoded here: one entry per page, page
    offsets where pyarrow's offset index... page bounds that contain the
    page's values, null pages and null counts right."""
    out = gf_convert(ipc_file, tmp_path / "x.parquet", "--row-group-size", "1000", "--page-rows", "300")
    data = out.read_bytes()
    flen = struct.unpack_from("<I", data, len(data) - 8)[0]
    fmd, _ = _thrift_struct(data, len(data) - 8 - flen)
    i64 = table.column_names.index("i64")
    checked = 0
    for rg_i, rg in enumerate(fmd[4]):
        for col_i, cc in enumerate(rg[1]):
            oi, _ = _thrift_struct(data, cc[4])
            locs = oi[1]
            assert [l[3] for l in locs] == [0, 300, 600, 900][:len(locs)]
            for l in locs:  # each page starts with a PageHeader whose size matches
                ph, end = _thrift_struct(data, l[1])
                assert end - l[1] + ph[3] == l[2]
            if col_i != i64:
                continue
            ci, _ = _thrift_struct(data, cc[6])
            part = table.column("i64").slice(rg_i * 1000, 1000).to_pylist()
            for k, l in enumerate(locs):
                page = part[l[3]:l[3] + 300]
                vals = [v for v in page if v is not None]
                assert ci[5][k] == page.count(None)
                assert ci[1][k] == (not vals)
                if vals:
                    assert struct.unpack("<q", ci[2][k])[0] == min(vals)
                    assert struct.unpack("<q", ci[3][k])[0] == max(vals)
                checked += 1
    assert checked == 12


def test_gf_refuses_bad_options(tmp_path, ipc_file):
    r = subprocess.run([GF, "convert", str(ipc_file), str(tmp_path / "b.parquet"), "--compression", "brotli"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "brotli" in r.stderr
    assert not (tmp_path / "b.parquet").exists()
    r = subprocess.run([GF, "convert", str(ipc_file), str(tmp_path / "b.csv"), "--row-group-size", "10"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Parquet" in r.stderr
