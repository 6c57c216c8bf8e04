// The quickstart's two app users: alice and bob, each with a local
// cr-sqlite database (crsqlite-wasm, as in a browser), sync a todo list
// with Postgres through crbridge, edit it offline while the app writes the
// same row in Postgres, and converge. Prints what happens; exits 1 when
// something does not arrive in time.
//   node quickstart.mjs WS_URL CLIENT_SCHEMA_FILE POSTGRES_URL
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { sqlite } from "./crsqlite.mjs";
import { changeNotifier, startSync } from "./sync_client.mjs";

const [url, schemaFile, postgresUrl] = process.argv.slice(2);
const schema = fs.readFileSync(schemaFile, "utf8");
const psql = (sql) => execFileSync("psql", [postgresUrl, "-Atc", sql], { encoding: "utf8" }).trim();
const room = "groceries";

async function user(name) {
  const db = await sqlite.open(":memory:");
  await db.automigrateTo("todo_app", schema);
  const version = await db.execA(`SELECT CAST(value AS TEXT) FROM crsql_master WHERE key = 'schema_version'`);
  const rx = changeNotifier(db);
  let synced = null;
  return {
    name,
    exec: (sql) => db.exec(sql),
    async online() {
      synced = await startSync(db, rx, ["todo_app", version[0][0]], { url, room });
    },
    offline() {
      synced.stop();
      synced = null;
    },
    async milk() {
      const rows = await db.execA(`SELECT title, done, position FROM todos WHERE id = 'milk'`);
      return rows.length ? `${rows[0][0]} | done=${rows[0][1]} | position=${rows[0][2] ?? ""}` : "(none)";
    },
    async lists() {
      return (await db.execA(`SELECT name FROM todo_lists`)).map((r) => r[0]).join(", ");
    },
  };
}

const postgresMilk = () =>
  psql(`SELECT coalesce((SELECT title || ' | done=' || done::int || ' | position=' || coalesce(position::text, '')
                           FROM todos WHERE id = 'milk'), '(none)')`);

async function until(what, check) {
  for (let waited = 0; waited < 20000; waited += 50) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.stderr.write(`quickstart: timed out waiting for ${what}\n`);
  process.exit(1);
}

const alice = await user("alice");
const bob = await user("bob");
await alice.online();
await bob.online();
await until("the list from Postgres", async () => (await alice.lists()) && (await bob.lists()));
console.log(`alice and bob are online in room "${room}"; both have the list "${await alice.lists()}" from Postgres`);

await alice.exec(`INSERT INTO todos (id, list_id, title, done) VALUES ('milk', '${room}', 'milk', 0)`);
await until("bob to get alice's todo", async () => (await bob.milk()) !== "(none)");
await until("Postgres to get alice's todo", async () => postgresMilk() !== "(none)");
console.log(`alice adds "milk": bob has it, and so has Postgres: ${postgresMilk()}`);

alice.offline();
bob.offline();
await alice.exec(`UPDATE todos SET title = 'oat milk' WHERE id = 'milk'`);
await bob.exec(`UPDATE todos SET done = 1 WHERE id = 'milk'`);
psql(`UPDATE todos SET position = 1.5 WHERE id = 'milk'`);
console.log(`offline, alice renames it to "oat milk" and bob ticks it off; the app sets its position in psql`);

await alice.online();
await bob.online();
const agreed = async () => {
  const want = postgresMilk();
  return want === (await alice.milk()) && want === (await bob.milk()) && want.startsWith("oat milk | done=1");
};
await until("alice, bob and Postgres to converge", agreed);
console.log(`back online, all three agree:`);
console.log(`  alice:    ${await alice.milk()}`);
console.log(`  bob:      ${await bob.milk()}`);
console.log(`  postgres: ${postgresMilk()}`);
process.exit(0);
