// bench_polars_ipc.js OURS.ipc DIR RUNS - the Polars side of bench/bench_ipc
// (which runs it with NODE_PATH at the interop cache's node_modules): loads
// the uncompressed IPC file gopherframe wrote (untimed, so both time the
// same data), then times nodejs-polars writeIPC and readIPC of it,
// uncompressed, LZ4 and ZSTD, in DIR, RUNS runs interleaved like ours. One
// JSON line per case on stdout with bench_common.h's keys.
//
// Polars' "open" is readIPC with nRows 1 (it has no metadata-only open in
// the node API); its writeIPC uses its newest format (strings as utf8_view).
"use strict";

const fs = require("fs");
const path = require("path");
const pl = require("nodejs-polars");

const [ours, dir, runsText] = process.argv.slice(2);
const runs = parseInt(runsText || "5", 10);
if (!ours || !dir || !(runs >= 1)) {
  process.stderr.write("usage: bench_polars_ipc.js OURS.ipc DIR RUNS\n");
  process.exit(2);
}
const version = require("nodejs-polars/package.json").version;
const nowS = () => Number(process.hrtime.bigint()) / 1e9;
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
};

const df = pl.readIPC(ours);
const rows = df.height;
const idSum = Number(df.getColumn("id").sum());
const codecs = ["uncompressed", "lz4", "zstd"];
const label = (c) => (c === "uncompressed" ? "none" : c);
const file = (c) => path.join(dir, `bench-polars-${label(c)}.ipc`);

function line(caseName, secs, cpu, bytes, checksum) {
  const o = {
    system: "polars",
    version,
    case: caseName,
    data: "ipc_mixed",
    rows_in: rows,
    threads: 0,
    runs,
    median_s: median(secs),
    min_s: Math.min(...secs),
    rows,
    checksum: [checksum],
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    cpu_s: median(cpu),
  };
  if (bytes > 0) {
    o.mb_s = bytes / 1e6 / o.median_s;
    o.file_mb = bytes / 1e6;
  }
  process.stdout.write(JSON.stringify(o) + "\n");
}

const w = Object.fromEntries(codecs.map((c) => [c, { s: [], c: [] }]));
for (let r = 0; r < runs; r++) {
  for (const c of codecs) {
    fs.rmSync(file(c), { force: true });
    const c0 = cpuS();
    const t0 = nowS();
    df.writeIPC(file(c), { compression: c });
    w[c].s.push(nowS() - t0);
    w[c].c.push(cpuS() - c0);
  }
}
for (const c of codecs) line(`ipc_write_${label(c)}`, w[c].s, w[c].c, fs.statSync(file(c)).size, idSum);

const open = { s: [], c: [] };
const rd = Object.fromEntries(codecs.map((c) => [c, { s: [], c: [] }]));
for (let r = 0; r < runs; r++) {
  let c0 = cpuS();
  let t0 = nowS();
  const head = pl.readIPC(file("uncompressed"), { nRows: 1 });
  open.s.push(nowS() - t0);
  open.c.push(cpuS() - c0);
  if (head.height !== 1) throw new Error("readIPC nRows 1 returned " + head.height + " rows");
  for (const c of codecs) {
    c0 = cpuS();
    t0 = nowS();
    const back = pl.readIPC(file(c));
    rd[c].s.push(nowS() - t0);
    rd[c].c.push(cpuS() - c0);
    if (back.height !== rows || Number(back.getColumn("id").sum()) !== idSum)
      throw new Error(`polars read back different data from ${file(c)}`);
  }
}
line("ipc_open_nrows1", open.s, open.c, 0, idSum);
for (const c of codecs) line(`ipc_read_${label(c)}`, rd[c].s, rd[c].c, fs.statSync(file(c)).size, idSum);
for (const c of codecs) fs.rmSync(file(c), { force: true });
