"""Type round trips through pyarrow, Polars and DuckDB, table-driven: every
type we support is one line of TYPES (a new type is one more line); types
we do not support yet are one line of UNSUPPORTED, which must fail cleanly
with NotSupportedError naming the Arrow format (when support arrives, that
test fails and the line moves to TYPES). Every case runs with nulls, on a
sliced input (non-zero offset), an empty input and a chunked one."""
import datetime as dt
from decimal import Decimal as Dec

import duckdb
import polars as pl
import pyarrow as pa
import pytest

import gopherframe as gf

D = dt.date
T = dt.datetime

# (id = our type name, pyarrow type, values with a null, also through Polars,
# also through DuckDB: True, False, or "tin" where DuckDB reads the column
# as INTERVAL and exports month_day_nano ('tin'), which we do not import)
TYPES = [
    ("null", pa.null(), [None, None, None, None, None], True, True),
    ("bool", pa.bool_(), [True, None, False, True, False], True, True),
    ("int8", pa.int8(), [-128, None, 127, 0, 5], True, True),
    ("int16", pa.int16(), [-32768, None, 32767, 0, 5], True, True),
    ("int32", pa.int32(), [-2**31, None, 2**31 - 1, 0, 5], True, True),
    ("int64", pa.int64(), [-2**63, None, 2**63 - 1, 0, 5], True, True),
    ("uint8", pa.uint8(), [0, None, 255, 1, 7], True, True),
    ("uint16", pa.uint16(), [0, None, 65535, 1, 7], True, True),
    ("uint32", pa.uint32(), [0, None, 2**32 - 1, 1, 7], True, True),
    ("uint64", pa.uint64(), [0, None, 2**64 - 1, 1, 7], True, True),
    ("float32", pa.float32(), [1.5, None, -0.0, float("inf"), 3.25], True, True),
    ("float64", pa.float64(), [1.5, None, -0.0, float("-inf"), 1e300], True, True),
    ("utf8", pa.string(), ["a", None, "", "héllo", "x" * 40], True, True),
    ("large_utf8", pa.large_string(), ["a", None, "", "héllo", "zz"], True, True),
    ("binary", pa.binary(), [b"\x00a", None, b"", b"\xff\xfe", b"b"], True, True),
    ("large_binary", pa.large_binary(), [b"\x00a", None, b"", b"\xff", b"b"], True, True),
    ("fixed_size_binary[3]", pa.binary(3), [b"abc", None, b"\x00\x01\x02", b"xyz", b"   "], True, True),
    ("date32", pa.date32(), [D(2024, 1, 31), None, D(1970, 1, 1), D(1900, 3, 1), D(2100, 12, 31)], True, True),
    ("date64", pa.date64(), [D(2024, 1, 31), None, D(1970, 1, 1), D(1969, 12, 31), D(2000, 2, 29)], True, True),
    ("time32[s]", pa.time32("s"), [dt.time(1, 2, 3), None, dt.time(0), dt.time(23, 59, 59), dt.time(12)], True, True),
    ("time32[ms]", pa.time32("ms"), [dt.time(1, 2, 3, 4000), None, dt.time(0), dt.time(23), dt.time(1)], True, True),
    ("time64[us]", pa.time64("us"), [dt.time(1, 2, 3, 4), None, dt.time(0), dt.time(23), dt.time(2)], True, True),
    ("time64[ns]", pa.time64("ns"), [dt.time(1, 2, 3, 4), None, dt.time(0), dt.time(23), dt.time(3)], True, True),
    ("timestamp[s]", pa.timestamp("s"), [T(2024, 1, 31, 12), None, T(1970, 1, 1), T(1960, 5, 6), T(2038, 1, 20)], True, True),
    ("timestamp[ms]", pa.timestamp("ms"), [T(2024, 1, 31, 12), None, T(1970, 1, 1), T(1960, 5, 6), T(2038, 1, 20)], True, True),
    ("timestamp[us]", pa.timestamp("us"), [T(2024, 1, 31, 12, 0, 0, 5), None, T(1970, 1, 1), T(1960, 5, 6), T(2038, 1, 20)], True, True),
    ("timestamp[ns]", pa.timestamp("ns"), [T(2024, 1, 31, 12, 0, 0, 5), None, T(1970, 1, 1), T(1960, 5, 6), T(2038, 1, 20)], True, True),
    ("timestamp[us, UTC]", pa.timestamp("us", "UTC"), [T(2024, 1, 31, 12, tzinfo=dt.timezone.utc), None, T(1970, 1, 1, tzinfo=dt.timezone.utc), T(2000, 1, 1, tzinfo=dt.timezone.utc), T(2001, 1, 1, tzinfo=dt.timezone.utc)], True, True),
    ("timestamp[ms, +05:30]", pa.timestamp("ms", "+05:30"), [T(2024, 1, 31, 12, tzinfo=dt.timezone.utc), None, T(1970, 1, 1, tzinfo=dt.timezone.utc), T(2000, 1, 1, tzinfo=dt.timezone.utc), T(2001, 1, 1, tzinfo=dt.timezone.utc)], False, False),
    ("duration[s]", pa.duration("s"), [dt.timedelta(seconds=5), None, dt.timedelta(0), dt.timedelta(days=-3), dt.timedelta(1)], True, "tin"),
    ("duration[ms]", pa.duration("ms"), [dt.timedelta(milliseconds=5), None, dt.timedelta(0), dt.timedelta(days=-3), dt.timedelta(1)], True, "tin"),
    ("duration[us]", pa.duration("us"), [dt.timedelta(microseconds=5), None, dt.timedelta(0), dt.timedelta(days=-3), dt.timedelta(1)], True, "tin"),
    ("duration[ns]", pa.duration("ns"), [dt.timedelta(microseconds=5), None, dt.timedelta(0), dt.timedelta(days=-3), dt.timedelta(1)], True, "tin"),
    ("dictionary<utf8>", pa.dictionary(pa.int32(), pa.string()), ["x", None, "y", "x", "zz"], True, True),
    ("decimal128(10, 2)", pa.decimal128(10, 2), [Dec("1.50"), None, Dec("-99999999.99"), Dec("0.01"), Dec("0")], True, True),
    ("decimal256(40, 5)", pa.decimal256(40, 5), [Dec("1.5"), None, Dec("-" + "9" * 35 + ".99999"), Dec("0.00001"), Dec("0")], False, False),
    ("timestamp[us, Europe/Paris]", pa.timestamp("us", "Europe/Paris"), [T(2024, 3, 31, 1, 30, tzinfo=dt.timezone.utc), None, T(1970, 1, 1, tzinfo=dt.timezone.utc), T(2021, 10, 31, 0, 59, tzinfo=dt.timezone.utc), T(1900, 1, 1, tzinfo=dt.timezone.utc)], True, False),
]

