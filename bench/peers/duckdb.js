// DuckDB peer runner: node duckdb.js CASE[,CASE...] FILE THREADS [RUNS]
// Loads FILE once (not timed; csv_load times the read itself), runs each case
// RUNS times (each result kept inside DuckDB: CREATE TABLE ans AS ...), and
// prints one JSON line per case (bench/bench_common.h). The group-by setup
// follows db-benchmark's DuckDB script: id1, id2, id3 as ENUM, the integer
// columns as INTEGER, v3 DOUBLE. Needs NODE_PATH to the peer cache
// (bench/peers/install.sh).
'use strict';
const { joinFiles, parseArgs, nowS, cpuS, peakRssMb, printResult, num, CSV_SUM_COLS } = require('./common');
const duckdb = require('@duckdb/node-api');

const G1_LOAD = (f) => [
  `CREATE TABLE x_csv AS SELECT * FROM read_csv('${f}', header = true)`,
  'CREATE TYPE id1ENUM AS ENUM (SELECT DISTINCT id1 FROM x_csv WHERE id1 IS NOT NULL)',
  'CREATE TYPE id2ENUM AS ENUM (SELECT DISTINCT id2 FROM x_csv WHERE id2 IS NOT NULL)',
  'CREATE TYPE id3ENUM AS ENUM (SELECT DISTINCT id3 FROM x_csv WHERE id3 IS NOT NULL)',
  'CREATE TABLE x (id1 id1ENUM, id2 id2ENUM, id3 id3ENUM, id4 INTEGER, id5 INTEGER, ' +
    'id6 INTEGER, v1 INTEGER, v2 INTEGER, v3 DOUBLE)',
  'INSERT INTO x SELECT * FROM x_csv',
  'DROP TABLE x_csv',
];
const FILTER_LOAD = (f) => [
  `CREATE TABLE t AS SELECT * FROM read_csv('${f}', header = true, columns = ` +
    "{'a': 'BIGINT', 'b': 'BIGINT', 'c': 'BIGINT', 'x': 'DOUBLE', 's': 'VARCHAR'})",
];

// db-benchmark's join setup: integer ids INTEGER, id4..id6 VARCHAR, v DOUBLE.
const JOIN_LOAD = (f) => {
  const r = joinFiles(f);
  const load = (t, file) => `CREATE TABLE ${t} AS SELECT * FROM read_csv('${file}', header = true)`;
  return [load('x', f), load('small', r.small), load('medium', r.medium), load('big', r.big)];
};

// kind: which data the case reads; sql: the timed statement; chk: sums of the
// result (one row), in the order bench_common.h's drivers print them.
const CASES = {
  csv_load: { kind: 'csv', sql: (f) => `CREATE TABLE ans AS SELECT * FROM read_csv('${f}')` },
  q1: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id1, sum(v1) AS v1 FROM x GROUP BY id1',
        chk: 'sum(v1)' },
  q2: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id1, id2, sum(v1) AS v1 FROM x GROUP BY id1, id2',
        chk: 'sum(v1)' },
  q3: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM x GROUP BY id3',
        chk: 'sum(v1), sum(v3)' },
  q4: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 ' +
        'FROM x GROUP BY id4', chk: 'sum(v1), sum(v2), sum(v3)' },
  q5: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 ' +
        'FROM x GROUP BY id6', chk: 'sum(v1), sum(v2), sum(v3)' },
  q6: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id4, id5, quantile_cont(v3, 0.5) AS median_v3, ' +
        'stddev(v3) AS sd_v3 FROM x GROUP BY id4, id5', chk: 'sum(median_v3), sum(sd_v3)' },
  q7: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id3, max(v1) - min(v2) AS range_v1_v2 ' +
        'FROM x GROUP BY id3', chk: 'sum(range_v1_v2)' },
  q8: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id6, v3 AS largest2_v3 FROM (SELECT id6, v3, ' +
        'row_number() OVER (PARTITION BY id6 ORDER BY v3 DESC) AS order_v3 FROM x ' +
        'WHERE v3 IS NOT NULL) sub_query WHERE order_v3 <= 2', chk: 'sum(largest2_v3)' },
  q9: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 ' +
        'FROM x GROUP BY id2, id4', chk: 'sum(r2)' },
  q10: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, ' +
         'count(*) AS count FROM x GROUP BY id1, id2, id3, id4, id5, id6', chk: 'sum(v3), sum(count)' },
  // Beyond db-benchmark: a filter (and a computed column) before the group-by.
  qf1: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id1, sum(v3) AS v3, count(*) AS count FROM x ' +
         'WHERE v1 > 2 GROUP BY id1', chk: 'sum(v3), sum(count)' },
  qf2: { kind: 'g1', sql: 'CREATE TABLE ans AS SELECT id2, id4, sum(v1 * v3) AS w, avg(v3) AS v3 FROM x ' +
         'WHERE v2 <= 5 AND v3 > 50 GROUP BY id2, id4', chk: 'sum(w), sum(v3)' },
  filter_i64_1pct: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT a FROM t WHERE a < 10000',
                     chk: 'sum(a)' },
  filter_i64_30pct: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT a FROM t WHERE a < 300000',
                      chk: 'sum(a)' },
  filter_i64_80pct: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT a FROM t WHERE a < 800000',
                      chk: 'sum(a)' },
  filter_f64_30pct: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT x FROM t WHERE x < 0.3',
                      chk: 'sum(x)' },
  filter_str_eq: { kind: 'filter', sql: "CREATE TABLE ans AS SELECT s FROM t WHERE s = 's042'",
                   chk: 'sum(length(s))' },
  filter_mixed_30pct: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT * FROM t WHERE a < 300000',
                        chk: 'sum(a), sum(b), sum(c), sum(x), sum(length(s))' },
  filter_expr: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT a, b, c FROM t WHERE a * 2 + b > c',
                 chk: 'sum(a), sum(b), sum(c)' },
  eval_expr: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT a * 2 + b > c AS r FROM t',
               chk: 'count(*) FILTER (WHERE r)' },
  j1: { kind: 'join', sql: 'CREATE TABLE ans AS SELECT x.*, small.id4 AS small_id4, small.v2 ' +
        'FROM x JOIN small USING (id1)', chk: 'sum(v1), sum(v2)' },
  j2: { kind: 'join', sql: 'CREATE TABLE ans AS SELECT x.*, medium.id1 AS medium_id1, ' +
        'medium.id4 AS medium_id4, medium.id5 AS medium_id5, medium.v2 FROM x JOIN medium USING (id2)',
        chk: 'sum(v1), sum(v2)' },
  j3: { kind: 'join', sql: 'CREATE TABLE ans AS SELECT x.*, medium.id1 AS medium_id1, ' +
        'medium.id4 AS medium_id4, medium.id5 AS medium_id5, medium.v2 FROM x LEFT JOIN medium USING (id2)',
        chk: 'sum(v1), sum(v2)' },
  j4: { kind: 'join', sql: 'CREATE TABLE ans AS SELECT x.*, medium.id1 AS medium_id1, ' +
        'medium.id2 AS medium_id2, medium.id4 AS medium_id4, medium.v2 FROM x JOIN medium USING (id5)',
        chk: 'sum(v1), sum(v2)' },
  j5: { kind: 'join', sql: 'CREATE TABLE ans AS SELECT x.*, big.id1 AS big_id1, big.id2 AS big_id2, ' +
        'big.id4 AS big_id4, big.id5 AS big_id5, big.id6 AS big_id6, big.v2 FROM x JOIN big USING (id3)',
        chk: 'sum(v1), sum(v2)' },
  sort_i64: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT * FROM t ORDER BY a',
              chk: 'sum(a)', first: 'a' },
  sort_f64: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT * FROM t ORDER BY x',
              chk: 'sum(x)', first: 'x' },
  sort_str: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT * FROM t ORDER BY s',
              chk: 'sum(length(s))' },
  sort_two: { kind: 'filter', sql: 'CREATE TABLE ans AS SELECT * FROM t ORDER BY s, a',
              chk: 'sum(a)', first: 'a' },
};

