// Shared by the Node peer runners (duckdb.js, polars.js): argument parsing,
// timing, medians, peak RSS and the JSON result line (bench/bench_common.h
// describes its keys; every system prints the same ones).
'use strict';
const path = require('path');

// argv: CASE[,CASE...] FILE THREADS [RUNS]
function parseArgs(argv, usage) {
  const a = argv.slice(2);
  if (a.length < 3) {
    process.stderr.write(`usage: ${usage} CASE[,CASE...] FILE THREADS [RUNS]\n`);
    process.exit(2);
  }
  const runs = a.length > 3 ? parseInt(a[3], 10) : 5;
  const threads = parseInt(a[2], 10);
  if (!(runs >= 1) || !(threads >= 1)) {
    process.stderr.write(`${usage}: THREADS and RUNS must be positive\n`);
    process.exit(2);
  }
  return { cases: a[0].split(','), file: a[1], threads, runs,
           data: path.basename(a[1]).replace(/\.csv$/, '') };
}

// CPU seconds (user + system, all threads) of this process so far.
function cpuS() { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; }

function nowS() { return Number(process.hrtime.bigint()) / 1e9; }

function median(v) {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

// Process high-water RSS (VmHWM, the figure getrusage gives our driver).
function peakRssMb() { return process.resourceUsage().maxRSS / 1024; }

function num(v) {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'bigint' ? Number(v) : Number(v);
  return Number.isFinite(n) ? n : null;
}

function printResult(o) {
  const line = {
    system: o.system, version: o.version, case: o.case, data: o.data,
    rows_in: o.rowsIn, threads: o.threads, runs: o.secs.length,
    median_s: median(o.secs), min_s: Math.min(...o.secs), rows: o.rows,
    checksum: o.checksum.map(num), peak_rss_mb: Math.round(peakRssMb() * 10) / 10,
  };
  if (o.rssFirst !== undefined) line.rss_first_mb = Math.round(o.rssFirst * 10) / 10;
  if (o.cpu) line.cpu_s = median(o.cpu);
  if (o.extra) Object.assign(line, o.extra);
  process.stdout.write(JSON.stringify(line) + '\n');
}

// The columns csv_load sums (those the file has): db-benchmark G1's numbers.
const CSV_SUM_COLS = ['id4', 'id5', 'id6', 'v1', 'v2', 'v3'];

// db-benchmark join data: the left table J1_<N>_NA_0_0.csv and, beside it,
// the right tables small, medium and big with N/1e6, N/1e3 and N rows
// (J1_1e7_1e1_0_0.csv, J1_1e7_1e4_0_0.csv, J1_1e7_1e7_0_0.csv for N = 1e7).
function joinFiles(left) {
  const m = /^(.*J1_)1e(\d+)_NA_(\d+)_(\d+)\.csv$/.exec(left);
  if (!m) throw new Error(`join data must be named J1_1eN_NA_P_S.csv, got ${left}`);
  const e = Number(m[2]);
  const name = (k) => `${m[1]}1e${e}_1e${k}_${m[3]}_${m[4]}.csv`;
  return { small: name(e - 6), medium: name(e - 3), big: name(e) };
}

module.exports = { joinFiles, parseArgs, nowS, cpuS, median, peakRssMb, printResult, num, CSV_SUM_COLS };
