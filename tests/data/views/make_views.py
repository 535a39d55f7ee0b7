#!/usr/bin/env python3
"""Generates the Utf8View/BinaryView and nested-type test data under
tests/data/views/ with pyarrow (run from the repository root with the bench
venv's python; the tests never need pyarrow):

  views.arrow / views.arrows  IPC file and stream: Utf8View and BinaryView
                              columns (inline, out-of-line, several data
                              buffers, nulls, empty strings), three batches
                              (one empty), and a plain utf8 column with the
                              same values for comparison
  views_expected.txt          the expected values, one "batch col row value"
                              line each, value "NULL" or hex of the bytes
  cdata_*.bin                 pyarrow's own C Data export (ArrowArray and
                              its buffers) of view arrays, dumped raw so the
                              C test can rebuild the ArrowArray
  nested_<type>.arrow         one IPC file per nested type, column 'n'
                              after an int column 'id', to be refused
"""
import ctypes
import struct
import sys

import pyarrow as pa
import pyarrow.ipc as ipc

OUT = "tests/data/views/"


def values(n, seed):
    """Deterministic mix: empty, short (inline), 12 and 13 bytes (the
    boundary), long, multi-byte UTF-8, nulls."""
    out = []
    for i in range(n):
        k = (i * 7 + seed) % 11
        if k == 0:
            out.append(None)
        elif k == 1:
            out.append("")
        elif k == 2:
            out.append("abc%d" % i)
        elif k == 3:
            out.append(("twelve%06d" % i)[:12])
        elif k == 4:
            out.append("thirteen%05d" % i)
        elif k == 5:
            out.append("h\u00e9llo w\u00f6rld \u2603 number %d" % i)
        elif k == 6:
            out.append("x" * (20 + i % 50))
        else:
            out.append("value-%d-%s" % (i, "y" * (i % 30)))
    return out


def view_array_multi_buffer(vals, binary):
    """A view array whose out-of-line strings are spread over three data
    buffers (pyarrow's builder would use one), built from raw buffers."""
    bufs = [bytearray(), bytearray(), bytearray()]
    views = bytearray()
    validity = bytearray((len(vals) + 7) // 8)
    for i, v in enumerate(vals):
        if v is None:
            # A null slot holding garbage: a bad buffer index and length.
            views += struct.pack("<iiii", 999, 0x41424344, 77, -5)
            continue
        validity[i // 8] |= 1 << (i % 8)
        b = v.encode("utf-8")
        if len(b) <= 12:
            views += struct.pack("<i", len(b)) + b + bytes(12 - len(b))
        else:
            k = i % 3
            off = len(bufs[k])
            bufs[k] += b"--" + b  # a gap before each string
            views += struct.pack("<i", len(b)) + b[:4] + struct.pack("<ii", k, off + 2)
    typ = pa.binary_view() if binary else pa.string_view()
    return pa.Array.from_buffers(
        typ, len(vals),
        [pa.py_buffer(bytes(validity)), pa.py_buffer(bytes(views))] +
        [pa.py_buffer(bytes(b)) for b in bufs],
        null_count=sum(v is None for v in vals))


def batches():
    out = []
    for bi, n in enumerate([40, 0, 25]):
        vals = values(n, bi)
        sv = pa.array(vals, type=pa.string_view())
        bv = pa.array([None if v is None else v.encode() for v in vals],
                      type=pa.binary_view())
        mv = view_array_multi_buffer(vals, False)
        plain = pa.array(vals, type=pa.string())
        out.append(pa.record_batch([sv, bv, mv, plain],
                                   names=["sv", "bv", "mv", "plain"]))
    return out


def write_views():
    bs = batches()
    schema = bs[0].schema
    with ipc.new_file(OUT + "views.arrow", schema) as w:
        for b in bs:
            w.write_batch(b)
    with ipc.new_stream(OUT + "views.arrows", schema) as w:
        for b in bs:
            w.write_batch(b)
    with open(OUT + "views_expected.txt", "w") as f:
        for bi, b in enumerate(bs):
            for ci in range(b.num_columns):
                for ri, v in enumerate(b.column(ci).to_pylist()):
                    if isinstance(v, str):
                        v = v.encode()
                    f.write("%d %d %d %s\n" % (bi, ci, ri,
                                               "NULL" if v is None else
                                               ("x" + v.hex())))


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64), ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.c_void_p), ("dictionary", ctypes.c_void_p),
    ("release", ctypes.c_void_p), ("private_data", ctypes.c_void_p)]


