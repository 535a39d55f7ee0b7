// Polars peer runner: node polars.js CASE[,CASE...] FILE THREADS [RUNS]
// POLARS_MAX_THREADS is set before Polars loads. FILE is read once (not
// timed; csv_load times the read itself); each case runs RUNS times as a lazy
// query ending in collect (the result stays a Polars frame), and one JSON line
// per case is printed (bench/bench_common.h). The group-by setup follows
// db-benchmark's Polars script: id1, id2, id3 Categorical, the integer columns
// Int32, v3 Float64. Needs NODE_PATH to the peer cache (bench/peers/install.sh).
'use strict';
const { joinFiles, parseArgs, nowS, cpuS, peakRssMb, printResult, CSV_SUM_COLS } = require('./common');

const args = parseArgs(process.argv, 'polars.js');
process.env.POLARS_MAX_THREADS = String(args.threads);
const pl = require('nodejs-polars');
const version = require('nodejs-polars/package.json').version;

const col = (n) => pl.col(n);
const lensum = (n) => col(n).str.lengths();

// kind: which data the case reads; q(x): the lazy query; chk: expressions whose
// sums form the checksum (in bench_common.h's order); first: key columns of
// the first row (sort cases).
const CASES = {
  csv_load: { kind: 'csv' },
  q1: { kind: 'g1', q: (x) => x.groupBy('id1').agg(col('v1').sum().alias('v1')), chk: ['v1'] },
  q2: { kind: 'g1', q: (x) => x.groupBy(['id1', 'id2']).agg(col('v1').sum().alias('v1')),
        chk: ['v1'] },
  q3: { kind: 'g1', q: (x) => x.groupBy('id3').agg([col('v1').sum().alias('v1'),
                                                    col('v3').mean().alias('v3')]),
        chk: ['v1', 'v3'] },
  q4: { kind: 'g1', q: (x) => x.groupBy('id4').agg([col('v1').mean().alias('v1'),
        col('v2').mean().alias('v2'), col('v3').mean().alias('v3')]), chk: ['v1', 'v2', 'v3'] },
  q5: { kind: 'g1', q: (x) => x.groupBy('id6').agg([col('v1').sum().alias('v1'),
        col('v2').sum().alias('v2'), col('v3').sum().alias('v3')]), chk: ['v1', 'v2', 'v3'] },
  q6: { kind: 'g1', q: (x) => x.groupBy(['id4', 'id5']).agg([col('v3').median().alias('median_v3'),
        col('v3').std().alias('sd_v3')]), chk: ['median_v3', 'sd_v3'] },
  q7: { kind: 'g1', q: (x) => x.groupBy('id3').agg(col('v1').max().sub(col('v2').min())
        .alias('range_v1_v2')), chk: ['range_v1_v2'] },
  q8: { kind: 'g1', q: (x) => x.dropNulls('v3').groupBy('id6')
        .agg(col('v3').sort({ descending: true }).head(2).alias('largest2_v3'))
        .explode('largest2_v3'), chk: ['largest2_v3'] },
  q9: { kind: 'g1', q: (x) => x.groupBy(['id2', 'id4']).agg(pl.pearsonCorr('v1', 'v2').pow(2)
        .alias('r2')), chk: ['r2'] },
  q10: { kind: 'g1', q: (x) => x.groupBy(['id1', 'id2', 'id3', 'id4', 'id5', 'id6'])
         .agg([col('v3').sum().alias('v3'), pl.len().alias('count')]),
         chk: ['v3', 'count'] },
  // Beyond db-benchmark: a filter (and a computed column) before the group-by.
  qf1: { kind: 'g1', q: (x) => x.filter(col('v1').gt(2)).groupBy('id1')
         .agg([col('v3').sum().alias('v3'), pl.len().alias('count')]), chk: ['v3', 'count'] },
  qf2: { kind: 'g1', q: (x) => x.filter(col('v2').ltEq(5).and(col('v3').gt(50)))
         .withColumns(col('v1').mul(col('v3')).alias('w')).groupBy(['id2', 'id4'])
         .agg([col('w').sum().alias('w'), col('v3').mean().alias('v3')]), chk: ['w', 'v3'] },
  filter_i64_1pct: { kind: 'filter', q: (t) => t.filter(col('a').lt(10000)).select('a'), chk: ['a'] },
  filter_i64_30pct: { kind: 'filter', q: (t) => t.filter(col('a').lt(300000)).select('a'), chk: ['a'] },
  filter_i64_80pct: { kind: 'filter', q: (t) => t.filter(col('a').lt(800000)).select('a'), chk: ['a'] },
  filter_f64_30pct: { kind: 'filter', q: (t) => t.filter(col('x').lt(0.3)).select('x'), chk: ['x'] },
  filter_str_eq: { kind: 'filter', q: (t) => t.filter(col('s').eq(pl.lit('s042'))).select('s'),
                   chk: [lensum('s')] },
  filter_mixed_30pct: { kind: 'filter', q: (t) => t.filter(col('a').lt(300000)),
                        chk: ['a', 'b', 'c', 'x', lensum('s')] },
  filter_expr: { kind: 'filter',
                 q: (t) => t.filter(col('a').mul(2).add(col('b')).gt(col('c'))).select(['a', 'b', 'c']),
                 chk: ['a', 'b', 'c'] },
  eval_expr: { kind: 'filter', q: (t) => t.select(col('a').mul(2).add(col('b')).gt(col('c')).alias('r')),
               chk: [col('r')] },
  j1: { kind: 'join', q: (x, r) => x.join(r.small.lazy(), { on: 'id1', suffix: '_small' }),
        chk: ['v1', 'v2'] },
  j2: { kind: 'join', q: (x, r) => x.join(r.medium.lazy(), { on: 'id2', suffix: '_medium' }),
        chk: ['v1', 'v2'] },
  j3: { kind: 'join', q: (x, r) => x.join(r.medium.lazy(), { on: 'id2', how: 'left', suffix: '_medium' }),
        chk: ['v1', 'v2'] },
  j4: { kind: 'join', q: (x, r) => x.join(r.medium.lazy(), { on: 'id5', suffix: '_medium' }),
        chk: ['v1', 'v2'] },
  j5: { kind: 'join', q: (x, r) => x.join(r.big.lazy(), { on: 'id3', suffix: '_big' }),
        chk: ['v1', 'v2'] },
  sort_i64: { kind: 'filter', q: (t) => t.sort('a'), chk: ['a'], first: ['a'] },
  sort_f64: { kind: 'filter', q: (t) => t.sort('x'), chk: ['x'], first: ['x'] },
  sort_str: { kind: 'filter', q: (t) => t.sort('s'), chk: [lensum('s')] },
  sort_two: { kind: 'filter', q: (t) => t.sort(['s', 'a']), chk: ['a'], first: ['a'] },
};

