"""Shared by the Python peer runners (run_duckdb.py, run_polars.py,
run_datafusion.py, run_pyarrow.py): argument parsing, the case table,
timing, CPU time, peak RSS and the JSON result line (bench/bench_common.h
describes its keys; every system prints the same ones).

Peak RSS is charged to the engine, not to the interpreter: `peak_rss_mb` is
the process's VmHWM minus its VmHWM right after the imports (the baseline is
printed as `rss_base_mb`).
"""
import json
import os
import re
import sys
import time

# The columns csv_load sums (those the file has): db-benchmark G1's numbers.
CSV_SUM_COLS = ["id4", "id5", "id6", "v1", "v2", "v3"]

# Case name -> kind of data it reads. "g1": db-benchmark group-by data loaded
# once (not timed), "g1file": the same query timed from the CSV file (read +
# group-by), "csv": the read itself is timed, "filter": bench_filter's data,
# "join": db-benchmark join data.
GROUPBY_CASES = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "qf1", "qf2"]


def kind_of(case):
    if case == "csv_load":
        return "csv"
    if case.endswith("_file") and case[:-5] in GROUPBY_CASES:
        return "g1file"
    if case in GROUPBY_CASES:
        return "g1"
    if case.startswith(("filter_", "eval_", "sort_")):
        return "filter"
    if re.fullmatch(r"j[1-5]", case):
        return "join"
    return None


