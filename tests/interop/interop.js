// interop.js - the JavaScript half of `make interop` (driven by run.sh):
//
//   node interop.js gen DIR            DIR/source.csv + DIR/expected.json
//   node interop.js read-ours DIR F... check files/streams gf wrote with
//                                      apache-arrow and nodejs-polars
//   node interop.js write-theirs DIR   apache-arrow and polars write IPC files
//                                      and streams into DIR/theirs/ (listed in
//                                      DIR/theirs/manifest.txt)
//
// The modules come from the cache outside the clone (run.sh sets
// NODE_PATH). Every check prints one "PASS: ..." / "FAIL: ..." / "SKIP: ..."
// line; the exit status is 1 when any check failed.
"use strict";

const fs = require("fs");
const path = require("path");

let failures = 0;
function pass(what) {
  console.log(`PASS: ${what}`);
}
function fail(what, why) {
  console.log(`FAIL: ${what}: ${why}`);
  failures++;
}

// ---- the data set -------------------------------------------------------------------
//
// Columns and the Arrow type gf infers for each from the CSV:
//   i32 int32, i64 int64 (beyond 2^53), f64 float64, str utf8 (high
//   cardinality, quotes, commas, non-ASCII), cat dictionary<utf8> (5 levels),
//   flag bool, day date32, ts timestamp[us]. Every column has nulls.
// Expected values in JSON: int64 and timestamps as decimal strings (exact),
// dates as days since the epoch, timestamps as microseconds.
const ROWS = 2000;
const COLUMNS = ["i32", "i64", "f64", "str", "cat", "flag", "day", "ts"];
const LEVELS = ["red", "green", "blue", "grey, dark", "naïve"];

// A deterministic 64-bit LCG (Knuth's MMIX constants) on BigInt.
function rng(seed) {
  let s = BigInt(seed);
  const next = () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return s;
  };
  return {
    u32: () => Number(next() >> 32n),
    i64: () => BigInt.asIntN(64, next()),
    unit: () => Number(next() >> 11n) / 2 ** 53,
  };
}

function pad(n, w) {
  return String(n).padStart(w, "0");
}

// YYYY-MM-DD of `days` since 1970-01-01 (proleptic Gregorian, UTC).
function dayText(days) {
  const d = new Date(days * 86400000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

// YYYY-MM-DDTHH:MM:SS.ffffff of `us` microseconds since the epoch (BigInt).
function tsText(us) {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const frac = ((us % 1000000n) + 1000000n) % 1000000n;
  const d = new Date(Number(ms));
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    `.${pad(frac, 6)}`
  );
}

function csvField(s) {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// Builds the expected columns (JSON-friendly values, null for nulls).
function makeData() {
  const r = rng(20240607);
  const cols = Object.fromEntries(COLUMNS.map((c) => [c, []]));
  const alphabet = "abcdefghijklmnopqrstuvwxyz ,\"é漢Ω-";
  for (let i = 0; i < ROWS; i++) {
    const isNull = () => r.u32() % 10 === 0;
    cols.i32.push(isNull() ? null : (r.u32() % 4000001) - 2000000);
    cols.i64.push(isNull() ? null : String(r.i64() >> 2n));
    // Below 2^53: gf reads an integral text beyond it as text, not float.
    let x = (r.unit() - 0.5) * 10 ** ((r.u32() % 36) - 20);
    if (Object.is(x, -0)) x = 0;
    cols.f64.push(isNull() ? null : x);
    let s = "s" + i + "_";
    const n = r.u32() % 12;
    for (let k = 0; k < n; k++) s += alphabet[r.u32() % alphabet.length];
    cols.str.push(isNull() ? null : s);
    cols.cat.push(isNull() ? null : LEVELS[r.u32() % LEVELS.length]);
    cols.flag.push(isNull() ? null : r.u32() % 2 === 0);
    cols.day.push(isNull() ? null : (r.u32() % 80000) - 30000);
    // 1900..2100 with microsecond fractions.
    const us = BigInt(r.u32() % 6311390400) * 1000000n + BigInt(r.u32() % 1000000) - 2208988800000000n;
    cols.ts.push(isNull() ? null : String(us));
  }
  // Make sure i64 really needs 64 bits in the CSV reader's eyes.
  cols.i64[0] = "9007199254740993";
  cols.i64[1] = "-9223372036854775807";
  return cols;
}

function gen(dir) {
  const cols = makeData();
  const lines = [COLUMNS.join(",")];
  for (let i = 0; i < ROWS; i++) {
    const f = COLUMNS.map((c) => {
      const v = cols[c][i];
      if (v === null) return "";
      switch (c) {
        case "f64":
          return String(v);
        case "str":
        case "cat":
          return csvField(v);
        case "flag":
          return v ? "true" : "false";
        case "day":
          return dayText(v);
        case "ts":
          return tsText(BigInt(v));
        default:
          return String(v);
      }
    });
    lines.push(f.join(","));
  }
  fs.writeFileSync(path.join(dir, "source.csv"), lines.join("\n") + "\n");
  fs.writeFileSync(path.join(dir, "expected.json"), JSON.stringify({ rows: ROWS, columns: cols }));
  console.log(`gen: ${ROWS} rows into ${dir}/source.csv and expected.json`);
}

function loadExpected(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, "expected.json"), "utf8"));
}

