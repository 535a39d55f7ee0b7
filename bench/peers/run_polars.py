"""Polars peer runner (Python package):
    python run_polars.py CASE[,CASE...] FILE THREADS [RUNS]
POLARS_MAX_THREADS is set before Polars loads. FILE is read once (not timed;
csv_load and the *_file cases time the read themselves); each case runs RUNS
times as a lazy query ending in collect (the result stays a Polars frame),
and one JSON line per case is printed (peer_common.py). The group-by setup
follows db-benchmark's Polars script: id1, id2, id3 Categorical, the
integer columns Int32, v3 Float64; *_file cases scan the CSV lazily with the
types Polars infers (an Arrow IPC file, FILE ending .arrow, with scan_ipc)."""
import os
import sys

import peer_common as pcm

args = pcm.parse_args(sys.argv, "run_polars.py")
os.environ["POLARS_MAX_THREADS"] = str(args.threads)
import polars as pl  # noqa: E402

BASE_MB = pcm.vm_hwm_mb()
col = pl.col

QUERIES = {
    "q1": lambda x: x.group_by("id1").agg(col("v1").sum()),
    "q2": lambda x: x.group_by("id1", "id2").agg(col("v1").sum()),
    "q3": lambda x: x.group_by("id3").agg(col("v1").sum(), col("v3").mean()),
    "q4": lambda x: x.group_by("id4").agg(col("v1").mean(), col("v2").mean(), col("v3").mean()),
    "q5": lambda x: x.group_by("id6").agg(col("v1").sum(), col("v2").sum(), col("v3").sum()),
    "q6": lambda x: x.group_by("id4", "id5").agg(col("v3").median().alias("median_v3"),
                                                 col("v3").std().alias("sd_v3")),
    "q7": lambda x: x.group_by("id3").agg((col("v1").max() - col("v2").min()).alias("range_v1_v2")),
    "q8": lambda x: x.drop_nulls("v3").group_by("id6")
                     .agg(col("v3").top_k(2).alias("largest2_v3")).explode("largest2_v3"),
    "q9": lambda x: x.group_by("id2", "id4").agg((pl.corr("v1", "v2") ** 2).alias("r2")),
    "q10": lambda x: x.group_by("id1", "id2", "id3", "id4", "id5", "id6")
                      .agg(col("v3").sum(), pl.len().alias("count")),
    "qf1": lambda x: x.filter(col("v1") > 2).group_by("id1")
                      .agg(col("v3").sum(), pl.len().alias("count")),
    "qf2": lambda x: x.filter((col("v2") <= 5) & (col("v3") > 50))
                      .with_columns((col("v1") * col("v3")).alias("w"))
                      .group_by("id2", "id4").agg(col("w").sum(), col("v3").mean()),
    "filter_i64_1pct": lambda t: t.filter(col("a") < 10000).select("a"),
    "filter_i64_30pct": lambda t: t.filter(col("a") < 300000).select("a"),
    "filter_i64_80pct": lambda t: t.filter(col("a") < 800000).select("a"),
    "filter_f64_30pct": lambda t: t.filter(col("x") < 0.3).select("x"),
    "filter_str_eq": lambda t: t.filter(col("s") == "s042").select("s"),
    "filter_mixed_30pct": lambda t: t.filter(col("a") < 300000),
    "filter_expr": lambda t: t.filter(col("a") * 2 + col("b") > col("c")).select("a", "b", "c"),
    "eval_expr": lambda t: t.select((col("a") * 2 + col("b") > col("c")).alias("r")),
    "sort_i64": lambda t: t.sort("a"),
    "sort_f64": lambda t: t.sort("x"),
    "sort_str": lambda t: t.sort("s"),
    "sort_two": lambda t: t.sort("s", "a"),
}
JOINS = {  # right table, key, how
    "j1": ("small", "id1", "inner"), "j2": ("medium", "id2", "inner"),
    "j3": ("medium", "id2", "left"), "j4": ("medium", "id5", "inner"),
    "j5": ("big", "id3", "inner"),
}


def checksum(df, specs, first):
    exprs = []
    for i, s in enumerate(specs):
        if s.startswith("len:"):
            e = col(s[4:]).str.len_bytes()
        elif s.startswith("true:"):
            e = col(s[5:])
        else:
            e = col(s)
        exprs.append(e.cast(pl.Float64).sum().alias(f"c{i}"))
    out = list(df.select(exprs).row(0)) if exprs else []  # no summed columns: none
    if first:
        out += list(df.head(1).select(first).row(0)) if df.height else [None] * len(first)
    return out


def main():
    kinds = {pcm.kind_of(c) for c in args.cases}
    df, right = None, None
    if "g1" in kinds:
        df = pl.read_csv(args.file, schema_overrides={
            "id4": pl.Int32, "id5": pl.Int32, "id6": pl.Int32, "v1": pl.Int32, "v2": pl.Int32,
            "v3": pl.Float64})
        df = df.with_columns(col("id1", "id2", "id3").cast(pl.Categorical))
    elif "filter" in kinds:
        df = pl.read_csv(args.file, schema_overrides={
            "a": pl.Int64, "b": pl.Int64, "c": pl.Int64, "x": pl.Float64, "s": pl.String})
    if "join" in kinds:
        # db-benchmark's join setup: integer ids Int32, id4..id6 Categorical.
        def load(path):
            t = pl.read_csv(path)
            casts = [col(n).cast(pl.Int32) for n in t.columns if n in ("id1", "id2", "id3")]
            casts += [col(n).cast(pl.Categorical) for n in t.columns if n in ("id4", "id5", "id6")]
            return t.with_columns(casts)
        rf = pcm.join_files(args.file)
        df = load(args.file)
        right = {k: load(v) for k, v in rf.items()}

    for case in args.cases:
        kind = pcm.kind_of(case)
        if kind == "csv":
            def run():
                return pl.read_csv(args.file)
        elif kind == "g1file":
            q = QUERIES[case[:-5]]

            scan = pl.scan_ipc if args.file.endswith(".arrow") else pl.scan_csv

            def run():
                return q(scan(args.file)).collect()
        elif kind == "join":
            tab, key, how = JOINS[case]

            def run():
                return df.lazy().join(right[tab].lazy(), on=key, how=how,
                                      suffix="_" + tab).collect()
        else:
            q = QUERIES[case]

            def run():
                return q(df.lazy()).collect()

        ans, secs, cpu, first = pcm.timed(run, args.runs)
        if kind == "csv":
            specs = [c for c in pcm.CSV_SUM_COLS if c in ans.columns]
        else:
            specs = pcm.chk_of(case)
        chk = checksum(ans, specs, pcm.FIRST.get(case))
        if kind in ("csv", "g1file"):
            scan = pl.scan_ipc if args.file.endswith(".arrow") else pl.scan_csv
            n_in = ans.height if kind == "csv" else scan(args.file).select(pl.len()).collect().item()
        else:
            n_in = df.height
        pcm.print_result("polars", pl.__version__, case, args, n_in, secs, cpu, first,
                         ans.height, chk, BASE_MB)


main()
