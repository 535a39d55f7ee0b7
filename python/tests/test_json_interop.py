"""JSON files between gf and other readers/writers: pyarrow and Python's json
module read what `gf convert` writes; gf reads what Polars writes. Uses the
gf binary of the build directory (scripts/python-tests runs pytest there) or
$GF_BINARY; skipped when neither exists."""
import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")
pajson = pytest.importorskip("pyarrow.json")


def gf_binary():
    for c in (os.environ.get("GF_BINARY"), str(Path.cwd() / "gf")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    pytest.skip("gf binary not found (run from the build directory or set GF_BINARY)")


def frame():
    return pl.DataFrame({
        "i": [1, None, -3, 2**62],
        "f": [0.1, 2.5e-8, None, -0.0],
        "s": ['a"b\\c', None, "é\n\tz", ""],
        "b": [True, None, False, True],
        "d": [datetime.date(2024, 1, 2), None, datetime.date(1969, 12, 31), datetime.date(2000, 2, 29)],
    })


def run(*args):
    r = subprocess.run([gf_binary(), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_others_read_what_gf_writes(tmp_path):
    df = frame()
    df.write_csv(tmp_path / "in.csv")
    run("convert", tmp_path / "in.csv", tmp_path / "out.ndjson")
    run("convert", tmp_path / "in.csv", tmp_path / "out.json")
    want = [dict(r, d=None if r["d"] is None else r["d"].isoformat()) for r in df.to_dicts()]
    lines = [json.loads(l) for l in open(tmp_path / "out.ndjson", encoding="utf-8")]
    assert lines == want
    assert json.load(open(tmp_path / "out.json", encoding="utf-8")) == want
    t = pajson.read_json(tmp_path / "out.ndjson")
    assert t.column("i").to_pylist() == df["i"].to_list()
    assert t.column("f").to_pylist() == df["f"].to_list()
    assert t.column("s").to_pylist() == df["s"].to_list()
    assert t.column("b").to_pylist() == df["b"].to_list()


def test_gf_reads_what_polars_writes(tmp_path):
    df = frame()
    df.write_ndjson(tmp_path / "p.ndjson")
    run("convert", tmp_path / "p.ndjson", tmp_path / "back.csv")
    back = pl.read_csv(tmp_path / "back.csv", schema=df.schema)
    assert back.equals(df)
    schema = run("schema", tmp_path / "p.ndjson", "--format", "csv").splitlines()
    assert schema == ["name,type,nullable,nulls", "i,int64,true,1", "f,float64,true,1",
                      "s,utf8,true,1", "b,bool,true,1", "d,date32,true,1"]
