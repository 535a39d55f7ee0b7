#!/usr/bin/env python3
"""Table of a bench/csv_lead.sh run:
    python3 bench/csv_lead_report.py RESULTS.jsonl COPY.txt
Per file: wall (median) and CPU seconds and peak RSS per system and thread
count, our wall over the fastest peer's, our 1 -> 2 worker scaling (wall
at 1 / wall at 2), and the copy-bandwidth scaling 1 -> 2 workers (median)
that bench_runtime --quick measured before and after the run."""
import json
import re
import sys

OURS = ("ours", "gopherframe")
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
data = [r for r in rows if not r.get("meta") and not r.get("error")]
print(f"{'file':<22} {'system':<12} {'thr':>3} {'wall s':>8} {'CPU s':>7} {'RSS MB':>7} {'wall/fastest peer':>18}")
for f in dict.fromkeys(r["file"] for r in data):
    rs = [r for r in data if r["file"] == f]
    peers = [r["median_s"] for r in rs if r["system"] not in OURS]
    best = min(peers) if peers else None
    for r in rs:
        ratio = f"{r['median_s'] / best:.2f}x" if best else "-"
        print(f"{f:<22} {r['system']:<12} {r['threads']:>3} {r['median_s']:>8.2f} "
              f"{r.get('cpu_s', 0):>7.2f} {r.get('peak_rss_mb', 0):>7.0f} {ratio:>18}")
    o = {r["threads"]: r["median_s"] for r in rs if r["system"] in OURS}
    if 1 in o and 2 in o:
        print(f"{f:<22} ours scaling 1 -> 2 workers: {o[1] / o[2]:.2f}x")
if len(sys.argv) > 2:
    txt = open(sys.argv[2]).read()
    found = re.findall(r"\| 2 \|[^\n]*?\| ([0-9.]+)x \| [0-9.]+x \|\n", txt)
    for tag, m in zip(("before", "after"), found):
        print(f"copy scaling 1 -> 2 workers ({tag} the run, median): {m}x")