def vm_hwm_mb():
    """The process's high-water RSS (VmHWM) in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Args:
    pass


def parse_args(argv, name):
    """argv: CASE[,CASE...] FILE THREADS [RUNS]. Exits 2 on bad arguments."""
    a = argv[1:]
    if len(a) < 3:
        sys.stderr.write(f"usage: {name} CASE[,CASE...] FILE THREADS [RUNS]\n")
        sys.exit(2)
    r = Args()
    r.cases = a[0].split(",")
    r.file = a[1]
    r.threads = int(a[2])
    r.runs = int(a[3]) if len(a) > 3 else 5
    if r.threads < 1 or r.runs < 1:
        sys.stderr.write(f"{name}: THREADS and RUNS must be positive\n")
        sys.exit(2)
    r.data = re.sub(r"\.csv$", "", os.path.basename(r.file))
    for c in r.cases:
        if kind_of(c) is None:
            sys.stderr.write(f"{name}: unknown case '{c}'\n")
            sys.exit(2)
    return r


def join_files(left):
    """db-benchmark join data: J1_1eN_NA_P_S.csv and beside it the right
    tables small, medium and big with N/1e6, N/1e3 and N rows."""
    m = re.match(r"^(.*J1_)1e(\d+)_NA_(\d+)_(\d+)\.csv$", left)
    if not m:
        raise ValueError(f"join data must be named J1_1eN_NA_P_S.csv, got {left}")
    e = int(m.group(2))

    def name(k):
        return f"{m.group(1)}1e{e}_1e{k}_{m.group(3)}_{m.group(4)}.csv"

    return {"small": name(e - 6), "medium": name(e - 3), "big": name(e)}


def median(v):
    s = sorted(v)
    n = len(s)
    return s[(n - 1) // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def num(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) != float("inf") else None


def timed(fn, runs):
    """Runs fn() `runs` times; returns (last result, wall seconds, CPU
    seconds, VmHWM after the first run). The previous result is dropped
    before each run, as db-benchmark does."""
    secs, cpu, ans, first = [], [], None, None
    for r in range(runs):
        ans = None
        c0, t0 = time.process_time(), time.perf_counter()
        ans = fn()
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if r == 0:
            first = vm_hwm_mb()
    return ans, secs, cpu, first


def print_result(system, version, case, args, rows_in, secs, cpu, rss_first, rows, checksum,
                 base_mb, extra=None):
    line = {
        "system": system, "version": version, "case": case, "data": args.data,
        "rows_in": int(rows_in), "threads": args.threads, "runs": len(secs),
        "median_s": median(secs), "min_s": min(secs), "secs": secs, "rows": int(rows),
        "checksum": [num(x) for x in checksum],
        "peak_rss_mb": round(vm_hwm_mb() - base_mb, 1),
        "rss_first_mb": round(rss_first - base_mb, 1), "rss_base_mb": round(base_mb, 1),
        "cpu_s": median(cpu),
    }
    if extra:
        line.update(extra)
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def unsupported(name, case, why):
    """A case the peer cannot run as specified: a note, no result line."""
    sys.stderr.write(f"{name}: {case} skipped: {why}\n")


# What each case's checksum sums over its result, in the order our drivers
# print them: a column name (its sum), "len:C" (sum of the string lengths of
# C) or "true:C" (how many rows of boolean C are true). FIRST: the key
# columns of the first row, appended to the checksum (sort cases: proves the
# order, not just the sums).
CHK = {
    "q1": ["v1"], "q2": ["v1"], "q3": ["v1", "v3"], "q4": ["v1", "v2", "v3"],
    "q5": ["v1", "v2", "v3"], "q6": ["median_v3", "sd_v3"], "q7": ["range_v1_v2"],
    "q8": ["largest2_v3"], "q9": ["r2"], "q10": ["v3", "count"], "qf1": ["v3", "count"],
    "qf2": ["w", "v3"],
    "filter_i64_1pct": ["a"], "filter_i64_30pct": ["a"], "filter_i64_80pct": ["a"],
    "filter_f64_30pct": ["x"], "filter_str_eq": ["len:s"],
    "filter_mixed_30pct": ["a", "b", "c", "x", "len:s"], "filter_expr": ["a", "b", "c"],
    "eval_expr": ["true:r"],
    "j1": ["v1", "v2"], "j2": ["v1", "v2"], "j3": ["v1", "v2"], "j4": ["v1", "v2"],
    "j5": ["v1", "v2"],
    "sort_i64": ["a"], "sort_f64": ["x"], "sort_str": ["len:s"], "sort_two": ["a"],
}
FIRST = {"sort_i64": ["a"], "sort_f64": ["x"], "sort_two": ["a"]}


def chk_of(case):
    return CHK[case[:-5] if case.endswith("_file") else case]


# The SQL of every case (DuckDB and DataFusion): the query over table x
# (group-by and join data; right tables small, medium, big) or t (filter
# data). MEDIAN is the dialect's exact median of v3.
SQL = {
    "q1": "SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1",
    "q2": "SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2",
    "q3": "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3",
    "q4": "SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM x GROUP BY id4",
    "q5": "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM x GROUP BY id6",
    "q6": "SELECT id4, id5, {MEDIAN} AS median_v3, stddev(v3) AS sd_v3 FROM x GROUP BY id4, id5",
    "q7": "SELECT id3, max(v1) - min(v2) AS range_v1_v2 FROM x GROUP BY id3",
    "q8": "SELECT id6, v3 AS largest2_v3 FROM (SELECT id6, v3, row_number() OVER "
          "(PARTITION BY id6 ORDER BY v3 DESC) AS order_v3 FROM x WHERE v3 IS NOT NULL) "
          "sub_query WHERE order_v3 <= 2",
    "q9": "SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 FROM x GROUP BY id2, id4",
    "q10": "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM x "
           "GROUP BY id1, id2, id3, id4, id5, id6",
    "qf1": "SELECT id1, sum(v3) AS v3, count(*) AS count FROM x WHERE v1 > 2 GROUP BY id1",
    "qf2": "SELECT id2, id4, sum(v1 * v3) AS w, avg(v3) AS v3 FROM x "
           "WHERE v2 <= 5 AND v3 > 50 GROUP BY id2, id4",
    "filter_i64_1pct": "SELECT a FROM t WHERE a < 10000",
    "filter_i64_30pct": "SELECT a FROM t WHERE a < 300000",
    "filter_i64_80pct": "SELECT a FROM t WHERE a < 800000",
    "filter_f64_30pct": "SELECT x FROM t WHERE x < 0.3",
    "filter_str_eq": "SELECT s FROM t WHERE s = 's042'",
    "filter_mixed_30pct": "SELECT * FROM t WHERE a < 300000",
    "filter_expr": "SELECT a, b, c FROM t WHERE a * 2 + b > c",
    "eval_expr": "SELECT a * 2 + b > c AS r FROM t",
    "j1": "SELECT x.*, small.id4 AS small_id4, small.v2 FROM x JOIN small USING (id1)",
    "j2": "SELECT x.*, medium.id1 AS medium_id1, medium.id4 AS medium_id4, "
          "medium.id5 AS medium_id5, medium.v2 FROM x JOIN medium USING (id2)",
    "j3": "SELECT x.*, medium.id1 AS medium_id1, medium.id4 AS medium_id4, "
          "medium.id5 AS medium_id5, medium.v2 FROM x LEFT JOIN medium USING (id2)",
    "j4": "SELECT x.*, medium.id1 AS medium_id1, medium.id2 AS medium_id2, "
          "medium.id4 AS medium_id4, medium.v2 FROM x JOIN medium USING (id5)",
    "j5": "SELECT x.*, big.id1 AS big_id1, big.id2 AS big_id2, big.id4 AS big_id4, "
          "big.id5 AS big_id5, big.id6 AS big_id6, big.v2 FROM x JOIN big USING (id3)",
    "sort_i64": "SELECT * FROM t ORDER BY a",
    "sort_f64": "SELECT * FROM t ORDER BY x",
    "sort_str": "SELECT * FROM t ORDER BY s",
    "sort_two": "SELECT * FROM t ORDER BY s, a",
}


def sql_of(case, median, table="x"):
    """The case's SQL with the dialect's median; for a *_file case, over
    `table` (a relation that reads the file) instead of x."""
    base = case[:-5] if case.endswith("_file") else case
    q = SQL[base].replace("{MEDIAN}", median)
    if table != "x":
        q = re.sub(r"\bFROM x\b", f"FROM {table}", q)
    return q


def sql_chk(specs):
    """SQL aggregates computing the checksum specs over a result table."""
    out = []
    for s in specs:
        if s.startswith("len:"):
            out.append(f"sum(length({s[4:]}))")
        elif s.startswith("true:"):
            out.append(f"count(*) FILTER (WHERE {s[5:]})")
        else:
            out.append(f"sum({s})")
    return out


def arrow_checksum(table, case):
    """The checksum of an Arrow table result (pyarrow.compute)."""
    import pyarrow.compute as pc
    vals = []
    for s in chk_of(case):
        if s.startswith("len:"):
            vals.append(pc.sum(pc.utf8_length(table.column(s[4:]))).as_py())
        elif s.startswith("true:"):
            vals.append(pc.sum(pc.cast(table.column(s[5:]), "int64")).as_py())
        else:
            vals.append(pc.sum(pc.cast(table.column(s), "float64")).as_py())
    for f in FIRST.get(case, []):
        vals.append(table.column(f)[0].as_py() if table.num_rows else None)
    return [0 if v is None and table.num_rows == 0 else v for v in vals]