// ---- comparing ------------------------------------------------------------------------

// Compares one column's actual values (already normalised to the JSON form)
// with the expected ones; returns a description of the first mismatch or "".
function diffValues(exp, act) {
  if (act.length !== exp.length) return `${act.length} values, expected ${exp.length}`;
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i];
    const a = act[i];
    const same = typeof e === "number" && typeof a === "number" ? Object.is(e, a) || e === a : e === a;
    if (!same) return `row ${i}: got ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`;
  }
  return "";
}

// Expected Arrow JS type names (String(vector.type)) per column.
const ARROW_TYPES = {
  i32: /^Int32$/,
  i64: /^Int64$/,
  f64: /^Float64$/,
  str: /^Utf8$/,
  cat: /^Dictionary<Int32, Utf8>$/,
  flag: /^Bool$/,
  day: /^Date32<DAY>$/,
  ts: /^Timestamp<MICROSECOND>$/,
};

// The raw storage value of row i (dates as days, timestamps as BigInt us),
// read from the chunk's values array: Vector.get converts them to ms.
function rawValue(vec, i) {
  let base = 0;
  for (const d of vec.data) {
    if (i < base + d.length) {
      const j = i - base;
      if (!vec.isValid(i)) return null;
      return d.values[d.offset + j];
    }
    base += d.length;
  }
  return undefined;
}

function checkArrowTable(label, table, expected) {
  let ok = true;
  if (table.numRows !== expected.rows) {
    fail(label, `${table.numRows} rows, expected ${expected.rows}`);
    return;
  }
  for (const c of COLUMNS) {
    const vec = table.getChild(c);
    if (!vec) {
      fail(label, `column ${c} missing`);
      ok = false;
      continue;
    }
    const t = String(vec.type);
    if (!ARROW_TYPES[c].test(t)) {
      fail(label, `column ${c} has type ${t}`);
      ok = false;
      continue;
    }
    const act = [];
    for (let i = 0; i < table.numRows; i++) {
      if (c === "day") act.push(rawValue(vec, i));
      else if (c === "ts") {
        const v = rawValue(vec, i);
        act.push(v === null ? null : String(v));
      } else {
        const v = vec.get(i);
        act.push(v === null || v === undefined ? null : typeof v === "bigint" ? String(v) : v);
      }
    }
    const d = diffValues(expected.columns[c], act);
    if (d) {
      fail(label, `column ${c}: ${d}`);
      ok = false;
    }
  }
  if (ok) pass(`${label}: ${table.numRows} rows, 8 columns, types and values equal`);
}

