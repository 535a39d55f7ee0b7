#!/usr/bin/env bash
# Regenerates the compressed fixtures of tests/unit/test_format_detect.c
# with the system command-line tools (the independent reference): the
# plain text is rows "i,HEX\n" for i in [0, 6000) with HEX the 8-digit hex
# of (i * 2654435761) mod 2^32 (the test rebuilds it with a naive loop).
# text.csv.gz etc. hold the whole text; members.csv.gz is the first 2500
# rows and the rest as two concatenated gzip members.
set -euo pipefail
cd "$(dirname "$0")"
python3 - > /tmp/gf_doors_text.csv <<'PY'
import sys
for i in range(6000):
    sys.stdout.write("%d,%08x\n" % (i, (i * 2654435761) % (1 << 32)))
PY
gzip -9 -n -c /tmp/gf_doors_text.csv > text.csv.gz
zstd -q -19 -c /tmp/gf_doors_text.csv > text.csv.zst
lz4 -q -9 -c /tmp/gf_doors_text.csv > text.csv.lz4
bzip2 -9 -c /tmp/gf_doors_text.csv > text.csv.bz2
head -n 2500 /tmp/gf_doors_text.csv | gzip -n -c > members.csv.gz
tail -n +2501 /tmp/gf_doors_text.csv | gzip -n -c >> members.csv.gz
rm /tmp/gf_doors_text.csv
