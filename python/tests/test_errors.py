"""Every gf_status maps to its exception class (subclass of gopherframe.Error
and of the matching builtin), carrying the engine's message."""
import pyarrow as pa
import pytest

import gopherframe as gf

CLASSES = [
    (gf.InvalidArgumentError, "GF_EINVAL", ValueError),
    (gf.OutOfMemoryError, "GF_ENOMEM", MemoryError),
    (gf.IoError, "GF_EIO", OSError),
    (gf.CanceledError, "GF_ECANCELED", None),
    (gf.TimedOutError, "GF_ETIMEDOUT", TimeoutError),
    (gf.NotSupportedError, "GF_ENOTSUP", NotImplementedError),
    (gf.TypeMismatchError, "GF_ETYPE", TypeError),
    (gf.ParseError, "GF_EPARSE", ValueError),
    (gf.OutOfRangeError, "GF_ERANGE", OverflowError),
    (gf.InternalError, "GF_EINTERNAL", RuntimeError),
]


@pytest.mark.parametrize("cls,status,builtin", CLASSES, ids=[c[1] for c in CLASSES])
def test_class_hierarchy(cls, status, builtin):
    assert issubclass(cls, gf.Error) and issubclass(gf.Error, Exception)
    assert cls.status == status
    if builtin is not None:
        assert issubclass(cls, builtin)


def _df():
    return gf.from_arrow(pa.table({"a": pa.array([1, 2, None, 2**62], pa.int64()), "s": ["x", "y", None, "z"]}))


def test_engine_errors_map_with_their_messages(tmp_path):
    df = _df()
    with pytest.raises(gf.ParseError, match="at column 6"):
        df.filter("a > (")
    with pytest.raises(gf.InvalidArgumentError, match="unknown column 'nope'"):
        df.filter("nope > 1")
    with pytest.raises(gf.TypeMismatchError, match="utf8"):
        df.filter("s + 1 > 2")
    with pytest.raises(gf.IoError, match="no_such_file.csv"):
        gf.read_csv(tmp_path / "no_such_file.csv")
    with pytest.raises(gf.OutOfRangeError):
        gf.concat([df] * 4).group_by().agg("sum(a)")
    with pytest.raises(gf.NotSupportedError, match=r"\+l"):
        gf.from_arrow(pa.table({"l": pa.array([None], pa.list_(pa.int64()))}))
    with pytest.raises(gf.InvalidArgumentError, match="'zz'"):
        df.select("a", "zz")
    with pytest.raises(gf.ParseError):
        df.sort("a", descending=True).group_by("a").agg("sum(")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(gf.ParseError, match="bad.csv:3"):
        gf.read_csv(bad)
    with pytest.raises(gf.InvalidArgumentError):
        gf.read_ipc(bad)
    # Errors are also the builtin kinds.
    with pytest.raises(ValueError):
        df.filter("nope > 1")


def test_memory_limit_and_timeout():
    import polars as pl
    n = 2_000_000
    df = gf.from_arrow(pl.select(k=(pl.int_range(0, n) * 2654435761) % 1000003))
    with pytest.raises(gf.OutOfMemoryError, match="out of memory"):
        df.sort("k", memory_limit=4096)
    with pytest.raises(gf.TimedOutError):
        df.sort("k", threads=1, timeout=0.001)
    # Neither stays: the next call without limits works.
    assert len(df.sort("k", threads=2)) == n


def test_bad_python_arguments():
    df = _df()
    with pytest.raises(ValueError):
        df.filter("a > 1", threads=-1)
    with pytest.raises(ValueError):
        df.filter("a > 1", timeout=0)
    with pytest.raises(TypeError):
        df.filter(42)
    with pytest.raises(ValueError):
        df.write_ipc("/tmp/x.arrow", compression="snappy")
    with pytest.raises(ValueError):
        df.join(df, on="a", left_on="a")
