"""q1..q10 (db-benchmark group-by) through the Python package, the same
cases as the C driver bench/bench_groupby.c, with the same command line
(CASE[,CASE...] FILE THREADS RUNS) and the same JSON line per case
(system "gopherframe-python"; secs/cpu per run; cpu is this process's CPU
time, all threads). The data is loaded once and not timed, as in
db-benchmark. Also `arrow_export FILE THREADS RUNS`: pyarrow.table() of the
loaded frame (zero-copy), timed per run, with the number of buffers shared."""
import json
import os
import statistics
import sys
import time

import gopherframe as gf

CASES = {
    "q1": (["id1"], "sum(v1) as v1", ["v1"]),
    "q2": (["id1", "id2"], "sum(v1) as v1", ["v1"]),
    "q3": (["id3"], "sum(v1) as v1, mean(v3) as v3", ["v1", "v3"]),
    "q4": (["id4"], "mean(v1) as v1, mean(v2) as v2, mean(v3) as v3", ["v1", "v2", "v3"]),
    "q5": (["id6"], "sum(v1) as v1, sum(v2) as v2, sum(v3) as v3", ["v1", "v2", "v3"]),
    "q6": (["id4", "id5"], "median(v3) as median_v3, std(v3) as sd_v3", ["median_v3", "sd_v3"]),
    "q7": (["id3"], "max(v1) - min(v2) as range_v1_v2", ["range_v1_v2"]),
    "q8": (["id6"], "top_k(v3, 2) as largest2_v3", ["largest2_v3"]),
    "q9": (["id2", "id4"], "pow(corr(v1, v2), 2) as r2", ["r2"]),
    "q10": (["id1", "id2", "id3", "id4", "id5", "id6"], "sum(v3) as v3, count() as count", ["v3", "count"]),
}


def checksum(df, name):
    import pyarrow as pa
    import pyarrow.compute as pc
    col = pa.table(df).column(name)
    if pa.types.is_dictionary(col.type) or pa.types.is_string(col.type):
        return float(pc.sum(pc.utf8_length(col.cast(pa.string()))).as_py() or 0)
    return float(pc.sum(col).as_py() or 0)


def line(case, data, rows_in, threads, secs, cpu, rows, sums, extra=None):
    out = {"system": "gopherframe-python", "version": gf.__version__, "case": case, "data": data,
           "rows_in": rows_in, "threads": threads, "runs": len(secs), "median_s": statistics.median(secs),
           "min_s": min(secs), "rows": rows, "checksum": sums, "cpu_s": statistics.median(cpu),
           "secs": secs, "cpu": cpu}
    out.update(extra or {})
    print(json.dumps(out), flush=True)


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit("usage: bench_groupby.py CASE[,CASE...]|arrow_export FILE THREADS RUNS")
    if argv[0] == "arrow_export":
        argv = ["arrow_export"] + argv[1:]
    cases, path, threads, runs = argv[0].split(","), argv[1], int(argv[2]), int(argv[3])
    label = os.path.basename(path)[:-4] if path.endswith(".csv") else os.path.basename(path)
    x = gf.read_csv(path, threads=threads)
    for c in cases:
        if c == "arrow_export":
            import pyarrow as pa
            secs, cpu = [], []
            for _ in range(runs):
                c0, t0 = time.process_time(), time.perf_counter()
                t = pa.table(x)
                secs.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            shared = sum(1 for b in range(x.num_batches) for ci in range(x.width)
                         if t.column(ci).chunk(b).buffers()[1].address == x._buffer_address(b, ci, 1)[0])
            line(c, label, len(x), threads, secs, cpu, t.num_rows, [],
                 {"batches": x.num_batches, "columns": x.width, "data_buffers_shared": shared,
                  "data_buffers": x.num_batches * x.width})
            continue
        keys, aggs, chk = CASES[c]
        secs, cpu, ans = [], [], None
        for _ in range(runs):
            ans = None  # the previous result is freed untimed, as the C driver does
            c0, t0 = time.process_time(), time.perf_counter()
            ans = x.group_by(keys).agg(aggs, threads=threads)
            secs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        line(c, label, len(x), threads, secs, cpu, len(ans), [checksum(ans, k) for k in chk])


if __name__ == "__main__":
    main(sys.argv[1:])
