#!/usr/bin/env python3
"""views_pyarrow.py [BUILD_DIR] - string views with pyarrow, both ways, by
hand (not part of `make test` or `make interop`; needs pyarrow, e.g. the
bench venv: ~/.cache/gopherframe-bench/venv/bin/python).

1. Ours -> pyarrow through the C Stream interface: the library reads
   tests/data/views/views.arrow (pyarrow's Utf8View/BinaryView file) and
   exports it with GF_EXPORT_STRING_VIEWS; pyarrow imports the stream,
   validates it fully, and must see views with pyarrow's own values.
2. Ours -> pyarrow through IPC: the same frame written with
   GF_IPC_WRITE_STRING_VIEWS (file and stream) reads back in pyarrow with
   view types and the same values.
Calls libgopherframe.so through ctypes. Prints PASS lines; exits 1 on a
failure."""
import ctypes
import os
import sys
import tempfile

import pyarrow as pa
import pyarrow.ipc as ipc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
SRC = os.path.join(ROOT, "tests/data/views/views.arrow")
lib = ctypes.CDLL(os.path.join(BUILD, "libgopherframe.so"))

GF_EXPORT_STRING_VIEWS = 1
GF_IPC_WRITE_STRING_VIEWS = 1


class ExportOptions(ctypes.Structure):  # gf_cdata_export_options
    _fields_ = [("size", ctypes.c_size_t), ("flags", ctypes.c_uint)]


class WriteOptions(ctypes.Structure):  # gf_ipc_write_options
    _fields_ = [("size", ctypes.c_size_t), ("compression", ctypes.c_int),
                ("compression_level", ctypes.c_int), ("metadata", ctypes.c_void_p),
                ("num_metadata", ctypes.c_int), ("parallel", ctypes.c_void_p),
                ("flags", ctypes.c_uint)]


def check(name, table, ref):
    table.validate(full=True)
    for f in table.schema:
        if not (pa.types.is_string_view(f.type) or pa.types.is_binary_view(f.type)):
            raise SystemExit("FAIL %s: column %s has type %s" % (name, f.name, f.type))
        if table.column(f.name).to_pylist() != ref.column(f.name).to_pylist():
            raise SystemExit("FAIL %s: column %s differs" % (name, f.name))
    print("PASS", name)


ref = ipc.open_file(SRC).read_all()
err = ctypes.create_string_buffer(4096)
frame = ctypes.c_void_p()
if lib.gf_read_ipc(SRC.encode(), None, ctypes.byref(frame), err) != 0:
    raise SystemExit("FAIL read: %r" % err.raw[:200])

stream = ctypes.create_string_buffer(64)  # struct ArrowArrayStream
opts = ExportOptions(ctypes.sizeof(ExportOptions), GF_EXPORT_STRING_VIEWS)
if lib.gf_frame_export_stream_with(frame, ctypes.byref(opts), stream, err) != 0:
    raise SystemExit("FAIL export: %r" % err.raw[:200])
check("C stream export as views", pa.RecordBatchReader._import_from_c(
    ctypes.addressof(stream)).read_all(), ref)

w = WriteOptions()
lib.gf_ipc_write_options_init(ctypes.byref(w))
w.flags = GF_IPC_WRITE_STRING_VIEWS
with tempfile.TemporaryDirectory() as d:
    for fn, opener in (("gf_write_ipc_file", ipc.open_file),
                       ("gf_write_ipc_stream", ipc.open_stream)):
        path = os.path.join(d, fn + ".arrow")
        if getattr(lib, fn)(frame, path.encode(), ctypes.byref(w), err) != 0:
            raise SystemExit("FAIL %s: %r" % (fn, err.raw[:200]))
        check(fn + " with views", opener(path).read_all(), ref)
lib.gf_frame_release(frame)
