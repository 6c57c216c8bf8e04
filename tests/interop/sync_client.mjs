// Syncs a cr-sqlite database (crsqlite-wasm) with a vlcn WebSocket server
// through the published client (@vlcn.io/ws-client), with the statements
// of the vlcn browser provider: local changes are pulled with site_id NULL,
// received ones recorded under the sender's site id with its last-seen
// position. Used by the test peer and the quickstart.
import { WebSocket } from "ws";

const { createSyncedDB, defaultConfig } = await import("@vlcn.io/ws-client");
const { default: tblrx } = await import("@vlcn.io/rx-tbl");
// ws-client opens its socket with the browser API. A browser reports a
// failed or cut connection as an event and closes the socket; Node's `ws`
// throws an unheard "error" event instead, which would end the process.
class BrowserWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.on("error", () => {});
  }
}
globalThis.WebSocket = BrowserWebSocket;

// One change notifier for a database's life: disposing one while its timer
// is pending throws in that timer (and ends the process).
export const changeNotifier = (db) => tblrx(db);

// The database as ws-client drives it, with the statements of the vlcn
// browser provider: local changes are pulled with site_id NULL, received
// ones recorded under the sender's site id with its last-seen position.
async function syncedDatabase(db, rx, announced) {
  const pull = await db.prepare(
    `SELECT "table", pk, cid, val, col_version, db_version, NULL, cl, seq
       FROM crsql_changes WHERE db_version > ? AND site_id IS NOT ?`);
  pull.raw(true);
  const apply = await db.prepare(
    `INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const track = await db.prepare(
    `INSERT INTO crsql_tracked_peers (site_id, event, version, seq, tag) VALUES (?, 0, ?, ?, 0)
     ON CONFLICT DO UPDATE SET version = MAX(version, excluded.version),
       seq = CASE version > excluded.version WHEN 1 THEN seq ELSE excluded.seq END`);
  const siteid = (await db.execA(`SELECT crsql_site_id()`))[0][0];
  return {
    siteid,
    async pullChangeset(since, excludeSites) {
      const rows = await pull.all(null, since[0], excludeSites[0]);
      for (const c of rows) {
        c[4] = BigInt(c[4]);
        c[5] = BigInt(c[5]);
        c[7] = BigInt(c[7]);
      }
      return rows;
    },
    async applyChangesetAndSetLastSeen(changes, sender, end) {
      await db.tx(async (tx) => {
        for (const c of changes) await apply.run(tx, c[0], c[1], c[2], c[3], c[4], c[5], sender, c[7], c[8]);
        await track.run(tx, sender, end[0], end[1]);
      });
    },
    async getLastSeens() {
      const rows = await db.execA(`SELECT site_id, version, seq FROM crsql_tracked_peers`);
      return rows.map((r) => [r[0], [BigInt(r[1]), r[2]]]);
    },
    async getSchemaNameAndVersion() {
      return [announced[0], BigInt(announced[1])];
    },
    onChange(callback) {
      return rx.onAny(() => callback());
    },
    close() {},
  };
}

const hex = (u8) => Buffer.from(u8).toString("hex");
const unhex = (s) => Uint8Array.from(Buffer.from(s, "hex"));

// Starts syncing `db` (whose schema is `announced`, [name, version]) with
// the server at options.url in options.room; returns what stop() ends.
export async function startSync(db, rx, announced, options) {
  const database = await syncedDatabase(db, rx, announced);
  const synced = await createSyncedDB(
    { dbProvider: async () => database, transportProvider: defaultConfig.transportProvider }, "peer", options);
  await synced.start();
  return synced;
}
