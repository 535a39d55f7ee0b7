"""Writes G1_1e7 (db-benchmark group-by data) as Parquet with pyarrow, for
bench/parquet_read.sh: one file per codec (snappy, zstd), pyarrow's
defaults otherwise (dictionary encoding, 1 Mi-row row groups, pages v2
off). Usage: parquet_make_g1.py CSV OUTDIR"""
import os
import sys

import pyarrow.csv as pc
import pyarrow.parquet as pq

csv, out = sys.argv[1], sys.argv[2]
base = os.path.basename(csv).rsplit(".", 1)[0]
t = pc.read_csv(csv)
for codec in ["snappy", "zstd"]:
    path = os.path.join(out, "%s.pa-%s.parquet" % (base, codec))
    if not os.path.exists(path):
        pq.write_table(t, path + ".tmp", compression=codec)
        os.rename(path + ".tmp", path)
    print(path, os.path.getsize(path))