# (id, pyarrow type, values, Arrow format the error must name): types we
# refuse (nested; dictionaries with other than int32 indices).
UNSUPPORTED = [
    ("list<int64>", pa.list_(pa.int64()), [[1], None], "+l"),
    ("dictionary<utf8, uint32 indices>", pa.dictionary(pa.uint32(), pa.string()), ["x", None], "I"),
]


# Types that Polars reads but exports as something in UNSUPPORTED
# (Categorical: a dictionary with uint32 indices).
POLARS_EXPORTS_UNSUPPORTED = {"dictionary<utf8>"}


def _array(ptype, values):
    return pa.array(values, type=ptype)


def _variants(ptype, values):
    """(name, table) for: plain with nulls, sliced (offset 1), empty, and
    chunked into several batches (one of them empty)."""
    arr = _array(ptype, values)
    chunks = [(0, 2), (2, 0), (2, len(values) - 2)]
    return [
        ("plain", pa.table({"c": arr, "k": pa.array(range(len(values)), pa.int64())})),
        ("sliced", pa.table({"c": arr.slice(1, 3), "k": pa.array(range(3), pa.int64())})),
        ("empty", pa.table({"c": arr.slice(0, 0), "k": pa.array([], pa.int64())})),
        ("chunked", pa.Table.from_batches(
            [pa.RecordBatch.from_arrays([arr.slice(o, n), pa.array(range(o, o + n), pa.int64())], names=["c", "k"])
             for o, n in chunks])),
    ]


