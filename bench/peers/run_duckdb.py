"""DuckDB peer runner (Python package):
    python run_duckdb.py CASE[,CASE...] FILE THREADS [RUNS]
Loads FILE once (not timed; csv_load and the *_file cases time the read
themselves; a *_file case on an Arrow IPC file, FILE ending .arrow, reads it
with pyarrow, memory-mapped, inside the timing and queries the Arrow table:
this DuckDB reads IPC files only through an extension it would download), runs each case RUNS times with its result kept inside DuckDB
(CREATE TABLE ans AS ...), and prints one JSON line per case
(peer_common.py). The group-by setup follows db-benchmark's DuckDB script:
id1, id2, id3 as ENUM, the integer columns INTEGER, v3 DOUBLE."""
import sys

import peer_common as pcm

args = pcm.parse_args(sys.argv, "run_duckdb.py")
import duckdb  # noqa: E402

BASE_MB = pcm.vm_hwm_mb()


def g1_load(con, f):
    con.execute(f"CREATE TABLE x_csv AS SELECT * FROM read_csv('{f}', header = true)")
    for c in ("id1", "id2", "id3"):
        con.execute(f"CREATE TYPE {c}ENUM AS ENUM (SELECT DISTINCT {c} FROM x_csv "
                    f"WHERE {c} IS NOT NULL)")
    con.execute("CREATE TABLE x (id1 id1ENUM, id2 id2ENUM, id3 id3ENUM, id4 INTEGER, "
                "id5 INTEGER, id6 INTEGER, v1 INTEGER, v2 INTEGER, v3 DOUBLE)")
    con.execute("INSERT INTO x SELECT * FROM x_csv")
    con.execute("DROP TABLE x_csv")


def main():
    f = args.file.replace("'", "''")
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {args.threads}")
    version = duckdb.__version__
    kinds = {pcm.kind_of(c) for c in args.cases}
    if "g1" in kinds:
        g1_load(con, f)
    if "filter" in kinds:
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{f}', header = true, columns = "
                    "{'a': 'BIGINT', 'b': 'BIGINT', 'c': 'BIGINT', 'x': 'DOUBLE', 's': 'VARCHAR'})")
    if "join" in kinds:
        # db-benchmark's join setup: as read (integer ids, id4..id6 VARCHAR, v DOUBLE).
        r = pcm.join_files(args.file)
        con.execute(f"CREATE TABLE x AS SELECT * FROM read_csv('{f}', header = true)")
        for t in ("small", "medium", "big"):
            p = r[t].replace("'", "''")
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_csv('{p}', header = true)")
    table = "t" if "filter" in kinds else "x"
    rows_in = 0
    if kinds & {"g1", "filter", "join"}:
        rows_in = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    for case in args.cases:
        kind = pcm.kind_of(case)
        if kind == "csv":
            sql = f"CREATE TABLE ans AS SELECT * FROM read_csv('{f}')"
        elif kind == "g1file" and args.file.endswith(".arrow"):
            sql = "CREATE TABLE ans AS " + pcm.sql_of(case, "quantile_cont(v3, 0.5)", "xa")
        elif kind == "g1file":
            sql = "CREATE TABLE ans AS " + pcm.sql_of(case, "quantile_cont(v3, 0.5)",
                                                      f"read_csv('{f}')")
        else:
            sql = "CREATE TABLE ans AS " + pcm.sql_of(case, "quantile_cont(v3, 0.5)")

        def run():
            con.execute("DROP TABLE IF EXISTS ans")
            if kind == "g1file" and args.file.endswith(".arrow"):
                import pyarrow as pa
                import pyarrow.ipc as ipc
                con.register("xa", ipc.open_file(pa.memory_map(args.file)).read_all())
                con.execute(sql)
                con.unregister("xa")
            else:
                con.execute(sql)
            return True

        _, secs, cpu, first = pcm.timed(run, args.runs)
        if kind == "csv":
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'ans'"
            ).fetchall()]
            chk = [f"sum({c})" for c in pcm.CSV_SUM_COLS if c in cols]
        else:
            chk = pcm.sql_chk(pcm.chk_of(case))
        row = con.execute("SELECT count(*)" + "".join(", " + c for c in chk) + " FROM ans").fetchone()
        rows, checksum = row[0], list(row[1:])
        if kind == "g1file" and args.file.endswith(".arrow"):
            import pyarrow as pa
            import pyarrow.ipc as ipc
            n_in = ipc.open_file(pa.memory_map(args.file)).read_all().num_rows
        elif kind in ("csv", "g1file"):
            n_in = con.execute(f"SELECT count(*) FROM read_csv('{f}')").fetchone()[0]
        else:
            n_in = rows_in
        if case in pcm.FIRST:
            checksum += list(con.execute(f"SELECT {', '.join(pcm.FIRST[case])} FROM ans LIMIT 1")
                             .fetchone())
        con.execute("DROP TABLE IF EXISTS ans")
        pcm.print_result("duckdb", version, case, args, n_in, secs, cpu, first, rows, checksum,
                         BASE_MB)


main()
