#!/usr/bin/env python3
"""Turns the JSON lines of bench/run.sh into a markdown table.

Usage: report.py RESULTS.jsonl [...]

For every (case, input rows, threads): the median seconds of each system,
ours divided by the best peer's (< 1 means we are faster), each system's
peak RSS, our extra figures (GB/s and share of copy bandwidth, or MB/s) and
whether every system returned the same row count and checksum (numbers equal
to 1e-9 relative). Exits 1 when a check fails, so scripts notice.
"""
import json
import math
import sys

PEERS = [("duckdb", "DuckDB"), ("polars", "Polars"), ("datafusion", "DataFusion"),
         ("pyarrow", "pyarrow"), ("data.table", "data.table")]
SYSTEM_ALIASES = {"gopherframe": "ours", "datatable": "data.table"}


def fmt_s(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 1:
        return f"{v:.2f}"
    if v >= 0.01:
        return f"{v:.3f}"
    return f"{v * 1000:.2f} ms"


def fmt_rows(n):
    if n and n >= 1000 and 10 ** round(math.log10(n)) == n:
        return f"1e{round(math.log10(n))}"
    return str(n)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def agree(lines):
    """None when all systems agree, else a short reason."""
    ok = [l for l in lines if not l.get("error")]
    if len(ok) < 2:
        return None
    ref = ok[0]
    for l in ok[1:]:
        if l["rows"] != ref["rows"]:
            return f"rows {SYSTEM_ALIASES.get(ref['system'], ref['system'])}={ref['rows']} vs " \
                   f"{SYSTEM_ALIASES.get(l['system'], l['system'])}={l['rows']}"
        a, b = ref["checksum"], l["checksum"]
        if len(a) != len(b) or not all(close(x, y) for x, y in zip(a, b)):
            return f"checksum {SYSTEM_ALIASES.get(ref['system'], ref['system'])}={a} vs " \
                   f"{SYSTEM_ALIASES.get(l['system'], l['system'])}={b}"
    return None


def main(paths):
    metas, groups, versions, order = [], {}, {}, []
    for p in paths:
        with open(p) as fh:
            for raw in fh:
                raw = raw.strip()
                if not raw:
                    continue
                d = json.loads(raw)
                if d.get("meta"):
                    metas.append(d)
                    continue
                sysname = SYSTEM_ALIASES.get(d["system"], d["system"])
                d["system"] = sysname
                if "version" in d:
                    versions[sysname] = d["version"]
                key = (d["case"], d.get("rows_in"), d.get("threads"))
                if key not in groups:
                    groups[key] = {}
                    order.append(key)
                groups[key][sysname] = d
    failures = []
    used_first = False
    for m in metas:
        if "command" in m:
            print(f"Command: `{m['command']}`  ")
            print(f"Started {m['start']}, {m['nproc']} CPUs, load average before: {m['load_before']}  ")
        if "load_after" in m:
            print(f"Load average after: {m['load_after']}  ")
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    print()
    names = ["ours"] + [label for _, label in PEERS]
    slash = " / ".join(names)
    print("| case | rows | threads | " + " | ".join(names) + " | ours / best peer "
          f"| CPU s per run ({slash}) | peak RSS MB ({slash}) | ours: throughput | results agree |")
    print("|" + "---|" * (len(names) + 8))
    for key in order:
        g = groups[key]
        case, rows_in, threads = key
        ours = g.get("ours")
        cells = []
        times = {}
        for sysname in ["ours"] + [p for p, _ in PEERS]:
            d = g.get(sysname)
            if d is None:
                cells.append("–")
            elif d.get("error"):
                cells.append("failed")
            else:
                times[sysname] = d["median_s"]
                cells.append(fmt_s(d["median_s"]))
        peer_times = [times[p] for p, _ in PEERS if p in times]
        ratio = "–"
        if "ours" in times and peer_times:
            ratio = f"{times['ours'] / min(peer_times):.2f}"
        present = [g[s] for s in ["ours"] + [p for p, _ in PEERS] if s in g and not g[s].get("error")]
        rkey = "rss_first_mb" if present and all("rss_first_mb" in d for d in present) else "peak_rss_mb"
        rss = " / ".join(
            (f"{g[s][rkey]:.0f}" if s in g and not g[s].get("error") else "–")
            for s in ["ours"] + [p for p, _ in PEERS])
        if rkey == "rss_first_mb":
            rss += " ¹"
            used_first = True
        cpu = " / ".join(
            (fmt_s(g[s]["cpu_s"]) if s in g and g[s].get("cpu_s") is not None else "–")
            for s in ["ours"] + [p for p, _ in PEERS])
        extra = ""
        if ours and not ours.get("error"):
            if "gbps" in ours:
                extra = f"{ours['gbps']:.2f} GB/s = {100 * ours['of_copy']:.0f}% of copy ({ours['copy_gbps']:.1f} GB/s)"
            elif "mb_s" in ours:
                extra = f"{ours['mb_s']:.0f} MB/s"
        why = agree([g[s] for s in ["ours"] + [p for p, _ in PEERS] if s in g])
        if why:
            failures.append(f"{case} rows={rows_in} threads={threads}: {why}")
        print(f"| {case} | {fmt_rows(rows_in)} | {threads} | " + " | ".join(cells) +
              f" | {ratio} | {cpu} | {rss} | {extra} | {'yes' if not why else 'NO'} |")
    if used_first:
        print()
        print("¹ peak RSS right after the first timed run (the others: after all runs).")
    if failures:
        print()
        print("Disagreements:")
        for f in failures:
            print(f"- {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write("usage: report.py RESULTS.jsonl [...]\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
