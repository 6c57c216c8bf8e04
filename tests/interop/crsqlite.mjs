// Loads the published cr-sqlite wasm build under Node.js and opens
// databases with it, as a web app would.
import fs from "node:fs";

// crsqlite-wasm fetches its .wasm file; answer file: URLs from disk.
const networkFetch = globalThis.fetch;
globalThis.fetch = async (url, ...rest) => {
  const s = String(url);
  if (s.startsWith("file:")) {
    return new Response(fs.readFileSync(new URL(s)), { headers: { "content-type": "application/wasm" } });
  }
  return networkFetch(url, ...rest);
};

// Node has no IndexedDB: crsqlite-wasm's optional IndexedDB file system
// fails to start, asynchronously, which does not affect :memory: databases.
// Anything else is fatal, as usual.
// ws-client closing a socket that is still connecting (a test disconnects
// right after connecting) makes ws report an error the same way; the
// connection is simply not made.
process.on("uncaughtException", (e) => {
  if (String(e && e.stack).includes("IDBBatchAtomicVFS")) return;
  if (String(e && e.message).includes("WebSocket was closed before the connection was established")) return;
  process.stderr.write(`${(e && e.stack) || e}\n`);
  process.exit(1);
});

const { default: initWasm } = await import("@vlcn.io/crsqlite-wasm");
const wasmUrl = new URL(import.meta.resolve("@vlcn.io/crsqlite-wasm/crsqlite.wasm")).href;
export const sqlite = await initWasm(() => wasmUrl);

// Values as JSON that keeps SQLite's storage classes apart:
// null, {"i":"123"} integer, {"f":1.5} float, {"s":"text"}, {"b":"hex"} blob.
export function encodeValue(type, v) {
  switch (type) {
    case "null": return null;
    case "integer": return { i: BigInt(v).toString() };
    case "real": return { f: Number(v) };
    case "text": return { s: v };
    case "blob": return { b: Buffer.from(v).toString("hex") };
  }
  throw new Error(`unknown type ${type}`);
}

export function decodeValue(v) {
  if (v === null) return null;
  if ("i" in v) return BigInt(v.i);
  if ("f" in v) return v.f;
  if ("s" in v) return v.s;
  if ("b" in v) return Uint8Array.from(Buffer.from(v.b, "hex"));
  throw new Error(`bad value ${JSON.stringify(v)}`);
}
