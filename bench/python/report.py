"""Markdown table of a run_vs_c.sh raw file: per case the median wall time
over every run of every round (C driver, Python), their ratio, the median
CPU seconds per run, and the sums over q1..q10; then the arrow export line.

    python3 bench/python/report.py bench/results/python-groupby-<time>.jsonl
"""
import json
import statistics
import sys


def main(path):
    runs = {}
    export = None
    for raw in open(path):
        if raw.startswith("#") or not raw.strip():
            continue
        r = json.loads(raw)
        if r["case"] == "arrow_export":
            export = r
            continue
        side = "py" if r["system"] == "gopherframe-python" else "c"
        d = runs.setdefault(r["case"], {"c": [], "py": [], "c_cpu": [], "py_cpu": [], "rows": set(), "chk": {}})
        d[side] += r["secs"]
        d[side + "_cpu"] += r["cpu"]
        d["rows"].add(r["rows"])
        d["chk"].setdefault(side, []).append(r["checksum"])
    print("| case | C driver s | Python s | Python / C | CPU s per run (C / Python) | rows agree | checksums agree (rel 1e-9) |")
    print("|---|---|---|---|---|---|---|")
    tc = tp = cc = cp = 0.0
    order = sorted(runs, key=lambda c: int(c[1:]))
    for case in order:
        d = runs[case]
        mc, mp = statistics.median(d["c"]), statistics.median(d["py"])
        uc, up = statistics.median(d["c_cpu"]), statistics.median(d["py_cpu"])
        tc, tp, cc, cp = tc + mc, tp + mp, cc + uc, cp + up
        sums = d["chk"]["c"] + d["chk"]["py"]
        agree = all(len(s) == len(sums[0]) and all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for a, b in zip(s, sums[0]))
                    for s in sums)
        print(f"| {case} | {mc:.3f} | {mp:.3f} | {mp / mc:.2f} | {uc:.3f} / {up:.3f} | "
              f"{'yes' if len(d['rows']) == 1 else 'NO'} | {'yes' if agree else 'NO'} |")
    print(f"| **sum q1..q10** | **{tc:.3f}** | **{tp:.3f}** | **{tp / tc:.3f}** | {cc:.3f} / {cp:.3f} | | |")
    if export:
        print()
        print(f"pyarrow.table() of the loaded frame ({export['rows']:,} rows, {export['batches']} batches x "
              f"{export['columns']} columns): median {export['median_s'] * 1e3:.3f} ms, min "
              f"{export['min_s'] * 1e3:.3f} ms, CPU {export['cpu_s'] * 1e3:.3f} ms per call over "
              f"{export['runs']} calls; data buffers shared (same address): "
              f"{export['data_buffers_shared']} of {export['data_buffers']}.")


if __name__ == "__main__":
    main(sys.argv[1])
