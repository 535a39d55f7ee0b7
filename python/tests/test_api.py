"""The eager API against independent references computed here in plain
Python, at several worker counts and on chunked input."""
import os
import random

import pyarrow as pa
import pytest

import gopherframe as gf
from gopherframe import col, lit

THREADS = [1, 2, 3, 8]


def _data(n=5000, seed=7):
    r = random.Random(seed)
    id1 = [f"id{r.randrange(12):03d}" if r.random() > 0.05 else None for _ in range(n)]
    k = [r.randrange(50) if r.random() > 0.05 else None for _ in range(n)]
    v1 = [r.randrange(-5, 20) if r.random() > 0.1 else None for _ in range(n)]
    v3 = [round(r.uniform(0, 100), 3) if r.random() > 0.1 else None for _ in range(n)]
    return {"id1": id1, "k": k, "v1": v1, "v3": v3}


def _frame(d, chunk=700):
    t = pa.table({"id1": pa.array(d["id1"], pa.string()), "k": pa.array(d["k"], pa.int64()),
                  "v1": pa.array(d["v1"], pa.int64()), "v3": pa.array(d["v3"], pa.float64())})
    return gf.from_arrow(pa.Table.from_batches(t.to_batches(max_chunksize=chunk)))


def _rows(df):
    return pa.table(df).to_pylist()


def _ref_rows(d):
    names = list(d)
    return [dict(zip(names, vals)) for vals in zip(*d.values())]


D = _data()
REF = _ref_rows(D)


def test_shape_schema_repr_len():
    df = _frame(D)
    assert df.shape == (5000, 4) and len(df) == 5000
    assert df.columns == ["id1", "k", "v1", "v3"]
    assert df.schema == {"id1": "utf8", "k": "int64", "v1": "int64", "v3": "float64"}
    text = repr(df)
    assert text.startswith("shape: (5000, 4)") and "id1" in text and "…" in text
    assert df.num_batches == 8


@pytest.mark.parametrize("threads", THREADS)
def test_filter(threads):
    df = _frame(D)
    got = _rows(df.filter("v1 > 3 and id1 != 'id001'", threads=threads))
    want = [r for r in REF if r["v1"] is not None and r["v1"] > 3 and r["id1"] is not None and r["id1"] != "id001"]
    assert got == want
    # The same through the expression builder.
    got2 = _rows(df.filter((col("v1") > 3) & (col("id1") != lit("id001")), threads=threads))
    assert got2 == want


@pytest.mark.parametrize("threads", THREADS)
def test_with_columns_and_select(threads):
    df = _frame(D)
    out = df.with_columns({"w": "v1 * 2 + k"}, z=col("v3") / 2, threads=threads).select("w", "z", "id1")
    assert out.columns == ["w", "z", "id1"]
    want = [{"w": (r["v1"] * 2 + r["k"]) if r["v1"] is not None and r["k"] is not None else None,
             "z": r["v3"] / 2 if r["v3"] is not None else None, "id1": r["id1"]} for r in REF]
    assert _rows(out) == want


@pytest.mark.parametrize("threads", THREADS)
def test_group_by(threads):
    df = _frame(D)
    out = df.group_by("id1").agg("sum(v1) as s", "count() as n", mean_v3="mean(v3)", threads=threads)
    order, acc = [], {}
    for r in REF:
        key = r["id1"]
        if key not in acc:
            order.append(key)
            acc[key] = {"s": None, "n": 0, "v3": []}
        a = acc[key]
        a["n"] += 1
        if r["v1"] is not None:
            a["s"] = (a["s"] or 0) + r["v1"]
        if r["v3"] is not None:
            a["v3"].append(r["v3"])
    got = _rows(out)
    assert [g["id1"] for g in got] == order
    for g in got:
        a = acc[g["id1"]]
        assert g["s"] == a["s"] and g["n"] == a["n"]
        assert g["mean_v3"] == pytest.approx(sum(a["v3"]) / len(a["v3"]), rel=1e-12)
    sorted_keys = [g["id1"] for g in _rows(df.group_by("id1", sort=True).agg("count()"))]
    assert sorted_keys == sorted(k for k in order if k is not None) + [None]
    # No keys: one row for the whole frame.
    assert _rows(df.group_by().agg("count() as n")) == [{"n": 5000}]


@pytest.mark.parametrize("threads", THREADS)
def test_sort_and_top_k(threads):
    df = _frame(D)
    got = _rows(df.sort("v1", "k", descending=[True, False], threads=threads))
    # Stable: ties keep input order; nulls last for both directions.
    idx = list(range(len(REF)))

    def key(i):
        r = REF[i]
        v1, k = r["v1"], r["k"]
        return ((v1 is None), -(v1 or 0), (k is None), k or 0)

    want = [REF[i] for i in sorted(idx, key=key)]
    assert got == want
    assert _rows(df.sort("v1", "k", descending=[True, False], limit=17, threads=threads)) == want[:17]
    first = _rows(df.sort("v3", nulls_first=True, threads=threads))[: sum(r["v3"] is None for r in REF)]
    assert all(r["v3"] is None for r in first)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("how", ["inner", "left", "semi", "anti"])
