#!/usr/bin/env python3
"""Writes the Utf8View/BinaryView seeds of tests/fuzz/corpus/cdata/ (run from
the repository root). Each seed is laid out as fuzz_cdata_import.c consumes
its input: selector, dictionary selector (160..191 picks VIEW_KINDS), schema
flags, then build(): length, offset, null-count byte, buffer-count byte,
and for a view array build_views(): per data buffer its size, bytes and a
non-NULL flag; the sizes-buffer flag; the validity flag and bytes; the
views flag and one entry per row (m < 128: inline, length m % 14, then its
bytes; else out of line: buffer index, offset and length - 13 bytes, the
prefix copied from the data unless m == 253)."""
import struct

D = "tests/fuzz/corpus/cdata/"


def seed(sel, dsel, flags, length, offset, nc, nb, datas, validity, views):
    b = bytes([sel, dsel, flags, length, offset, nc, nb])
    for d in datas:
        b += bytes([len(d)]) + d + bytes([1])
    b += bytes([1])  # sizes buffer present
    b += bytes([0]) if validity is None else bytes([1]) + validity
    b += bytes([1])  # views present
    for v in views:
        b += v
    return b


def inline(s):
    return bytes([len(s)]) + s


def out_of_line(idx, off, ln, m=0x80):
    return bytes([m, idx, off, ln - 13])


d0 = b"hello-out-of-line-01"
d1 = b"second buffer string of thirty"
d2 = bytes(range(40))
# sel 0x11: VIEW_KINDS[1] (vu, 2 data buffers), odd: full check.
open(D + "utf8view_two_buffers", "wb").write(seed(
    0x11, 0xA0, 2, 6, 1, 0, 0, [d0, d1], bytes([0b11110111]),
    [inline(b"lead!"), out_of_line(0, 2, 16), inline(b"twelve bytes"),
     out_of_line(1, 0, 23, 0x81), out_of_line(1, 5, 18, 0x90), inline(b""),
     inline("\u00e9!".encode())]))
# sel 0x0B: VIEW_KINDS[3] (vz, 3 data buffers).
open(D + "binaryview_three_buffers", "wb").write(seed(
    0x0B, 0xA0, 2, 4, 0, 0x80, 0, [d0, d1, d2], None,
    [inline(bytes([0, 1, 2, 255])), out_of_line(2, 3, 30), out_of_line(0, 0, 15),
     inline(b"x" * 12)]))
# m == 253: the prefix comes from the input ("nope"), not the data.
open(D + "utf8view_bad_prefix", "wb").write(seed(
    0x11, 0xA0, 2, 3, 0, 0, 0, [d0, d1], None,
    [inline(b"ok"), out_of_line(1, 0, 20, 253) + b"nope", out_of_line(0, 2, 16)]))
# Buffer index 2 of 2 data buffers.
open(D + "utf8view_index_past_buffers", "wb").write(seed(
    0x11, 0xA0, 2, 2, 0, 0, 0, [d0, d1], None,
    [inline(b"ok"), bytes([0x80, 2, 0, 7])]))
# sel 33: KINDS[33] ("vu" with 3 buffers: no data buffer), inline only.
open(D + "utf8view_inline_only", "wb").write(seed(
    33, 0, 2, 3, 0, 0, 0, [], None,
    [inline(b"abc"), inline("\u65e5\u672c".encode()), inline(b"")]))
