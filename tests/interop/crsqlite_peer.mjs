#!/usr/bin/env node
// crsqlite_peer: one real cr-sqlite database (@vlcn.io/crsqlite-wasm),
// driven by JSON lines on stdin, one JSON reply per line on stdout, in
// order: {"ok":true,...} or {"ok":false,"error":"..."}.
//
// Values keep SQLite's storage classes apart: null, {"i":"123"} integer,
// {"f":1.5} float, {"s":"text"}, {"b":"hex"} blob.
//
// Ops:
//   exec    {sql}               run statements (SQL literals, no parameters)
//   query   {sql}               rows; every column is read with typeof(), so
//                               the statement must select pairs
//                               typeof(x), x
//   changes {since, exclude?}   crsql_changes after a db_version, optionally
//                               without one site's (hex site id)
//   apply   {changes}           merge changes (as `changes` returns them) in
//                               one transaction
//   automigrate {schema_name, schema}
//                               apply a schema the way vlcn apps do
//                               (automigrateTo); returns the schema name and
//                               version the client then announces
//   site                        this database's site id (hex)
//   connect {url, room, token?} sync with a vlcn WebSocket server through
//                               the published client (@vlcn.io/ws-client),
//                               as a browser app does (after automigrate)
//   disconnect                  stop syncing
//   quit
import readline from "node:readline";
import { sqlite, encodeValue, decodeValue } from "./crsqlite.mjs";
import { startSync, changeNotifier } from "./sync_client.mjs";

const db = await sqlite.open(":memory:");
const rx = changeNotifier(db);
const hex = (u8) => Buffer.from(u8).toString("hex");
const unhex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
let announced = null;  // [schema name, version] once automigrated
let synced = null;

function typedRows(rows) {
  return rows.map((row) => {
    const out = [];
    for (let i = 0; i < row.length; i += 2) out.push(encodeValue(row[i], row[i + 1]));
    return out;
  });
}

// wa-sqlite binds a JS number with an integral value as an integer, and an
// empty Uint8Array as NULL; floats go through CAST(? AS REAL) and empty
// blobs are written as zeroblob(0) so that both keep their storage class.
const applySql = (valueSql) =>
  `INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq)
   VALUES (?, ?, ?, ${valueSql}, ?, ?, ?, ?, ?)`;

function valueSql(v) {
  if (v !== null && "f" in v) return "CAST(? AS REAL)";
  if (v !== null && "b" in v && v.b === "") return "zeroblob(0)";
  return "?";
}

const ops = {
  async exec({ sql }) {
    await db.exec(sql);
    return {};
  },
  async query({ sql }) {
    return { rows: typedRows(await db.execA(sql)) };
  },
  async changes({ since = 0, exclude = null }) {
    const rows = await db.execA(
      `SELECT "table", pk, cid, typeof(val), val, col_version, db_version, site_id, cl, seq
         FROM crsql_changes WHERE db_version > ? AND site_id IS NOT ? ORDER BY db_version, seq`,
      [since, exclude === null ? null : unhex(exclude)]);
    return {
      changes: rows.map((r) => [r[0], hex(r[1]), r[2], encodeValue(r[3], r[4]), String(r[5]), String(r[6]),
                                r[7] === null ? null : hex(r[7]), String(r[8]), String(r[9])]),
    };
  },
  async apply({ changes }) {
    await db.tx(async (tx) => {
      for (const c of changes) {
        const sql = valueSql(c[3]);
        const params = [c[0], unhex(c[1]), c[2]];
        if (sql !== "zeroblob(0)") params.push(decodeValue(c[3]));
        params.push(BigInt(c[4]), BigInt(c[5]), c[6] === null ? null : unhex(c[6]), BigInt(c[7]), BigInt(c[8]));
        await tx.exec(applySql(sql), params);
      }
    });
    return {};
  },
  async automigrate({ schema_name, schema }) {
    await db.automigrateTo(schema_name, schema);
    const stored = await db.execA(
      `SELECT key, CAST(value AS TEXT) FROM crsql_master WHERE key IN ('schema_name', 'schema_version')`);
    const found = Object.fromEntries(stored.map(([key, value]) => [key, value]));
    announced = [found.schema_name, found.schema_version];
    return found;
  },
  async connect({ url, room, token }) {
    if (synced) throw new Error("already connected");
    if (!announced) throw new Error("automigrate first");
    synced = await startSync(db, rx, announced, { url, room, authToken: token });
    return {};
  },
  async disconnect() {
    if (synced) synced.stop();
    synced = null;
    return {};
  },
  async site() {
    return { site_id: hex((await db.execA(`SELECT crsql_site_id()`))[0][0]) };
  },
  async quit() {
    setImmediate(() => process.exit(0));
    return {};
  },
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let reply;
  try {
    const req = JSON.parse(line);
    const fn = ops[req.op];
    if (!fn) throw new Error(`unknown op ${req.op}`);
    reply = { ok: true, ...(await fn(req)) };
  } catch (e) {
    reply = { ok: false, error: String((e && e.message) || e) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
process.exit(0);