async function scalarRow(con, sql) {
  const r = await con.runAndReadAll(sql);
  return r.getRows()[0];
}

async function main() {
  const args = parseArgs(process.argv, 'duckdb.js');
  for (const c of args.cases)
    if (!CASES[c]) { process.stderr.write(`duckdb.js: unknown case '${c}'\n`); process.exit(2); }
  const f = args.file.replace(/'/g, "''");
  const inst = await duckdb.DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run(`SET threads = ${args.threads}`);
  const version = String((await scalarRow(con, 'SELECT version()'))[0]);
  const kinds = new Set(args.cases.map((c) => CASES[c].kind));
  if (kinds.has('g1')) for (const s of G1_LOAD(f)) await con.run(s);
  if (kinds.has('filter')) for (const s of FILTER_LOAD(f)) await con.run(s);
  if (kinds.has('join')) for (const s of JOIN_LOAD(f)) await con.run(s);
  const table = kinds.has('filter') ? 't' : 'x';
  let rowsIn = 0;
  if (kinds.has('g1') || kinds.has('filter') || kinds.has('join'))
    rowsIn = num((await scalarRow(con, `SELECT count(*) FROM ${table}`))[0]);

  for (const name of args.cases) {
    const c = CASES[name];
    const sql = typeof c.sql === 'function' ? c.sql(f) : c.sql;
    const secs = [], cpu = [];
    let rssFirst;
    let rows = 0, checksum = [];
    for (let r = 0; r < args.runs; r++) {
      await con.run('DROP TABLE IF EXISTS ans');
      const c0 = cpuS(), t0 = nowS();
      await con.run(sql);
      secs.push(nowS() - t0);
      cpu.push(cpuS() - c0);
      if (r === 0) rssFirst = peakRssMb();
    }
    let chk = c.chk;
    if (name === 'csv_load') {
      const cols = (await con.runAndReadAll(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'ans'"))
        .getRows().map((r) => String(r[0]));
      chk = CSV_SUM_COLS.filter((k) => cols.includes(k)).map((k) => `sum(${k})`).join(', ');
    }
    const row = await scalarRow(con, `SELECT count(*)${chk ? ', ' + chk : ''} FROM ans`);
    rows = num(row[0]);
    checksum = row.slice(1);
    if (name === 'csv_load') rowsIn = rows;
    if (c.first) {
      // sort cases: the first row's keys prove the order (not just the sums)
      const fr = await scalarRow(con, `SELECT ${c.first} FROM ans LIMIT 1`);
      checksum = checksum.concat(fr);
    }
    await con.run('DROP TABLE IF EXISTS ans');
    printResult({ system: 'duckdb', version, case: name, data: args.data, rowsIn,
                  threads: args.threads, secs, cpu, rssFirst, rows, checksum });
  }
}

main().catch((e) => { process.stderr.write(`duckdb.js: ${e.stack || e}\n`); process.exit(1); });
