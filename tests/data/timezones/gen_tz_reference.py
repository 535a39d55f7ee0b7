#!/usr/bin/env python3
"""Writes tz_reference.tsv: expected local times of timestamps in named
zones, computed with Python's zoneinfo (standard library, independent of
GopherFrame's own TZif reader), for tests/unit/test_timezone.c.

Rows cover, per zone: the instants around every transition in a set of
years (one second and 30 minutes either side, so spring-forward and
fall-back hours are both seen), pre-1970 instants (LMT, wartime rules),
far-future instants that only the TZif footer rule describes, and random
instants, each in the units s/ms/us/ns where the value fits in int64.

Columns: zone, unit (s|ms|us|ns), value (int64 in that unit), iso (local
time with the unit's fraction digits and the offset, as GopherFrame prints
it: 2021-03-14T03:30:00-04:00; +HH:MM:SS when the offset has seconds),
year, month, day, hour, minute, second, weekday (ISO, Monday = 1),
date32 (local date, days since 1970-01-01), trunc_year, trunc_month,
trunc_day, trunc_hour (date_trunc results in the same unit: the local
start of the period mapped back to an instant with fold=0: ambiguous
times take the earlier instant, times in a gap the offset before it).

Run: python3 gen_tz_reference.py > tz_reference.tsv   (deterministic)
"""
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

ZONES = [
    "US/Eastern", "America/New_York", "Europe/Paris", "US/Pacific",
    "Australia/Sydney", "Asia/Kolkata", "Europe/London", "America/Sao_Paulo",
    "Pacific/Apia", "Asia/Kathmandu", "America/St_Johns", "Europe/Dublin",
    "Pacific/Chatham", "Antarctica/Troll", "Africa/Casablanca", "Asia/Tokyo",
    "America/Santiago", "Europe/Moscow",
]
YEARS = [1883, 1918, 1945, 1969, 1970, 1996, 2011, 2021, 2037, 2038, 2050, 2100, 2400]
UNITS = [("s", 1), ("ms", 1000), ("us", 1000000), ("ns", 1000000000)]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


def utc_seconds(dt):
    d = dt - EPOCH
    return d.days * 86400 + d.seconds


def offset_at(z, s):
    return (EPOCH + timedelta(seconds=s)).astimezone(z).utcoffset()


def transitions(z, year):
    """UTC seconds of the offset changes within `year` (hourly scan, then
    bisection to the second)."""
    start = utc_seconds(datetime(year, 1, 1, tzinfo=timezone.utc)) - 86400
    end = utc_seconds(datetime(year + 1, 1, 1, tzinfo=timezone.utc)) + 86400
    out = []
    prev = offset_at(z, start)
    s = start
    while s < end:
        nxt = s + 3600
        o = offset_at(z, nxt)
        if o != prev:
            lo, hi = s, nxt  # offset(lo) == prev, offset(hi) != prev
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset_at(z, mid) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append(hi)
            prev = o
        s = nxt
    return out


def fmt_offset(td):
    secs = td.days * 86400 + td.seconds
    sign = "-" if secs < 0 else "+"
    secs = abs(secs)
    text = "%s%02d:%02d" % (sign, secs // 3600, secs // 60 % 60)
    if secs % 60:
        text += ":%02d" % (secs % 60)
    return text


def trunc(local, what):
    if what == "year":
        t = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0, fold=0)
    elif what == "month":
        t = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0, fold=0)
    elif what == "day":
        t = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    else:
        t = local.replace(minute=0, second=0, microsecond=0, fold=0)
    return utc_seconds(t.astimezone(timezone.utc))


def rows_for(zone, seconds, rng):
    z = ZoneInfo(zone)
    for s in seconds:
        local = (EPOCH + timedelta(seconds=s)).astimezone(z)
        if not (1 < local.year < 9999):
            continue
        tr = [trunc(local, w) for w in ("year", "month", "day", "hour")]
        date32 = (local.date() - EPOCH.date()).days
        for unit, per in UNITS:
            frac = rng.randrange(per)
            v = s * per + frac
            if not (INT64_MIN <= v <= INT64_MAX):
                continue
            if any(not (INT64_MIN <= t * per <= INT64_MAX) for t in tr):
                continue
            digits = {1: 0, 1000: 3, 1000000: 6, 1000000000: 9}[per]
            iso = local.strftime("%Y-%m-%dT%H:%M:%S")
            if digits:
                iso += "." + str(frac).rjust(digits, "0")
            iso += fmt_offset(local.utcoffset())
            yield [zone, unit, v, iso, local.year, local.month, local.day,
                   local.hour, local.minute, local.second, local.isoweekday(),
                   date32] + [t * per for t in tr]


def main():
    rng = random.Random(20261207)
    print("\t".join(["zone", "unit", "value", "iso", "year", "month", "day", "hour",
                     "minute", "second", "weekday", "date32", "trunc_year",
                     "trunc_month", "trunc_day", "trunc_hour"]))
    for zone in ZONES:
        z = ZoneInfo(zone)
        secs = set()
        for y in YEARS:
            for t in transitions(z, y):
                for d in (-3600, -1, 0, 1800):
                    secs.add(t + d)
        for y, m, d in [(1800, 6, 1), (1900, 1, 1), (1969, 12, 31), (1970, 1, 1),
                        (2262, 4, 1), (3000, 7, 4), (9000, 3, 15)]:
            secs.add(utc_seconds(datetime(y, m, d, 12, tzinfo=timezone.utc)))
        lo = utc_seconds(datetime(1800, 1, 1, tzinfo=timezone.utc))
        hi = utc_seconds(datetime(9990, 1, 1, tzinfo=timezone.utc))
        for _ in range(40):
            secs.add(rng.randrange(lo, hi))
        for row in rows_for(zone, sorted(secs), rng):
            print("\t".join(str(x) for x in row))


if __name__ == "__main__":
    main()