@pytest.mark.parametrize("name,ptype,values,_pl,_dk", TYPES, ids=[t[0] for t in TYPES])
def test_pyarrow_round_trip(name, ptype, values, _pl, _dk):
    for variant, table in _variants(ptype, values):
        df = gf.from_arrow(table)
        assert df.shape == (table.num_rows, 2), variant
        assert df.schema["c"] == name, variant
        back = pa.table(df)
        assert back.schema == table.schema, variant
        assert back.equals(table), (variant, back, table)
        # Through the schema capsule too.
        assert pa.schema(df) == table.schema, variant
        if variant == "chunked":
            assert df.num_batches >= 2


@pytest.mark.parametrize("name,ptype,values,through_polars,_dk", TYPES, ids=[t[0] for t in TYPES])
def test_polars_round_trip(name, ptype, values, through_polars, _dk):
    for variant, table in _variants(ptype, values):
        if not through_polars:
            continue
        df = gf.from_arrow(table)
        # Polars consumes our stream and pyarrow's: both must agree.
        ours = pl.DataFrame(df)
        ref = pl.from_arrow(table)
        assert ours.equals(ref, null_equal=True), (variant, ours, ref)
        assert ours.schema == ref.schema
        # And back, except where Polars exports a type we do not import yet
        # (Utf8View, BinaryView, uint32-indexed dictionaries: UNSUPPORTED).
        if name not in POLARS_EXPORTS_UNSUPPORTED:
            again = gf.from_arrow(ours)
            assert pl.DataFrame(again).equals(ref, null_equal=True), variant


@pytest.mark.parametrize("name,ptype,values,_pl,through_duckdb", TYPES, ids=[t[0] for t in TYPES])
def test_duckdb_round_trip(name, ptype, values, _pl, through_duckdb):
    for variant, table in _variants(ptype, values):
        if not through_duckdb:
            continue
        df = gf.from_arrow(table)
        con = duckdb.connect()
        con.register("ours", df)
        con.register("ref", table)
        got = con.sql("select * from ours order by k").fetchall()
        want = con.sql("select * from ref order by k").fetchall()
        assert got == want, variant
        # DuckDB's export imported by us equals DuckDB's export read by
        # pyarrow (values: DuckDB names UTC 'Etc/UTC', which we read as UTC).
        rel = con.sql("select * from ours order by k")
        if through_duckdb == "tin":
            with pytest.raises(gf.NotSupportedError, match="'tin'"):
                gf.from_arrow(rel)
        else:
            back = gf.from_arrow(rel)
            ref = con.sql("select * from ours order by k").to_arrow_table()
            assert pa.table(back).to_pylist() == ref.to_pylist(), variant
        con.close()


@pytest.mark.parametrize("name,ptype,values,fmt", UNSUPPORTED, ids=[t[0] for t in UNSUPPORTED])
def test_unsupported_types_fail_cleanly(name, ptype, values, fmt):
    table = pa.table({"c": _array(ptype, values)})
    with pytest.raises(gf.NotSupportedError) as info:
        gf.from_arrow(table)
    assert fmt in str(info.value)


def test_polars_strings_arrive_as_views():
    """Polars exports strings as Utf8View ('vu'): imported (validated, the
    bytes copied once into utf8), equal to Polars' own frame."""
    p = pl.DataFrame({"s": ["a", None, "b" * 40], "i": [1, 2, None]})
    df = gf.from_arrow(p)
    assert df.schema["s"] == "utf8"
    assert pl.DataFrame(df).equals(p, null_equal=True)


@pytest.mark.parametrize("ptype,ours,values", [
    (pa.string_view(), "utf8", ["a", None, "", "long enough to be out of line", "é"]),
    (pa.binary_view(), "binary", [b"a", None, b"", b"\x00" * 20, b"\xff"]),
])
def test_view_types_import_as_plain(ptype, ours, values):
    for variant, table in _variants(ptype, values):
        df = gf.from_arrow(table)
        assert df.schema["c"] == ours, variant
        assert pa.table(df).column("c").to_pylist() == table.column("c").to_pylist(), variant


def test_polars_null_column_export_is_accepted():
    """Polars exports a null-typed column with n_buffers = 1 where the C Data
    spec's null layout has none; like pyarrow, we accept it."""
    p = pl.DataFrame({"c": pl.Series([None, None], dtype=pl.Null)})
    df = gf.from_arrow(p)
    assert df.shape == (2, 1)
    assert df.schema["c"] == "null"
    assert pl.DataFrame(df).equals(p, null_equal=True)