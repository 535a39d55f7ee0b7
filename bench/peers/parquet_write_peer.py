"""parquet_write_peer.py SYSTEM IPC_FILE OUT CODEC THREADS RUNS: reads the
Arrow IPC file once (not timed), then writes it as Parquet RUNS times with
SYSTEM (pyarrow, polars or duckdb) at their defaults but the codec and the
thread count; prints "SYSTEM CODEC THREADS wall_s cpu_s bytes" per run."""
import os
import sys
import time


def main():
    system, src, dst, codec, threads, runs = sys.argv[1:7]
    threads, runs = int(threads), int(runs)
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = ipc.open_file(pa.memory_map(src)).read_all()
    if system == "pyarrow":
        import pyarrow.parquet as pq

        pa.set_cpu_count(threads)
        pa.set_io_thread_count(threads)
        write = lambda: pq.write_table(table, dst, compression=codec)  # noqa: E731
    elif system == "polars":
        import polars as pl

        df = pl.from_arrow(table)
        write = lambda: df.write_parquet(dst, compression=codec)  # noqa: E731
    elif system == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads={threads}")
        con.register("t", table)
        write = lambda: con.execute(f"COPY t TO '{dst}' (FORMAT parquet, COMPRESSION {codec})")  # noqa: E731
    else:
        raise SystemExit(f"unknown system {system}")
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        write()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{system} {codec} {threads} {wall:.3f} {cpu:.3f} {os.path.getsize(dst)}", flush=True)


main()