def test_join(threads, how):
    left = _frame(D)
    rd = {"k": [i for i in range(0, 60, 3)] + [3, None], "name": [f"n{i}" for i in range(0, 60, 3)] + ["dup", "nul"]}
    right = gf.from_arrow(pa.table({"k": pa.array(rd["k"], pa.int64()), "name": pa.array(rd["name"])}))
    got = _rows(left.join(right, on="k", how=how, threads=threads))
    rrows = _ref_rows(rd)
    want = []
    for r in REF:
        matches = [m for m in rrows if r["k"] is not None and m["k"] == r["k"]]
        if how == "inner":
            want += [{**r, "name": m["name"]} for m in matches]
        elif how == "left":
            want += [{**r, "name": m["name"]} for m in matches] or [{**r, "name": None}]
        elif how == "semi" and matches:
            want.append(r)
        elif how == "anti" and not matches:
            want.append(r)
    assert got == want


@pytest.mark.parametrize("threads", THREADS)
def test_distinct(threads):
    df = _frame(D)
    got = _rows(df.distinct(["id1", "k"], threads=threads))
    seen, want = set(), []
    for r in REF:
        key = (r["id1"], r["k"])
        if key not in seen:
            seen.add(key)
            want.append(r)
    assert got == want
    assert len(df.distinct()) == len({tuple(r.values()) for r in REF})


def test_head_limit_tail_slice():
    df = _frame(D)
    assert _rows(df.head(3)) == REF[:3]
    assert _rows(df.limit(701)) == REF[:701]
    assert _rows(df.tail(4)) == REF[-4:]
    assert _rows(df.slice(695, 10)) == REF[695:705]
    assert _rows(df.slice(-2)) == REF[-2:]
    assert len(df.head(0)) == 0 and df.head(0).columns == df.columns
    assert len(df.slice(10_000, 5)) == 0


def test_results_identical_across_threads():
    df = _frame(D, chunk=333)
    outs = [df.filter("v1 > 0", threads=t).group_by("id1", "k").agg("sum(v3) as s", "count()", threads=t)
            for t in THREADS]
    for o in outs[1:]:
        assert o.equals(outs[0])


def test_empty_frame_operations():
    df = _frame(D).head(0)
    assert len(df.filter("v1 > 3")) == 0
    assert len(df.sort("k")) == 0
    assert len(df.group_by("id1").agg("sum(v1)")) == 0
    assert len(df.with_columns(w="v1 + 1")) == 0
    assert _rows(df.group_by().agg("count() as n")) == [{"n": 0}]


def test_csv_and_ipc_files(tmp_path):
    df = _frame(D)
    p = tmp_path / "x.csv"
    df.write_csv(p)
    back = gf.read_csv(p, threads=2)
    assert back.shape == df.shape and _rows(back.select("k", "v1")) == _rows(df.select("k", "v1"))
    for comp in (None, "lz4", "zstd"):
        q = tmp_path / f"x_{comp}.arrow"
        df.write_ipc(q, compression=comp)
        assert gf.read_ipc(q).equals(df)
        s = tmp_path / f"x_{comp}.arrows"
        df.write_ipc(s, compression=comp, stream=True)
        assert gf.read_ipc(s).equals(df)
    # pyarrow reads what we wrote.
    assert pa.ipc.open_file(str(tmp_path / "x_zstd.arrow")).read_all().equals(pa.table(df))
    tsv = tmp_path / "t.tsv"
    df.write_csv(tsv, delimiter="\t")
    assert gf.read_csv(tsv, delimiter="\t").shape == df.shape


def test_build_info_codecs():
    info = gf.build_info()
    assert info["version"] == gf.__version__
    assert info["lz4"] is True and info["zstd"] is True


def test_concat_and_describe():
    df = _frame(D)
    both = gf.concat([df, df.head(10)])
    assert len(both) == 5010 and _rows(both)[5000:] == REF[:10]
    desc = df.describe()
    assert desc.columns[0] == "statistic" and len(desc) == 10


def test_expression_builder_text():
    e = (col("a") + 1 > lit(2.5)) & ~col("b").is_null() | col("odd name").is_in(["x", "it's"])
    assert str(e) == "((((a + 1) > 2.5) and (not (b is null))) or (\"odd name\" in ('x', 'it''s')))"
    with pytest.raises(TypeError):
        bool(col("a") > 1)
