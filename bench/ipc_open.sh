#!/usr/bin/env bash
# bench/ipc_open.sh BEFORE_GF AFTER_GF [FILE] [RUNS]
#
# Opening an Arrow IPC file with `gf schema` and `gf head` (issue 18 item 3):
# wall time and peak RSS of each command for two gf binaries, interleaved
# run by run (before, after, before, after...) so that both see the same
# machine load. Peak RSS is GNU time's %M (the child's ru_maxrss, i.e.
# VmHWM), which counts the memory-mapped file pages the process touched;
# wall time includes starting /usr/bin/time and gf (~1 ms on this machine).
#
# `gf --version` is timed too: the floor (process start) under the same load.
# FILE defaults to the demo data set (scripts/demo), made when missing with
# AFTER_GF: `gf gen groupby --rows 1e7 --k 100` then `gf convert` to .arrow.
# The file is read once untimed first (page cache hot). Raw results: one
# JSON line per run in bench/results/ipc-open-<UTC time>.jsonl; a table of
# medians is printed.
set -euo pipefail
before=${1:?usage: bench/ipc_open.sh BEFORE_GF AFTER_GF [FILE] [RUNS]}
after=${2:?usage: bench/ipc_open.sh BEFORE_GF AFTER_GF [FILE] [RUNS]}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gopherframe
file=${3:-$cache/G1_1e7_1e2_0_0.arrow}
runs=${4:-7}
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -s "$file" ]; then
  mkdir -p "$(dirname "$file")"
  csv="${file%.arrow}.csv"
  [ -s "$csv" ] || nice "$after" gen groupby --rows 1e7 --k 100 -o "$csv"
  nice "$after" convert "$csv" "$file"
fi
mkdir -p "$here/results"
out="$here/results/ipc-open-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
python3 - "$before" "$after" "$file" "$runs" "$out" <<'EOF'
import json, os, statistics, subprocess, sys, time
before, after, path, runs, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
cmds = {"version": ["--version"], "schema": ["schema", path], "head": ["head", path]}
bins = {"before": before, "after": after}

def one(binary, args):
    # Peak RSS from GNU time's %M (wait4's ru_maxrss of its child): a child
    # forked or spawned from this Python would carry the interpreter's RSS
    # (maxrss survives execve), time's own is ~1 MB. Wall time is taken
    # around the whole, time's exec included (the same for both builds).
    meas = out + ".time"
    t0 = time.perf_counter_ns()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", meas, binary] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.perf_counter_ns() - t0) / 1e6
    if p.returncode != 0:
        sys.exit(f"{binary} {' '.join(args)} failed: {p.stderr.decode(errors='replace')}")
    with open(meas) as m:
        rss, ut, st = m.read().split()[-3:]
    os.unlink(meas)
    return wall, int(rss), float(ut), float(st)

with open(path, "rb") as f:  # page cache hot
    while f.read(1 << 24):
        pass
rows = []
with open(out, "w") as o:
    o.write(json.dumps({"kind": "env", "file": path, "bytes": os.path.getsize(path),
                        "before": before, "after": after, "runs": runs,
                        "loadavg_start": os.getloadavg(), "nproc": os.cpu_count()}) + "\n")
    for r in range(runs):
        for cmd, args in cmds.items():
            for name, b in bins.items():
                wall, rss, ut, st = one(b, args)
                row = {"kind": "run", "run": r, "cmd": cmd, "build": name, "wall_ms": round(wall, 3),
                       "vmhwm_kb": rss, "user_s": ut, "sys_s": st}
                o.write(json.dumps(row) + "\n")
                rows.append(row)
    o.write(json.dumps({"kind": "env", "loadavg_end": os.getloadavg()}) + "\n")
print(f"file: {path} ({os.path.getsize(path) / 1e6:.1f} MB), {runs} runs interleaved; raw: {out}")
print(f"{'command':<8} {'build':<7} {'wall ms (median)':>17} {'min':>8} {'CPU ms (median)':>16} {'VmHWM MB (median)':>18}")
med = {}
for cmd in cmds:
    for name in bins:
        w = [x["wall_ms"] for x in rows if x["cmd"] == cmd and x["build"] == name]
        m = [x["vmhwm_kb"] / 1024 for x in rows if x["cmd"] == cmd and x["build"] == name]
        c = [(x["user_s"] + x["sys_s"]) * 1000 for x in rows if x["cmd"] == cmd and x["build"] == name]
        med[(cmd, name)] = statistics.median(w)
        print(f"{cmd:<8} {name:<7} {statistics.median(w):>17.2f} {min(w):>8.2f} {statistics.median(c):>16.0f} {statistics.median(m):>18.1f}")
    print(f"{cmd:<8} ratio before/after (median wall): {med[(cmd, 'before')] / med[(cmd, 'after')]:.1f}x")
EOF
