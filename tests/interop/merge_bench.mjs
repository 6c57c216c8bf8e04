#!/usr/bin/env node
// Times merging a changeset into the real cr-sqlite (crsqlite-wasm), for
// tests/bench/crr_merge_bench, which writes the workload file and runs this
// in the same run as its native measurements.
//   node merge_bench.mjs WORKLOAD.json
// The workload: {"schema": sql, "preload": [changes], "batches": [[changes]]},
// changes as crsqlite_peer.mjs speaks them. Prints one JSON line:
// {"changes": n, "seconds": s, "batch_ms": [per-batch milliseconds]}.
import fs from "node:fs";
import { sqlite, decodeValue } from "./crsqlite.mjs";

const workload = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const db = await sqlite.open(":memory:");
await db.exec(workload.schema);
const insert = await db.prepare(
  `INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
const unhex = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const bind = (c) => [c[0], unhex(c[1]), c[2], decodeValue(c[3]), BigInt(c[4]), BigInt(c[5]), unhex(c[6]),
                     BigInt(c[7]), BigInt(c[8])];

async function apply(changes) {
  await db.tx(async (tx) => {
    for (const c of changes) await insert.run(tx, ...c);
  });
}

await apply(workload.preload.map(bind));
const batches = workload.batches.map((b) => b.map(bind));
const batchMs = [];
let count = 0;
const started = process.hrtime.bigint();
for (const batch of batches) {
  const t = process.hrtime.bigint();
  await apply(batch);
  batchMs.push(Number(process.hrtime.bigint() - t) / 1e6);
  count += batch.length;
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ changes: count, seconds, batch_ms: batchMs }) + "\n", () => process.exit(0));