// Sums of the checksum expressions over a result frame (nulls skipped),
// summed as Float64 so that 64-bit sums come back to JavaScript exactly.
function sums(df, chk) {
  const row = df.select(chk.map((e, i) =>
    (typeof e === 'string' ? col(e) : e).cast(pl.Float64).sum().alias(`c${i}`)));
  return chk.map((_, i) => row.getColumn(`c${i}`).get(0));
}

function main() {
  for (const c of args.cases)
    if (!CASES[c]) { process.stderr.write(`polars.js: unknown case '${c}'\n`); process.exit(2); }
  const kinds = new Set(args.cases.map((c) => CASES[c].kind));
  let df = null;
  if (kinds.has('g1')) {
    df = pl.readCSV(args.file, { dtypes: { id4: pl.Int32, id5: pl.Int32, id6: pl.Int32,
                                          v1: pl.Int32, v2: pl.Int32, v3: pl.Float64 } });
    df = df.withColumns(col('id1').cast(pl.Categorical), col('id2').cast(pl.Categorical),
                        col('id3').cast(pl.Categorical));
  } else if (kinds.has('filter')) {
    df = pl.readCSV(args.file, { dtypes: { a: pl.Int64, b: pl.Int64, c: pl.Int64,
                                          x: pl.Float64, s: pl.Utf8 } });
  }
  let right = null;
  if (kinds.has('join')) {
    // db-benchmark's join setup: integer ids Int32, id4..id6 Categorical.
    const load = (file) => {
      let t = pl.readCSV(file);
      for (const n of t.columns) {
        if (['id1', 'id2', 'id3'].includes(n)) t = t.withColumns(col(n).cast(pl.Int32));
        if (['id4', 'id5', 'id6'].includes(n)) t = t.withColumns(col(n).cast(pl.Categorical));
      }
      return t;
    };
    const rf = joinFiles(args.file);
    df = load(args.file);
    right = { small: load(rf.small), medium: load(rf.medium), big: load(rf.big) };
  }
  for (const name of args.cases) {
    const c = CASES[name];
    const secs = [], cpu = [];
    let rssFirst;
    let ans = null;
    for (let r = 0; r < args.runs; r++) {
      ans = null;
      const c0 = cpuS(), t0 = nowS();
      ans = c.kind === 'csv' ? pl.readCSV(args.file) : c.q(df.lazy(), right).collectSync();
      secs.push(nowS() - t0);
      cpu.push(cpuS() - c0);
      if (r === 0) rssFirst = peakRssMb();
    }
    let chk = c.chk;
    if (c.kind === 'csv') chk = CSV_SUM_COLS.filter((k) => ans.columns.includes(k));
    let checksum = sums(ans, chk);
    if (c.first) {
      const fr = ans.head(1).select(c.first.map((e, i) => (typeof e === 'string' ? col(e) : e)
        .cast(pl.Float64).alias(`f${i}`)));
      checksum = checksum.concat(c.first.map((_, i) => fr.getColumn(`f${i}`).get(0)));
    }
    printResult({ system: 'polars', version, case: name, data: args.data,
                  rowsIn: c.kind === 'csv' ? ans.height : df.height, threads: args.threads,
                  secs, cpu, rssFirst, rows: ans.height, checksum });
  }
}

try { main(); } catch (e) { process.stderr.write(`polars.js: ${e.stack || e}\n`); process.exit(1); }
