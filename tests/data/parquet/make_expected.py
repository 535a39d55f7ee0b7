#!/usr/bin/env python3
"""Expected contents of Parquet files, as pyarrow reads them, for
tests/unit/test_parquet_read_golden.c.

Run with a Python that has pyarrow (the bench venv has one):
    ~/.cache/gopherframe-bench/venv/bin/python tests/data/parquet/make_expected.py [PARQUET_TESTING_DIR]

It (1) writes the generated test files tests/data/parquet/gen/*.parquet
(every codec, page versions, encodings, many row groups, nulls, Arrow
types restored through ARROW:schema), then (2) reads every file of
parquet-testing's data/ and bad_data/ and of gen/ with pyarrow and writes
tests/data/parquet/expected.txt:

    file <relative path>
    ok <rows> <ncols>                 | refused <keyword> | error
    col <name-hex> <gf type> <null count> <fnv64 of the value tokens>
    vals <token> <token> ...          (all values; small files only)
    end

Value tokens (what the C test formats from our frame): N for null; bool
0/1; integers and temporal values as their integer; float32/float64 as
the hex of their IEEE bits (float16 widened to float32); decimals as the
hex of the little-endian two's complement unscaled value (16 or 32
bytes); strings and binaries as x and the hex of their bytes. The digest is
FNV-1a 64 over the tokens each followed by a newline.

"refused" files are those the reader refuses by design, with the keyword
its GF_ENOTSUP message must contain: nested columns, encryption, the
UNKNOWN (null) logical type. "error" files are those pyarrow cannot read:
the reader must fail cleanly too.
"""
import os
import struct
import sys

import random
from decimal import Decimal as Dec
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen")
SMALL = 2000  # dump all values when rows * cols <= SMALL


def fnv(tokens):
    h = 0xCBF29CE484222325
    for t in tokens:
        for b in t.encode() + b"\n":
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def gf_type(t):
    """Our gf_type_format name of the type we read for pyarrow type t."""
    if isinstance(t, pa.ExtensionType):
        return gf_type(t.storage_type)
    if pa.types.is_dictionary(t):
        return "dictionary<%s>" % gf_type(t.value_type)
    simple = {
        pa.bool_(): "bool", pa.int8(): "int8", pa.int16(): "int16",
        pa.int32(): "int32", pa.int64(): "int64", pa.uint8(): "uint8",
        pa.uint16(): "uint16", pa.uint32(): "uint32", pa.uint64(): "uint64",
        pa.float16(): "float32", pa.float32(): "float32",
        pa.float64(): "float64", pa.string(): "utf8",
        pa.large_string(): "large_utf8", pa.binary(): "binary",
        pa.large_binary(): "large_binary", pa.date32(): "date32",
        pa.date64(): "date64",
    }
    for k, v in simple.items():
        if t == k:
            return v
    if pa.types.is_fixed_size_binary(t):
        return "fixed_size_binary[%d]" % t.byte_width
    if pa.types.is_time32(t):
        return "time32[%s]" % t.unit
    if pa.types.is_time64(t):
        return "time64[%s]" % t.unit
    if pa.types.is_duration(t):
        return "duration[%s]" % t.unit
    if pa.types.is_timestamp(t):
        if t.tz is None:
            return "timestamp[%s]" % t.unit
        tz = "UTC" if t.tz in ("UTC", "+00:00", "Etc/UTC") else t.tz
        return "timestamp[%s, %s]" % (t.unit, tz)
    if pa.types.is_decimal128(t):
        return "decimal128(%d, %d)" % (t.precision, t.scale)
    if pa.types.is_decimal256(t):
        return "decimal256(%d, %d)" % (t.precision, t.scale)
    return None


def tokens(col):
    """Value tokens of a chunked array."""
    t = col.type
    if isinstance(t, pa.ExtensionType):
        col = pa.chunked_array([c.storage for c in col.chunks], t.storage_type)
        t = t.storage_type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = t.value_type
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    valid = [v.is_valid for v in arr] if arr.null_count else None
    n = len(arr)
    out = []
    if pa.types.is_floating(t):
        raw = arr.buffers()[1].to_pybytes()
        if t == pa.float16():
            hs = struct.unpack_from("<%de" % n, raw, arr.offset * 2)
            vals = ["%08x" % struct.unpack("<I", struct.pack("<f", h))[0] for h in hs]
            # NaN payloads: widen the bits the way IEEE conversion does.
            bits16 = struct.unpack_from("<%dH" % n, raw, arr.offset * 2)
            for i, b in enumerate(bits16):
                if (b & 0x7C00) == 0x7C00 and (b & 0x3FF):
                    vals[i] = "%08x" % (((b >> 15) << 31) | 0x7F800000 | ((b & 0x3FF) << 13))
        elif t == pa.float32():
            vals = ["%08x" % b for b in struct.unpack_from("<%dI" % n, raw, arr.offset * 4)]
        else:
            vals = ["%016x" % b for b in struct.unpack_from("<%dQ" % n, raw, arr.offset * 8)]
    elif pa.types.is_boolean(t):
        vals = ["1" if v.as_py() else "0" if v.is_valid else "N" for v in arr]
    elif pa.types.is_integer(t):
        vals = [str(v.as_py()) if v.is_valid else "N" for v in arr]
    elif pa.types.is_temporal(t):
        w = pa.int32() if (pa.types.is_date32(t) or pa.types.is_time32(t)) else pa.int64()
        iv = arr.view(w)
        vals = [str(v.as_py()) if v.is_valid else "N" for v in iv]
    elif pa.types.is_decimal(t):
        width = 16 if pa.types.is_decimal128(t) else 32
        raw = arr.buffers()[1].to_pybytes()
        vals = [raw[(arr.offset + i) * width:(arr.offset + i + 1) * width].hex() for i in range(n)]
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
            or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        vals = []
        for v in arr:
            if not v.is_valid:
                vals.append("N")
            else:
                b = v.as_py()
                vals.append("x" + (b.encode() if isinstance(b, str) else b).hex())
    else:
        raise TypeError(str(t))
    if valid is not None:
        vals = [v if ok else "N" for v, ok in zip(vals, valid)]
    out.extend(vals)
    return out


