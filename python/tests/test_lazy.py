"""The lazy API (plans): results equal the eager methods (themselves checked
against plain Python in test_api.py) at several worker counts, with and
without the optimizer; explain; sources; sinks; errors at build time."""
import pyarrow as pa
import pytest

import gopherframe as gf
from gopherframe import col

from test_api import D, REF, THREADS, _frame, _rows


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("optimize", [True, False])
def test_chain_equals_eager(threads, optimize):
    df = _frame(D)
    eager = (df.filter("v1 > 2").with_columns(w="v1 * k").select("id1", "w", "v3")
             .group_by("id1").agg("sum(w) as w", "count() as n").sort("id1"))
    lazy = (df.lazy().filter("v1 > 2").with_columns(w="v1 * k").select("id1", "w", "v3")
            .group_by("id1").agg("sum(w) as w", "count() as n").sort("id1"))
    assert lazy.schema == eager.schema
    got = lazy.collect(threads=threads, optimize=optimize)
    assert got.equals(eager)


@pytest.mark.parametrize("threads", THREADS)
def test_join_distinct_limit_union(threads):
    df = _frame(D)
    right = gf.from_arrow(pa.table({"k": pa.array(range(0, 60, 3), pa.int64()),
                                    "name": [f"n{i}" for i in range(0, 60, 3)]}))
    eager = df.join(right, on="k", how="left").distinct(["id1", "name"]).head(25)
    lazy = df.lazy().join(right, on="k", how="left").distinct(["id1", "name"]).head(25)
    assert lazy.collect(threads=threads).equals(eager)
    top = df.lazy().sort("v3", descending=True, limit=7).collect(threads=threads)
    assert top.equals(df.sort("v3", descending=True).head(7))
    both = df.lazy().head(3).union(df.lazy().slice(10, 2)).collect(threads=threads)
    assert _rows(both) == REF[:3] + REF[10:12]


def test_explain_and_repr():
    lf = _frame(D).lazy().filter(col("v1") > 3).select("id1", "v1")
    text = lf.explain(optimized=False)
    assert "filter" in text and "select" in text and "frame" in text
    full = lf.explain(schema=True)
    assert "== logical plan ==" in full and "== optimized plan ==" in full
    assert repr(lf).startswith("LazyFrame:")
    assert lf.columns == ["id1", "v1"] and lf.schema == {"id1": "utf8", "v1": "int64"}


def test_scan_sources_and_sinks(tmp_path):
    df = _frame(D)
    csv = tmp_path / "d.csv"
    arrow = tmp_path / "d.arrow"
    df.write_csv(csv)
    df.write_ipc(arrow)
    q = lambda lf: lf.filter("k < 10").group_by("k", sort=True).agg("count() as n")  # noqa: E731
    want = q(df.lazy()).collect()
    assert q(gf.scan_ipc(arrow)).collect().equals(want)
    assert _rows(q(gf.scan_csv(csv)).collect()) == _rows(want)
    out_csv, out_ipc = tmp_path / "o.csv", tmp_path / "o.arrow"
    q(gf.scan_ipc(arrow)).sink_csv(out_csv)
    q(gf.scan_ipc(arrow)).sink_ipc(out_ipc, compression="zstd")
    assert _rows(gf.read_csv(out_csv)) == _rows(want)
    assert gf.read_ipc(out_ipc).equals(want)
    frame, profile = q(gf.scan_ipc(arrow)).profile()
    assert frame.equals(want) and "scan_ipc" in profile


def test_errors_at_build_time():
    lf = _frame(D).lazy()
    with pytest.raises(gf.InvalidArgumentError, match="step 2"):
        lf.filter("nope > 1")
    with pytest.raises(gf.TypeMismatchError):
        lf.with_columns(x="id1 + 1")
    with pytest.raises(gf.ParseError):
        lf.filter("v1 >")
    with pytest.raises(gf.IoError):
        gf.scan_ipc("/nonexistent/x.arrow")
    with pytest.raises(TypeError):
        gf.LazyFrame()


def test_union_fills_missing_columns_and_widens():
    a = gf.from_arrow(pa.table({"x": pa.array([1, 2], pa.int32()), "s": ["a", "b"]}))
    b = gf.from_arrow(pa.table({"x": pa.array([3.5], pa.float64()), "y": pa.array([7], pa.int64())}))
    got = pa.table(a.lazy().union(b).collect())
    assert got.column_names == ["x", "s", "y"]
    assert got.column("x").type == pa.float64()
    assert got.to_pylist() == [{"x": 1.0, "s": "a", "y": None}, {"x": 2.0, "s": "b", "y": None},
                               {"x": 3.5, "s": None, "y": 7}]
    c = gf.from_arrow(pa.table({"x": ["text"]}))
    with pytest.raises(gf.TypeMismatchError, match="x"):
        a.lazy().union(c).collect()
