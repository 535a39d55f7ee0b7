"""arrow-testing's IPC integration files (written by Arrow C++), read through
Python: every dataset we support equals pyarrow's reading of the same file
(dictionaries compared by value, since we keep int32 codes); every other
one fails with NotSupportedError naming what is unsupported. A dataset in
neither list fails the test, as in tests/unit/test_ipc_golden.c."""
import os
import pathlib

import pyarrow as pa
import pyarrow.ipc
import pytest

import gopherframe as gf

ROOT = pathlib.Path(os.environ.get("GF_ARROW_TESTING", pathlib.Path(__file__).resolve().parents[2]
                                   / "tests" / "data" / "arrow-testing")) / "data" / "arrow-ipc-stream" / "integration"

SUPPORTED = {
    "generated_primitive", "generated_primitive_no_batches", "generated_primitive_zerolength",
    "generated_primitive_large_offsets", "generated_null", "generated_null_trivial", "generated_dictionary",
    "generated_dictionary_unsigned", "generated_extension", "generated_lz4", "generated_uncompressible_lz4",
    "generated_zstd", "generated_uncompressible_zstd", "generated_datetime", "generated_decimal",
    "generated_decimal256",
}
UNSUPPORTED = {
    "generated_custom_metadata": "list", "generated_duplicate_fieldnames": "duplicate",
    "generated_interval": "interval", "generated_map": "map", "generated_map_non_canonical": "map",
    "generated_nested": "list", "generated_nested_dictionary": "list",
    "generated_nested_large_offsets": "large_list", "generated_recursive_nested": "list",
    "generated_union": "union",
}


def _datasets():
    out = []
    for sub in sorted(ROOT.iterdir()):
        if sub.is_dir():
            for f in sorted(sub.glob("*.arrow_file")):
                out.append((sub.name, f.name[: -len(".arrow_file")]))
    return out


DATASETS = _datasets()


def _decoded(table):
    """Dictionary columns as their values, extension types as storage, so
    that equal data compares equal whatever the index type."""
    cols, types = [], []
    for c in table.columns:
        t = c.type
        if isinstance(t, pa.ExtensionType):
            c = pa.chunked_array([ch.storage for ch in c.chunks], type=t.storage_type)
            t = c.type
        if pa.types.is_dictionary(t):
            c = c.cast(t.value_type)
        types.append(str(c.type))
        if pa.types.is_temporal(t):
            # Raw integers (the types are compared as text): nanosecond values
            # do not all convert to Python datetimes.
            c = c.cast(pa.int64() if t.bit_width == 64 else pa.int32())
        cols.append(c)
    return types, pa.table(cols, names=table.column_names).to_pylist()


def test_every_dataset_is_listed():
    assert len(DATASETS) >= len(SUPPORTED) + len(UNSUPPORTED)
    names = {n for _, n in DATASETS}
    assert names == SUPPORTED | set(UNSUPPORTED), names ^ (SUPPORTED | set(UNSUPPORTED))


@pytest.mark.parametrize("sub,name", DATASETS, ids=[f"{s}/{n}" for s, n in DATASETS])
def test_golden_dataset(sub, name):
    for suffix in ("arrow_file", "stream"):
        path = ROOT / sub / f"{name}.{suffix}"
        if name in UNSUPPORTED:
            with pytest.raises(gf.NotSupportedError) as info:
                gf.read_ipc(path)
            assert UNSUPPORTED[name] in str(info.value), str(info.value)
            continue
        assert name in SUPPORTED, f"{name} is in neither list"
        df = gf.read_ipc(path)
        if suffix == "arrow_file":
            ref = pa.ipc.open_file(str(path)).read_all()
        else:
            ref = pa.ipc.open_stream(str(path)).read_all()
        assert df.shape == (ref.num_rows, ref.num_columns)
        assert _decoded(pa.table(df)) == _decoded(ref)