class ArrowSchema(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_char_p), ("name", ctypes.c_char_p),
        ("metadata", ctypes.c_char_p), ("flags", ctypes.c_int64),
        ("n_children", ctypes.c_int64), ("children", ctypes.c_void_p),
        ("dictionary", ctypes.c_void_p), ("release", ctypes.c_void_p),
        ("private_data", ctypes.c_void_p)]


def dump_cdata(arr, path):
    """Exports `arr` through pyarrow's C Data export and writes the struct
    fields and every buffer: "GFCD1\\n", format, then int64 length,
    null_count, offset, n_buffers, and per buffer int64 size (-1 for NULL)
    followed by the bytes. Buffer sizes come from pyarrow's buffers(); the
    last one (the variadic sizes) is 8 bytes per data buffer."""
    c = ArrowArray()
    s = ArrowSchema()
    arr._export_to_c(ctypes.addressof(c), ctypes.addressof(s))
    pybufs = arr.buffers()
    nb = c.n_buffers
    assert nb == len(pybufs) + 1, (nb, len(pybufs))
    with open(path, "wb") as f:
        f.write(b"GFCD1\n" + s.format + b"\n")
        f.write(struct.pack("<qqqq", c.length, c.null_count, c.offset, nb))
        for i in range(nb):
            p = c.buffers[i]
            if i < len(pybufs):
                size = pybufs[i].size if pybufs[i] is not None else 0
            else:
                size = 8 * (nb - 3)
            if not p:
                f.write(struct.pack("<q", -1))
                continue
            f.write(struct.pack("<q", size))
            f.write(ctypes.string_at(p, size))
    # Release through the callbacks pyarrow set.
    ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))(c.release)(ctypes.byref(c))
    ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))(s.release)(ctypes.byref(s))


def write_cdata():
    vals = values(30, 5)
    dump_cdata(pa.array(vals, type=pa.string_view()), OUT + "cdata_utf8view.bin")
    dump_cdata(pa.array(vals, type=pa.string_view()).slice(7, 15),
               OUT + "cdata_utf8view_sliced.bin")
    dump_cdata(view_array_multi_buffer(vals, True), OUT + "cdata_binaryview_multi.bin")
    dump_cdata(pa.array([], type=pa.string_view()), OUT + "cdata_utf8view_empty.bin")
    with open(OUT + "cdata_expected.txt", "w") as f:
        for name, vs in [("cdata_utf8view", vals),
                         ("cdata_utf8view_sliced", vals[7:22]),
                         ("cdata_binaryview_multi", vals),
                         ("cdata_utf8view_empty", [])]:
            f.write("%s %d\n" % (name, len(vs)))
            for v in vs:
                f.write("NULL\n" if v is None else "x" + v.encode().hex() + "\n")


def write_nested():
    ids = pa.array([1, 2], type=pa.int32())
    cols = {
        "list": pa.array([[1, 2], None], type=pa.list_(pa.int32())),
        "large_list": pa.array([[1], [2, 3]], type=pa.large_list(pa.int32())),
        "fixed_size_list": pa.array([[1, 2], [3, 4]],
                                    type=pa.list_(pa.int32(), 2)),
        "struct": pa.array([{"a": 1}, {"a": 2}],
                           type=pa.struct([("a", pa.int32())])),
        "map": pa.array([[("k", 1)], []], type=pa.map_(pa.string(), pa.int32())),
        "dense_union": pa.UnionArray.from_dense(
            pa.array([0, 1], type=pa.int8()), pa.array([0, 0], type=pa.int32()),
            [pa.array([1]), pa.array(["a"])]),
        "sparse_union": pa.UnionArray.from_sparse(
            pa.array([0, 1], type=pa.int8()),
            [pa.array([1, 2]), pa.array(["a", "b"])]),
        "run_end_encoded": pa.RunEndEncodedArray.from_arrays(
            pa.array([2], type=pa.int32()), pa.array([7], type=pa.int64())),
        "list_view": pa.array([[1, 2], [3]], type=pa.list_view(pa.int32())),
    }
    for name, col in cols.items():
        b = pa.record_batch([ids, col], names=["id", "n"])
        with ipc.new_file(OUT + "nested_%s.arrow" % name, b.schema) as w:
            w.write_batch(b)


if __name__ == "__main__":
    write_views()
    write_cdata()
    write_nested()
    print("pyarrow", pa.__version__, file=sys.stderr)
