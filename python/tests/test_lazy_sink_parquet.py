"""LazyFrame.sink_parquet (gf_plan_sink_parquet): a streamed plan over a CSV
file (filter/select, sort, group-by) written as Parquet reads back with
pyarrow equal to the rows computed here in plain Python, and has the bytes
of collect().write_parquet with the same options; a failing plan leaves no
file."""
import os

import pyarrow.parquet as pq
import pytest

import gopherframe as gf

N = 5000


def _csv(path):
    rows = []
    with open(path, "w") as f:
        f.write("id,k,x\n")
        for i in range(N):
            k = None if i % 11 == 0 else (i * 7919) % 13
            x = (i * 104729) % 1000 / 8.0
            rows.append((i, k, x))
            f.write(f"{i},{'' if k is None else k},{x}\n")
    return rows


@pytest.mark.parametrize("threads", [1, 3])
def test_sink_parquet(tmp_path, threads):
    src = tmp_path / "in.csv"
    rows = _csv(src)
    kept = [r for r in rows if r[0] % 3 != 1]
    cases = {
        "chain": (lambda lf: lf.filter("id % 3 != 1").select("x", "id"),
                  {"x": [r[2] for r in kept], "id": [r[0] for r in kept]}),
        "sort": (lambda lf: lf.filter("id % 3 != 1").sort("x"),
                 {"id": [r[0] for r in sorted(kept, key=lambda r: r[2])]}),
    }
    groups = {}
    for r in kept:
        groups.setdefault(r[1], []).append(r[0])
    keys = sorted(k for k in groups if k is not None) + ([None] if None in groups else [])
    cases["group"] = (lambda lf: lf.filter("id % 3 != 1").group_by("k", sort=True).agg("sum(id) as s"),
                      {"k": keys, "s": [sum(groups[k]) for k in keys]})
    for name, (q, want) in cases.items():
        out, ref = tmp_path / f"{name}.parquet", tmp_path / f"{name}.ref.parquet"
        q(gf.scan_csv(src)).sink_parquet(out, compression="zstd", row_group_size=700, threads=threads)
        t = pq.read_table(out)
        for c, v in want.items():
            assert t.column(c).to_pylist() == v, (name, c)
        q(gf.scan_csv(src)).collect().write_parquet(ref, compression="zstd", row_group_size=700)
        assert out.read_bytes() == ref.read_bytes(), name
        assert pq.ParquetFile(out).metadata.num_row_groups == -(-t.num_rows // 700)


def test_sink_parquet_errors(tmp_path):
    src = tmp_path / "in.csv"
    _csv(src)
    out = tmp_path / "bad.parquet"
    with pytest.raises(gf.InvalidArgumentError):
        gf.scan_csv(src).sink_parquet(out, compression="brotli")
    with pytest.raises(gf.InvalidArgumentError):
        gf.scan_csv(src).sink_parquet(out, row_group_size=0)
    with pytest.raises(gf.Error):
        gf.scan_csv(src).with_columns(y="x * 2").filter("y > 1").sink_parquet(tmp_path / "no" / "x.parquet")
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]