// Polars dtype names (String(dtype)) per column.
const POLARS_TYPES = {
  i32: /Int32/,
  i64: /Int64/,
  f64: /Float64/,
  str: /String|Utf8/,
  cat: /Categorical|Enum/,
  flag: /Bool/,
  day: /Date\b/,
  ts: /Datetime\(us/,
};

// Compares a polars DataFrame: integers and timestamps through exact string
// casts (toArray turns Int64 into lossy JS numbers), dates as day numbers.
function checkPolarsFrame(label, pl, df, expected, columns = COLUMNS) {
  let ok = true;
  if (df.height !== expected.rows) {
    fail(label, `${df.height} rows, expected ${expected.rows}`);
    return;
  }
  for (const c of columns) {
    let s;
    try {
      s = df.getColumn(c);
    } catch (e) {
      fail(label, `column ${c} missing`);
      ok = false;
      continue;
    }
    const t = String(s.dtype);
    if (!POLARS_TYPES[c].test(t)) {
      fail(label, `column ${c} has dtype ${t}`);
      ok = false;
      continue;
    }
    let act;
    if (c === "i64") act = s.cast(pl.Utf8).toArray();
    else if (c === "ts") act = s.cast(pl.Int64).cast(pl.Utf8).toArray();
    else if (c === "day") act = s.cast(pl.Int32).toArray();
    else if (c === "cat") act = s.cast(pl.Utf8).toArray();
    else act = s.toArray();
    act = act.map((v) => (v === undefined ? null : v));
    const d = diffValues(expected.columns[c], act);
    if (d) {
      fail(label, `column ${c}: ${d}`);
      ok = false;
    }
  }
  if (ok) pass(`${label}: ${df.height} rows, ${columns.length} columns, dtypes and values equal`);
}

// ---- files we wrote, read by them -------------------------------------------------------

function readOurs(dir, files) {
  const arrow = require("apache-arrow");
  const pl = require("nodejs-polars");
  const expected = loadExpected(dir);
  for (const f of files) {
    const name = path.basename(f);
    const isStream = f.endsWith(".arrows");
    const compressed = /-(lz4|zstd)\./.test(name);
    const bytes = fs.readFileSync(f);
    if (compressed) {
      // apache-arrow JS decodes compressed bodies only through codecs the
      // application registers (compressionRegistry); node has no LZ4 or
      // ZSTD built in, so only polars checks these.
      console.log(`SKIP: apache-arrow reads ${name}: no LZ4/ZSTD codec in apache-arrow JS without extra packages`);
    } else {
      try {
        const t = arrow.tableFromIPC(bytes);
        checkArrowTable(`apache-arrow reads our ${isStream ? "stream" : "file"} ${name}`, t, expected);
        // The reader class must match the container (file vs stream).
        const r = arrow.RecordBatchReader.from(bytes);
        if (r.isFile() === isStream) fail(`apache-arrow container of ${name}`, `isFile() is ${r.isFile()}`);
        else pass(`apache-arrow sees ${name} as an IPC ${isStream ? "stream" : "file"}`);
      } catch (e) {
        fail(`apache-arrow reads our ${name}`, e.message);
      }
    }
    try {
      const df = isStream ? pl.readIPCStream(bytes) : pl.readIPC(bytes);
      checkPolarsFrame(`polars reads our ${isStream ? "stream" : "file"} ${name}`, pl, df, expected);
    } catch (e) {
      fail(`polars reads our ${name}`, e.message);
    }
  }
}

// ---- files they write, for us to read ------------------------------------------------------

// An apache-arrow vector of `type` whose storage is `values` (nulls as
// cleared validity bits), converted into a `Typed` array by `conv`.
function rawVector(arrow, type, values, Typed, conv) {
  const data = new Typed(values.length);
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  values.forEach((v, i) => {
    if (v === null) nulls++;
    else {
      data[i] = conv(v);
      bitmap[i >> 3] |= 1 << (i & 7);
    }
  });
  return arrow.makeVector(
    arrow.makeData({ type, length: values.length, nullCount: nulls, nullBitmap: bitmap, data }),
  );
}

function arrowTable(arrow, expected) {
  const c = expected.columns;
  const raw = (type, values, Typed, conv) => rawVector(arrow, type, values, Typed, conv);
  const toBig = (v) => (v === null ? null : BigInt(v));
  const vectors = {
    i32: arrow.vectorFromArray(c.i32, new arrow.Int32()),
    i64: arrow.vectorFromArray(c.i64.map(toBig), new arrow.Int64()),
    f64: arrow.vectorFromArray(c.f64, new arrow.Float64()),
    str: arrow.vectorFromArray(c.str, new arrow.Utf8()),
    cat: arrow.vectorFromArray(c.cat, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
    flag: arrow.vectorFromArray(c.flag, new arrow.Bool()),
    // Dates and timestamps built from their storage values: vectorFromArray
    // takes milliseconds and would drop the microseconds.
    day: raw(new arrow.DateDay(), c.day, Int32Array, (v) => v),
    ts: raw(new arrow.TimestampMicrosecond(), c.ts, BigInt64Array, (v) => BigInt(v)),
  };
  return new arrow.Table(vectors);
}

function polarsFrame(pl, expected, columns) {
  const c = expected.columns;
  const series = [];
  for (const name of columns) {
    let s;
    switch (name) {
      case "i32":
        s = pl.Series(name, c.i32, pl.Int32);
        break;
      case "i64":
        s = pl.Series(name, c.i64, pl.Utf8).cast(pl.Int64);
        break;
      case "f64":
        s = pl.Series(name, c.f64, pl.Float64);
        break;
      case "str":
        s = pl.Series(name, c.str, pl.Utf8);
        break;
      case "cat":
        s = pl.Series(name, c.cat, pl.Utf8).cast(pl.Categorical);
        break;
      case "flag":
        s = pl.Series(name, c.flag, pl.Bool);
        break;
      case "day":
        s = pl.Series(name, c.day, pl.Int32).cast(pl.Date);
        break;
      case "ts":
        s = pl.Series(name, c.ts, pl.Utf8).cast(pl.Int64).cast(pl.Datetime("us"));
        break;
    }
    series.push(s);
  }
  return pl.DataFrame(series);
}

function writeTheirs(dir) {
  const arrow = require("apache-arrow");
  const pl = require("nodejs-polars");
  const expected = loadExpected(dir);
  const out = path.join(dir, "theirs");
  fs.mkdirSync(out, { recursive: true });
  // manifest: FILE<TAB>COLUMNS<TAB>WHAT, one line per file; COLUMNS is the
  // comma-separated list the file holds, in order.
  const manifest = [];
  const all = COLUMNS.join(",");
  const write = (name, bytes, columns, what) => {
    fs.writeFileSync(path.join(out, name), bytes);
    manifest.push(`${name}\t${columns}\t${what}`);
  };
  const table = arrowTable(arrow, expected);
  // Check the table itself first, so a mismatch later is ours to explain.
  checkArrowTable("apache-arrow table built for writing", table, expected);
  write("arrowjs.arrow", arrow.tableToIPC(table, "file"), all, "apache-arrow tableToIPC file");
  write("arrowjs.arrows", arrow.tableToIPC(table, "stream"), all, "apache-arrow tableToIPC stream");

  const df = polarsFrame(pl, expected, COLUMNS);
  checkPolarsFrame("polars frame built for writing", pl, df, expected);
  // writeIPCStream writes large_utf8 strings; writeIPC (the "newest"
  // format) writes strings and categorical values as utf8_view, which gf
  // does not read yet, so it gets the frame without them and, separately,
  // the full frame (run.sh expects a clean refusal naming utf8_view).
  for (const codec of ["uncompressed", "lz4", "zstd"]) {
    const tag = codec === "uncompressed" ? "" : `-${codec}`;
    write(`polars-stream${tag}.arrows`, df.writeIPCStream({ compression: codec }), all,
          `polars writeIPCStream ${codec}`);
    // Categoricals are utf8_view dictionaries in this format too.
    const noStr = df.drop("str", "cat");
    const cols = COLUMNS.filter((c) => c !== "str" && c !== "cat").join(",");
    write(`polars-file-nostr${tag}.arrow`, noStr.writeIPC({ compression: codec }), cols,
          `polars writeIPC ${codec} (no string or categorical column)`);
  }
  write("polars-file-newest.arrow", df.writeIPC({ compression: "uncompressed" }), all,
        "polars writeIPC uncompressed (strings as utf8_view)");
  // sinkIpc with compatLevel "oldest" writes plain large_utf8 files.
  df.lazy().sinkIpc(path.join(out, "polars-file-oldest.arrow"), { compatLevel: "oldest" }).collectSync();
  manifest.push(`polars-file-oldest.arrow\t${all}\tpolars sinkIpc compatLevel oldest`);
  df.lazy()
    .sinkIpc(path.join(out, "polars-file-oldest-zstd.arrow"), { compatLevel: "oldest", compression: "zstd" })
    .collectSync();
  manifest.push(`polars-file-oldest-zstd.arrow\t${all}\tpolars sinkIpc compatLevel oldest zstd`);
  fs.writeFileSync(path.join(out, "manifest.txt"), manifest.join("\n") + "\n");
  pass(`apache-arrow and polars wrote ${manifest.length} IPC files/streams into ${out}`);
}

// ---- main ------------------------------------------------------------------------

function main() {
  const [mode, dir, ...rest] = process.argv.slice(2);
  if (!mode || !dir) {
    console.error("usage: node interop.js gen|read-ours|write-theirs DIR [FILES...]");
    process.exit(2);
  }
  try {
    if (mode === "gen") gen(dir);
    else if (mode === "read-ours") readOurs(dir, rest);
    else if (mode === "write-theirs") writeTheirs(dir);
    else {
      console.error(`interop.js: unknown mode ${mode}`);
      process.exit(2);
    }
  } catch (e) {
    fail(`interop.js ${mode}`, e.stack || e.message);
  }
  process.exit(failures ? 1 : 0);
}

main();