def is_nested(t):
    return pa.types.is_nested(t)


def describe(path, rel):
    lines = ["file " + rel]
    if ".encrypted" in rel:
        return lines + ["refused encrypt", "end"]
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow cannot read it either
        lines.append("error")
        lines.append("# pyarrow: " + str(e).replace("\n", " ")[:200])
        return lines + ["end"]
    for f in table.schema:
        if is_nested(f.type):
            return lines + ["refused nested", "end"]
        if f.type == pa.null():
            return lines + ["refused UNKNOWN", "end"]
    lines.append("ok %d %d" % (table.num_rows, table.num_columns))
    small = table.num_rows * max(table.num_columns, 1) <= SMALL
    for name, col in zip(table.column_names, table.columns):
        toks = tokens(col)
        lines.append("col %s %s %d %s" % (name.encode().hex(), gf_type(col.type).replace(" ", "_"),
                                          col.null_count, fnv(toks)))
        if small:
            lines.append("vals " + " ".join(toks))
    return lines + ["end"]


def gen_files():
    os.makedirs(GEN, exist_ok=True)
    rng = random.Random(21)
    n = 2000

    def nulls(vals, typ=None, p=0.1):
        return pa.array([None if rng.random() < p else v for v in vals], typ)

    def ints(lo, hi, k):
        return [rng.randrange(lo, hi) for _ in range(k)]

    def normal(k):
        return [rng.gauss(0.0, 1.0) for _ in range(k)]

    base = pa.table({
        "i32": nulls(ints(-1000, 1000, n), pa.int32()),
        "i64": nulls(ints(-2**62, 2**62, n), pa.int64()),
        "f64": nulls(normal(n), pa.float64()),
        "f32": nulls(normal(n), pa.float32()),
        "b": nulls([rng.random() < 0.5 for _ in range(n)], pa.bool_()),
        "s": nulls(["k%03d" % v for v in ints(0, 50, n)], pa.string()),
        "u": nulls(["%x" % v for v in ints(0, 2**40, n)], pa.string()),
    })
    for codec in ["none", "snappy", "gzip", "brotli", "zstd", "lz4"]:
        for v in ["1.0", "2.0"]:
            pq.write_table(base, os.path.join(GEN, "codec_%s_v%s.parquet" % (codec, v[0])),
                           compression=codec, row_group_size=1000, data_page_version=v,
                           data_page_size=4096)
    pq.write_table(base, os.path.join(GEN, "plain_nodict.parquet"), use_dictionary=False,
                   row_group_size=700, compression="none")
    enc = base.select(["i32", "i64", "f64", "f32", "s", "u"])
    pq.write_table(enc, os.path.join(GEN, "encodings_delta.parquet"), use_dictionary=False,
                   compression="none", row_group_size=1500,
                   column_encoding={"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
                                    "f64": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT",
                                    "s": "DELTA_BYTE_ARRAY", "u": "DELTA_LENGTH_BYTE_ARRAY"})
    pq.write_table(enc, os.path.join(GEN, "encodings_delta_v2.parquet"), use_dictionary=False,
                   compression="zstd", data_page_version="2.0",
                   column_encoding={"i32": "BYTE_STREAM_SPLIT", "i64": "BYTE_STREAM_SPLIT",
                                    "f64": "BYTE_STREAM_SPLIT", "f32": "BYTE_STREAM_SPLIT",
                                    "s": "DELTA_LENGTH_BYTE_ARRAY", "u": "DELTA_BYTE_ARRAY"})
    m = 500
    ts = ints(0, 2**60, m)
    f16 = [struct.unpack("<e", struct.pack("<e", x))[0] for x in normal(m)]
    types = pa.table({
        "i8": pa.array(ints(-128, 128, m), pa.int8()),
        "i16": pa.array(ints(-2**15, 2**15, m), pa.int16()),
        "u8": pa.array(ints(0, 256, m), pa.uint8()),
        "u16": pa.array(ints(0, 2**16, m), pa.uint16()),
        "u32": nulls(ints(0, 2**32, m), pa.uint32()),
        "u64": nulls(ints(2**63, 2**64, m), pa.uint64()),
        "d32": pa.array(ints(-50000, 50000, m), pa.date32()),
        "d64": pa.array([d * 86400000 for d in ints(-50000, 50000, m)], pa.date64()),
        "t32": pa.array(ints(0, 86400000, m), pa.time32("ms")),
        "t64us": pa.array(ints(0, 86400000000, m), pa.time64("us")),
        "t64ns": pa.array(ints(0, 86400000000000, m), pa.time64("ns")),
        "ts_ms": pa.array([t // 10**6 for t in ts], pa.timestamp("ms")),
        "ts_us_utc": pa.array([t // 1000 for t in ts], pa.timestamp("us", tz="UTC")),
        "ts_ns_ny": nulls(ts, pa.timestamp("ns", tz="America/New_York"), 0.2),
        "dur": pa.array(ints(-10**12, 10**12, m), pa.duration("us")),
        "dec9": pa.array([None if i % 7 == 0 else Dec(i * 12345 - 3000000).scaleb(-2)
                          for i in range(m)], pa.decimal128(9, 2)),
        "dec18": pa.array([Dec(i * 98765432109 - 10**15) for i in range(m)], pa.decimal128(18, 0)),
        "dec38": pa.array([Dec(i * 10**30 - 7 * 10**35) for i in range(m)], pa.decimal128(38, 0)),
        "dec60": pa.array([Dec(i * 10**50 - 7 * 10**55) for i in range(m)], pa.decimal256(60, 0)),
        "dict_s": nulls(["v%d" % (v % 17) for v in range(m)], pa.string()).dictionary_encode(),
        "ls": pa.array(["x" * (i % 11) for i in range(m)], pa.large_string()),
        "bin": pa.array([bytes([i % 256, (i * 7) % 256]) * (i % 3) for i in range(m)], pa.binary()),
        "fsb": pa.array([struct.pack("<I", i) for i in range(m)], pa.binary(4)),
        "f16": pa.array(f16, pa.float32()).cast(pa.float16()),
    })
    pq.write_table(types, os.path.join(GEN, "types.parquet"), row_group_size=200,
                   compression="snappy")
    pq.write_table(types, os.path.join(GEN, "types_int96.parquet"),
                   use_deprecated_int96_timestamps=True, row_group_size=250,
                   compression="none")
    # Many row groups, a sorted key for pruning, nulls, NaNs, +-0.0.
    k = 10000
    fl = [float(i) - 5000.0 for i in range(k)]
    for i in range(2500, 2550):
        fl[i] = float("nan")
    fl[5000] = -0.0
    many = pa.table({
        "key": pa.array([i * 3 for i in range(k)], pa.int64()),
        "grp": pa.array([i // 1000 for i in range(k)], pa.int32()),
        "x": nulls(normal(k), pa.float64(), 0.3),
        "fl": pa.array(fl, pa.float64()),
        "name": pa.array(["n%06d" % (i // 10) for i in range(k)]),
        "allnull": pa.array([None] * k, pa.int32()),
    })
    pq.write_table(many, os.path.join(GEN, "many_row_groups.parquet"), row_group_size=500,
                   compression="snappy")
    pq.write_table(many.slice(0, 0), os.path.join(GEN, "empty.parquet"))
    # Small enough for allocation-failure sweeps: two row groups, a
    # dictionary string column (ARROW:schema), nulls, one codec.
    tiny = pa.table({
        "id": pa.array([1, None, 3, 4, None, 6, 7], pa.int32()),
        "s": pa.array(["a", "b", None, "a", "c", "b", "a"]).dictionary_encode(),
        "x": pa.array([0.5, -1.0, None, 2.5, 3.0, None, 1e300], pa.float64()),
        "t": pa.array(["x", "yy", "", None, "zzz", "x", "w"], pa.string()),
    })
    pq.write_table(tiny, os.path.join(GEN, "tiny.parquet"), row_group_size=4, compression="snappy")
    # A dictionary column whose dictionary outgrows its page limit: later
    # pages fall back to PLAIN (read back as one dictionary array).
    fb = pa.table({"d": pa.array(["w%05d" % (i if i > 1500 else i % 7) for i in range(4000)]).dictionary_encode(),
                   "n": pa.array(list(range(4000)), pa.int64())})
    pq.write_table(fb, os.path.join(GEN, "dict_fallback.parquet"), dictionary_pagesize_limit=2048,
                   data_page_size=1024, row_group_size=2500, compression="none")


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared", "parquet-testing")
    gen_files()
    out = ["# Generated by tests/data/parquet/make_expected.py with pyarrow %s; do not edit." % pa.__version__]
    for sub in ["data", "bad_data"]:
        d = os.path.join(src, sub)
        for name in sorted(os.listdir(d)):
            if not (name.endswith(".parquet") or name.endswith(".parquet.encrypted")):
                continue
            out += describe(os.path.join(d, name), "testing/%s/%s" % (sub, name))
    for name in sorted(os.listdir(GEN)):
        out += describe(os.path.join(GEN, name), "gen/" + name)
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
