#!/usr/bin/env python3
"""Expected frames for the JSON reader's test inputs (tests/data/json).

An independent reference: Python's json module parses every input (raw
number text kept through parse_int/parse_float), and the column typing
rules of docs/JSON.md are applied here, written from the documentation,
not from the C code. For each INPUT it writes INPUT.expected:

  columns N
  col NAME_HEX TYPE            (N lines, first-appearance order)
  rows R
  cell ROW COL VALUE           (every cell; VALUE is "null" or encoded:
                                int64/date32/timestamp as integers (days,
                                microseconds), float64 as float.hex(),
                                bool as 1/0, utf8 as hex of its UTF-8)

Run from anywhere: python3 tests/data/json/make_expected.py
"""
import datetime
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
EXACT = 1 << 53
NULL, BOOL, I64, F64, DATE, TS, TSTZ, STR = "null", "bool", "int64", "float64", "date32", \
    "timestamp[us]", "timestamp[us, UTC]", "utf8"
EPOCH = datetime.date(1970, 1, 1)
TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
                   r"(Z|[+-]\d{2}(?::\d{2})?)?$")


class Num:
    """A JSON number with its text."""
    def __init__(self, text, is_int):
        self.text, self.is_int = text, is_int


def parse_date(s):
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return None
    try:
        return (datetime.date.fromisoformat(s) - EPOCH).days
    except ValueError:
        return None


def parse_ts(s):
    """(microseconds since the epoch in UTC, has_zone) or None."""
    m = TS_RE.match(s)
    if not m:
        return None
    y, mo, d, h, mi, sec, frac, zone = m.groups()
    try:
        day = (datetime.date(int(y), int(mo), int(d)) - EPOCH).days
    except ValueError:
        return None
    h, mi, sec = int(h), int(mi), int(sec or 0)
    if h > 23 or mi > 59 or sec > 59:
        return None
    frac = (frac or "").ljust(9, "0")
    if int(frac) % 1000:
        return None  # finer than a microsecond
    us = ((day * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + int(frac) // 1000
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        zh, zm = int(zone[1:3]), int(zone[4:6] or 0) if len(zone) > 3 else 0
        us -= sign * (zh * 3600 + zm * 60) * 1000000
    return us, zone is not None


def kind_of(v):
    """(kind, bigint) of one value."""
    if v is None:
        return NULL, False
    if v is True or v is False:
        return BOOL, False
    if isinstance(v, Num):
        if v.is_int:
            x = int(v.text)
            if -(1 << 63) <= x < (1 << 63):
                return I64, abs(x) > EXACT
            return F64, True
        return F64, False
    if len(v) == 10 and parse_date(v) is not None:
        return DATE, False
    if len(v) >= 10 and v[0].isdigit():
        t = parse_ts(v)
        if t is not None:
            return (TSTZ if t[1] else TS), False
    return STR, False


def join(a, b):
    if a == b:
        return a
    if a == NULL:
        return b
    if b == NULL:
        return a
    if {a, b} == {I64, F64}:
        return F64
    if {a, b} == {DATE, TS}:
        return TS
    return STR


def encode(v, kind):
    if v is None:
        return "null"
    if kind == STR:
        if isinstance(v, Num):
            text = v.text
        elif v is True or v is False:
            text = "true" if v else "false"
        else:
            text = v
        return text.encode("utf-8").hex()
    if kind == BOOL:
        return "1" if v else "0"
    if kind == I64:
        return str(int(v.text))
    if kind == F64:
        # An integer in a float64 column is its int64 value converted
        # (so -0 reads as 0.0, as docs/JSON.md says).
        return (float(int(v.text)) if v.is_int else float(v.text)).hex()
    if kind == DATE:
        return str(parse_date(v))
    if kind in (TS, TSTZ):
        d = parse_date(v)
        return str(d * 86400000000 if d is not None else parse_ts(v)[0])
    raise ValueError(kind)


def records(text, name):
    hooks = dict(parse_int=lambda s: Num(s, True), parse_float=lambda s: Num(s, False),
                 parse_constant=lambda s: (_ for _ in ()).throw(ValueError(s)))
    if text.startswith("\ufeff"):
        text = text[1:]
    if name.endswith(".json") and text.strip().startswith("["):
        return json.loads(text, **hooks)
    return [json.loads(line, **hooks) for line in text.split("\n") if line.strip()]


def expected(path):
    with open(path, encoding="utf-8") as fh:
        recs = records(fh.read(), os.path.basename(path))
    names, kinds, big = [], {}, {}
    for r in recs:
        for k, v in r.items():
            if k not in kinds:
                names.append(k)
                kinds[k], big[k] = NULL, False
            kk, b = kind_of(v)
            kinds[k] = join(kinds[k], kk)
            big[k] |= b
    for k in names:
        if kinds[k] == F64 and big[k]:
            kinds[k] = STR
        if kinds[k] == NULL:
            kinds[k] = STR  # an all-null column reads as utf8
    out = [f"columns {len(names)}"]
    out += [f"col {k.encode('utf-8').hex()} {kinds[k]}" for k in names]
    out.append(f"rows {len(recs) if names else 0}")
    if names:
        for i, r in enumerate(recs):
            for c, k in enumerate(names):
                out.append(f"cell {i} {c} {encode(r.get(k), kinds[k])}")
    return "\n".join(out) + "\n"


def main():
    for name in sorted(os.listdir(HERE)):
        if name.endswith((".ndjson", ".json")):
            path = os.path.join(HERE, name)
            with open(path + ".expected", "w", encoding="ascii") as fh:
                fh.write(expected(path))


if __name__ == "__main__":
    main()
