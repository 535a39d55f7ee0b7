"""DataFusion peer runner (Python package):
    python run_datafusion.py CASE[,CASE...] FILE THREADS [RUNS]
FILE is read once by pyarrow's CSV reader (not timed; csv_load and the
*_file cases time DataFusion's own read) and registered as an in-memory
table of THREADS partitions; target_partitions = THREADS. Each case runs
RUNS times as SQL collected into Arrow record batches (the result stays in
memory); one JSON line per case (peer_common.py). Setup as in db-benchmark's
DataFusion script: id1, id2, id3 dictionary-encoded strings, the integer
columns int32, v3 float64. DataFusion's exact median is median()."""
import sys

import peer_common as pcm

args = pcm.parse_args(sys.argv, "run_datafusion.py")
import datafusion  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

BASE_MB = pcm.vm_hwm_mb()
DICT = pa.dictionary(pa.int32(), pa.string())


def read(path, types):
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))


def register(ctx, name, table):
    """Registers `table` as THREADS partitions of record batches."""
    batches = table.to_batches(max_chunksize=max(1, -(-table.num_rows // args.threads)))
    parts = [[b] for b in batches] or [[]]
    ctx.register_record_batches(name, parts)


def main():
    cfg = datafusion.SessionConfig().with_target_partitions(args.threads)
    ctx = datafusion.SessionContext(cfg)
    kinds = {pcm.kind_of(c) for c in args.cases}
    rows_in = 0
    if "g1" in kinds:
        t = read(args.file, {"id1": DICT, "id2": DICT, "id3": DICT, "id4": pa.int32(),
                             "id5": pa.int32(), "id6": pa.int32(), "v1": pa.int32(),
                             "v2": pa.int32(), "v3": pa.float64()})
        rows_in = t.num_rows
        register(ctx, "x", t)
        del t
    if "filter" in kinds:
        t = read(args.file, {"a": pa.int64(), "b": pa.int64(), "c": pa.int64(),
                             "x": pa.float64(), "s": pa.string()})
        rows_in = t.num_rows
        register(ctx, "t", t)
        del t
    if "join" in kinds:
        def load(path):
            types = {"id1": pa.int32(), "id2": pa.int32(), "id3": pa.int32(),
                     "id4": DICT, "id5": DICT, "id6": DICT, "v1": pa.float64(),
                     "v2": pa.float64()}
            return read(path, types)
        rf = pcm.join_files(args.file)
        t = load(args.file)
        rows_in = t.num_rows
        register(ctx, "x", t)
        del t
        for k, v in rf.items():
            register(ctx, k, load(v))
    if "csv" in kinds or "g1file" in kinds:
        ctx.register_csv("xf", args.file)

    for case in args.cases:
        kind = pcm.kind_of(case)
        if kind == "csv":
            sql = "SELECT * FROM xf"
        elif kind == "g1file":
            sql = pcm.sql_of(case, "median(v3)", "xf")
        else:
            sql = pcm.sql_of(case, "median(v3)")

        def run():
            return ctx.sql(sql).collect()

        batches, secs, cpu, first = pcm.timed(run, args.runs)
        ans = pa.Table.from_batches(batches) if batches else pa.table({})
        if kind == "csv":
            specs = [c for c in pcm.CSV_SUM_COLS if c in ans.column_names]
            pcm.CHK[case] = specs
        chk = pcm.arrow_checksum(ans, case)
        n_in = rows_in
        if kind in ("csv", "g1file"):
            n_in = ctx.sql("SELECT count(*) AS n FROM xf").collect()[0].column(0)[0].as_py()
        pcm.print_result("datafusion", datafusion.__version__, case, args, n_in, secs, cpu,
                         first, ans.num_rows, chk, BASE_MB)


main()
