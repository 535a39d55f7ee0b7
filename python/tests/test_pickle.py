"""Frames pickle as Arrow IPC: every protocol, chunked frames, dictionaries,
empty frames; the copy is a new frame with equal values."""
import pickle

import pyarrow as pa
import pytest

import gopherframe as gf


def _frame():
    t = pa.table({
        "i": pa.array([1, None, 3, 4, 5, 6], pa.int64()),
        "s": pa.array(["a", "b", None, "d", "e", "f"], pa.large_string()),
        "d": pa.array(["x", "y", "x", None, "y", "x"], pa.dictionary(pa.int32(), pa.string())),
        "t": pa.array([0, 1, 2, None, 4, 5], pa.timestamp("ms", "UTC")),
    })
    return gf.from_arrow(pa.Table.from_batches(t.to_batches(max_chunksize=4)))


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol):
    df = _frame()
    back = pickle.loads(pickle.dumps(df, protocol=protocol))
    assert isinstance(back, gf.DataFrame)
    assert back.equals(df) and back.schema == df.schema
    assert pa.table(back).equals(pa.table(df))


def test_pickle_empty_and_sliced():
    df = _frame()
    for f in (df.head(0), df.slice(3, 2)):
        back = pickle.loads(pickle.dumps(f))
        assert back.equals(f) and len(back) == len(f)


def test_ipc_bytes_read_by_pyarrow():
    df = _frame()
    data = df.to_ipc_bytes(compression="lz4")
    assert pa.ipc.open_file(pa.py_buffer(data)).read_all().equals(pa.table(df))


def _double_ints(df):
    """Runs in a worker process: receives a pickled frame, returns a new one."""
    return df.with_columns(i="i * 2").filter("i is not null")


def test_frames_cross_a_process_pool():
    import concurrent.futures
    import multiprocessing

    df = _frame()
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        out = pool.submit(_double_ints, df).result(timeout=120)
    assert pa.table(out).column("i").to_pylist() == [2, 6, 8, 10, 12]
    assert out.equals(_double_ints(df))
