#!/usr/bin/env node
// Prints golden bytes produced by the published packages, one
// "name<TAB>hex" line each: packed primary keys from @vlcn.io/crsqlite-wasm
// (crsql_pack_columns over SQL literals, name = the literals) and vlcn
// messages from @vlcn.io/ws-common's encoder. tests/data/*.golden hold the
// output; the interop tests check that they still match.
import { sqlite } from "./crsqlite.mjs";
import { encode } from "@vlcn.io/ws-common";

const which = process.argv[2];
const hex = (u8) => Buffer.from(u8).toString("hex");
// Collected and written once: process.exit would cut a pipe's pending writes.
const lines = [];

if (which === "packed_pk") {
  const db = await sqlite.open(":memory:");
  const cases = [
    "0", "1", "127", "128", "255", "256", "65535", "65536", "16777215", "16777216", "2147483647", "2147483648",
    "4294967296", "1099511627776", "281474976710656", "72057594037927936", "9007199254740993", "9223372036854775807",
    "-1", "-5", "-128", "-2147483648", "-9223372036854775808",
    "1.5", "-0.25", "0.0", "-0.0", "1e300", "3.141592653589793",
    "''", "'a'", "'héllo'", "'" + "x".repeat(255) + "'", "'" + "y".repeat(256) + "'",
    "x''", "x'00'", "x'0102ff'", "zeroblob(300)", "zeroblob(65536)",
    "NULL",
    "'k', -5", "1, 'a', x'00', 2.0, NULL", "'list-1', 42", "x'deadbeef', 7, 'z'",
  ];
  for (const args of cases) {
    const rows = await db.execA(`SELECT crsql_pack_columns(${args})`);
    lines.push(`${args}\t${hex(rows[0][0])}`);
  }
} else if (which === "vlcn_messages") {
  const site = (b) => new Uint8Array(16).fill(b);
  const seq = Uint8Array.from({ length: 16 }, (_, i) => i);
  const messages = {
    announce_presence: { _tag: 1, sender: seq, lastSeens: [[site(0x11), [5n, 3]], [site(0x22), [0n, 0]]],
                         schemaName: "todo_app", schemaVersion: -123456789012345n },
    announce_presence_empty: { _tag: 1, sender: site(0xff), lastSeens: [], schemaName: "", schemaVersion: 0n },
    changes_every_value: { _tag: 2, sender: seq, since: [42n, 7], changes: [
      ["todos", new Uint8Array([1, 9, 1]), "-1", null, 1n, 3n, null, 1n, 0],
      ["todos", new Uint8Array([1, 9, 1]), "title", "héllo", 2n, 3n, site(0x33), 1n, 1],
      ["todos", new Uint8Array([1, 9, 1]), "n", 5n, 1n, 3n, null, 1n, 63],
      ["todos", new Uint8Array([1, 9, 1]), "n", -1n, 1n, 3n, null, 1n, 64],
      ["todos", new Uint8Array([1, 9, 1]), "n", 9223372036854775807n, 1n, 3n, null, 1n, 8191],
      ["todos", new Uint8Array([1, 9, 1]), "f", 1.5, 1n, 3n, null, 1n, 8192],
      ["todos", new Uint8Array([1, 9, 1]), "f", -0.0, 1n, 3n, null, 1n, 1000000],
      ["todos", new Uint8Array([1, 9, 1]), "t", "", 1n, 3n, null, 1n, 9007199254740991],
      ["todos", new Uint8Array([1, 9, 1]), "b", new Uint8Array([0, 255]), 1n, 3n, null, 2n, 2],
      ["todos", new Uint8Array([1, 9, 1]), "b", new Uint8Array([]), 9007199254740993n, -4n, null, 3n, 3],
    ] },
    changes_empty: { _tag: 2, sender: site(1), since: [0n, 0], changes: [] },
    reject_changes: { _tag: 3, whose: site(0x44), since: [9n, 300] },
    start_streaming: { _tag: 4, since: [0n, 0], excludeSites: [site(0x55)], localOnly: false },
    start_streaming_local_only: { _tag: 4, since: [77n, -2], excludeSites: [site(0x55), seq], localOnly: true },
    ping: { _tag: 7 },
    pong: { _tag: 8 },
    err: { _tag: 10, _reqid: 0, err: "schema mismatch: expected todo_app" },
    err_negative_reqid: { _tag: 10, _reqid: -3, err: "x" },
  };
  for (const [name, msg] of Object.entries(messages)) lines.push(`${name}\t${hex(encode(msg))}`);
  // Booleans only ever arrive from clients; they decode as 0 and 1.
  const bools = { _tag: 2, sender: seq, since: [1n, 0], changes: [
    ["todos", new Uint8Array([1, 9, 1]), "done", true, 1n, 1n, null, 1n, 0],
    ["todos", new Uint8Array([1, 9, 1]), "done", false, 1n, 1n, null, 1n, 1],
  ] };
  lines.push(`changes_booleans\t${hex(encode(bools))}`);
} else {
  process.stderr.write("usage: golden.mjs packed_pk|vlcn_messages\n");
  process.exit(2);
}
process.stdout.write(lines.join("\n") + "\n", () => process.exit(0));
