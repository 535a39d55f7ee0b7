#!/usr/bin/env python3
"""Regenerates the DuckDB-produced expected results of tests/cli/cli_query.sh.

Requires the `duckdb` Python package (not needed to run the tests), e.g. in a
throwaway venv outside the repository:

    python3 -m venv /tmp/ddb && /tmp/ddb/bin/pip install duckdb
    /tmp/ddb/bin/python tests/data/cli/expected/make_expected.py build/gf

The input is `gf gen groupby --rows 20000 --k 20 --seed 7` (gf is used only
to generate it); its SHA-256 goes to input.sha256 so the test can tell a
changed generator from a wrong answer. Each query below is the SQL twin of
one `gf query` command line of cli_query.sh (section "independent
reference"); keep the two in step. Floats are rounded in the query itself
(round(x, d) on both sides) and written in the shortest round-trip form, as
gf writes them, so the files compare byte for byte.
"""
import csv
import hashlib
import os
import subprocess
import sys
import tempfile

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> SQL over table g (rows in file order: ORDER BY rowid keeps it).
QUERIES = {
    # --filter "v1 >= 3 and id4 <= 10 and id2 = 'id005'"
    # --with 'w=round(v3 * v2 - id6, 3)' --filter 'w > 100' --select id1,id3,w,v1
    "filter_with_select": """
        SELECT id1, id3, w, v1 FROM (
          SELECT *, round(v3 * v2 - id6, 3) AS w, rowid AS rn FROM g
          WHERE v1 >= 3 AND id4 <= 10 AND id2 = 'id005')
        WHERE w > 100 ORDER BY rn""",
    # --filter 'v1 > 1' --group-by id1,id4
    # --agg 'sum(v1) as s,round(mean(v3), 6) as m,count() as n' --sort 'id1, id4 desc'
    "groupby_sort": """
        SELECT id1, id4, sum(v1) AS s, round(avg(v3), 6) AS m, count(*) AS n
        FROM g WHERE v1 > 1 GROUP BY id1, id4 ORDER BY id1, id4 DESC""",
    # --group-by id2 --agg 'min(v3) as lo,max(v3) as hi,count(v3) as c,
    #   round(std(v3), 6) as sd,round(median(v3) * 2, 6) as med2,n_unique(id4) as u' --sort id2
    #   (twice the median: the median of an even count is a midpoint, whose
    #   rounding to 6 digits would be a tie decided by float noise)
    "groupby_stats": """
        SELECT id2, min(v3) AS lo, max(v3) AS hi, count(v3) AS c,
               round(stddev_samp(v3), 6) AS sd, round(quantile_cont(v3, 0.5) * 2, 6) AS med2,
               count(DISTINCT id4) AS u
        FROM g GROUP BY id2 ORDER BY id2""",
    # --sort 'v3 desc, id3' --limit 25 --select id3,v3,id1
    "sort_limit": """
        SELECT id3, v3, id1 FROM g ORDER BY v3 DESC, id3, rowid LIMIT 25""",
}


def cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)  # shortest round-trip, "1.0" for integral values
    return str(v)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_expected.py GF_BINARY")
    gf = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "g.csv")
        subprocess.run([gf, "gen", "groupby", "--rows", "20000", "--k", "20",
                        "--seed", "7", "-o", src], check=True,
                       stdout=subprocess.DEVNULL)
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(HERE, "input.sha256"), "w") as f:
            f.write(digest + "\n")
        con = duckdb.connect()
        con.execute("CREATE TABLE g AS SELECT * FROM read_csv(?, header = true)", [src])
        for name, sql in QUERIES.items():
            cur = con.execute(sql)
            cols = [d[0] for d in cur.description]
            rows = cur.fetchall()
            with open(os.path.join(HERE, name + ".csv"), "w", newline="") as f:
                w = csv.writer(f, lineterminator="\n")
                w.writerow(cols)
                for r in rows:
                    w.writerow([cell(v) for v in r])
            print(f"{name}.csv: {len(rows)} rows")


if __name__ == "__main__":
    main()
