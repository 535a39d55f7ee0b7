"""pyarrow (Acero) peer runner:
    python run_pyarrow.py CASE[,CASE...] FILE THREADS [RUNS]
pyarrow's CPU pool is set to THREADS. FILE is read once by pyarrow's CSV
reader (not timed; csv_load and the *_file cases time the read), group-by
ids dictionary-encoded, integers int32; each case runs RUNS times through
Table.group_by / filter / sort_by / join (Acero plans under the hood) and
pyarrow.compute; one JSON line per case (peer_common.py). Acero has no exact
median, per-group top-k or correlation: q6, q8 and q9 are skipped with a
note (no result line)."""
import sys

import peer_common as pcm

args = pcm.parse_args(sys.argv, "run_pyarrow.py")
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

pa.set_cpu_count(args.threads)
pa.set_io_thread_count(max(args.threads, 1))
BASE_MB = pcm.vm_hwm_mb()
DICT = pa.dictionary(pa.int32(), pa.string())
F = pc.field


def agg(t, keys, specs, names):
    """group_by(keys).aggregate(specs) with the output columns renamed."""
    r = t.group_by(keys, use_threads=True).aggregate(specs)
    out = {n: r.column(f"{c}_{fn}" if c else fn) for (c, fn), n in zip(specs, names)}
    for k in keys:
        out[k] = r.column(k)
    return pa.table(out)


def q7(t):
    r = agg(t, ["id3"], [("v1", "max"), ("v2", "min")], ["mx", "mn"])
    return pa.table({"id3": r.column("id3"), "range_v1_v2": pc.subtract(r.column("mx"),
                                                                        r.column("mn"))})


def qf2(t):
    f = t.filter((F("v2") <= 5) & (F("v3") > 50))
    f = f.append_column("w", pc.multiply(pc.cast(f.column("v1"), "float64"), f.column("v3")))
    return agg(f, ["id2", "id4"], [("w", "sum"), ("v3", "mean")], ["w", "v3"])


QUERIES = {
    "q1": lambda t: agg(t, ["id1"], [("v1", "sum")], ["v1"]),
    "q2": lambda t: agg(t, ["id1", "id2"], [("v1", "sum")], ["v1"]),
    "q3": lambda t: agg(t, ["id3"], [("v1", "sum"), ("v3", "mean")], ["v1", "v3"]),
    "q4": lambda t: agg(t, ["id4"], [("v1", "mean"), ("v2", "mean"), ("v3", "mean")],
                        ["v1", "v2", "v3"]),
    "q5": lambda t: agg(t, ["id6"], [("v1", "sum"), ("v2", "sum"), ("v3", "sum")],
                        ["v1", "v2", "v3"]),
    "q7": q7,
    "q10": lambda t: agg(t, ["id1", "id2", "id3", "id4", "id5", "id6"],
                         [("v3", "sum"), ([], "count_all")], ["v3", "count"]),
    "qf1": lambda t: agg(t.filter(F("v1") > 2), ["id1"], [("v3", "sum"), ([], "count_all")],
                         ["v3", "count"]),
    "qf2": qf2,
    "filter_i64_1pct": lambda t: t.filter(F("a") < 10000).select(["a"]),
    "filter_i64_30pct": lambda t: t.filter(F("a") < 300000).select(["a"]),
    "filter_i64_80pct": lambda t: t.filter(F("a") < 800000).select(["a"]),
    "filter_f64_30pct": lambda t: t.filter(F("x") < 0.3).select(["x"]),
    "filter_str_eq": lambda t: t.filter(F("s") == "s042").select(["s"]),
    "filter_mixed_30pct": lambda t: t.filter(F("a") < 300000),
    "filter_expr": lambda t: t.filter(F("a") * 2 + F("b") > F("c")).select(["a", "b", "c"]),
    "eval_expr": lambda t: pa.table({"r": pc.greater(pc.add(pc.multiply(t.column("a"), 2),
                                                            t.column("b")), t.column("c"))}),
    "sort_i64": lambda t: t.sort_by("a"),
    "sort_f64": lambda t: t.sort_by("x"),
    "sort_str": lambda t: t.sort_by("s"),
    "sort_two": lambda t: t.sort_by([("s", "ascending"), ("a", "ascending")]),
}
SKIP = {"q6": "no exact median in Acero (only approximate_median/tdigest)",
        "q8": "no per-group top-k in Acero", "q9": "no correlation aggregate in Acero"}
JOINS = {  # right table, key, how
    "j1": ("small", "id1", "inner"), "j2": ("medium", "id2", "inner"),
    "j3": ("medium", "id2", "left outer"), "j4": ("medium", "id5", "inner"),
    "j5": ("big", "id3", "inner"),
}


def read(path, types=None):
    """Reads a CSV; dictionary columns get one dictionary for all chunks
    (Acero's group-by refuses chunks with differing dictionaries)."""
    t = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types or {}))
    return t.unify_dictionaries() if types else t


def main():
    kinds = {pcm.kind_of(c) for c in args.cases}
    t, right = None, None
    if "g1" in kinds:
        t = read(args.file, {"id1": DICT, "id2": DICT, "id3": DICT, "id4": pa.int32(),
                             "id5": pa.int32(), "id6": pa.int32(), "v1": pa.int32(),
                             "v2": pa.int32(), "v3": pa.float64()})
    elif "filter" in kinds:
        t = read(args.file, {"a": pa.int64(), "b": pa.int64(), "c": pa.int64(),
                             "x": pa.float64(), "s": pa.string()})
    if "join" in kinds:
        types = {"id1": pa.int32(), "id2": pa.int32(), "id3": pa.int32(), "id4": DICT,
                 "id5": DICT, "id6": DICT, "v1": pa.float64(), "v2": pa.float64()}
        t = read(args.file, types)
        right = {k: read(v, types) for k, v in pcm.join_files(args.file).items()}

    for case in args.cases:
        kind = pcm.kind_of(case)
        base = case[:-5] if kind == "g1file" else case
        if base in SKIP:
            pcm.unsupported("run_pyarrow.py", case, SKIP[base])
            continue
        if kind == "csv":
            def run():
                return read(args.file)
        elif kind == "g1file":
            q = QUERIES[base]

            def run():
                return q(read(args.file))
        elif kind == "join":
            tab, key, how = JOINS[case]

            def run():
                return t.join(right[tab], keys=key, join_type=how, right_suffix="_" + tab,
                              use_threads=True)
        else:
            q = QUERIES[case]

            def run():
                return q(t)

        ans, secs, cpu, first = pcm.timed(run, args.runs)
        if kind == "csv":
            pcm.CHK[case] = [c for c in pcm.CSV_SUM_COLS if c in ans.column_names]
        chk = pcm.arrow_checksum(ans, case)
        if kind == "csv":
            n_in = ans.num_rows
        elif kind == "g1file":
            n_in = read(args.file).num_rows
        else:
            n_in = t.num_rows
        pcm.print_result("pyarrow", pa.__version__, case, args, n_in, secs, cpu, first,
                         ans.num_rows, chk, BASE_MB)


main()
