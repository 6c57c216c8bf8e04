// SyncStore against the real Postgres, MariaDB and MySQL fixtures (every
// test runs on each), with native CRR databases as clients: merges, pulls, canonical
// values, refusals (values a column cannot hold, NaN and infinities), and
// the properties of docs/server-side.md (P1
// convergence, P2 and P7 durability across a database crash, P5 gapless
// pulls, P6 idempotence).
#include "crbridge/server/core/sync_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "crbridge/mappings/client_schema.h"
#include "crbridge/sqlite/crr.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/text_encoding.h"
#include "databases/test_databases.h"
#include "peers/sync_peers.h"
#include "todo_app/shared_lists.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

class SyncStoreTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(SyncStoreTest, ClientWritesReachTheServerAndOtherClients) {
  Server server(GetParam());
  Client alice(server);
  Client bob(server);
  alice.Exec("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries');"
             "INSERT INTO todos (id, list_id, title, done, position) VALUES ('t1', 'l1', 'milk', 0, 1.5);"
             "INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'bread');");
  { const Status pushed = alice.Push(server); ASSERT_TRUE(pushed.ok()) << pushed.ToString(); }
  EXPECT_EQ(ServerTodos(server), (std::vector<std::string>{"t1|l1|milk|0|1.5|NULL", "t2|l1|bread|0|NULL|NULL"}));
  EXPECT_EQ(server.Rows("todo_lists", "id, name"), (std::vector<std::string>{"l1|groceries"}));

  { const Status synced = bob.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  EXPECT_EQ(bob.Rows("todos", kTodoColumns), alice.Rows("todos", kTodoColumns));
  EXPECT_EQ(bob.Rows("todo_lists", "id, name"), (std::vector<std::string>{"l1|groceries"}));

  bob.Exec("UPDATE todos SET done = 1 WHERE id = 't1'; DELETE FROM todos WHERE id = 't2';");
  { const Status synced = bob.Push(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  { const Status synced = alice.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  EXPECT_EQ(alice.Rows("todos", "id, done"), (std::vector<std::string>{"t1|1"}));
  EXPECT_EQ(server.Rows("todos", "id, " + server.Int("done")), (std::vector<std::string>{"t1|1"}));
  PeerRecord tracked;
  ASSERT_TRUE(server.writer->GetPeer(bob.db->site_id(), &tracked).ok());
  EXPECT_EQ(tracked.applied.version, bob.sent);
}

Blob Key(const std::string& id) {
  const Value v = Value::Text(id);
  Blob pk;
  EXPECT_TRUE(EncodePackedPk(std::span(&v, 1), &pk).ok());
  return pk;
}

Change TodoChange(const std::string& id, const std::string& cid, Value val, int64_t col_version = 1, int64_t cl = 1) {
  return Change{"todos", Key(id), cid, std::move(val), col_version, 1, std::nullopt, cl, 0};
}

SiteId Site(uint8_t b) {
  SiteId s;
  s.fill(b);
  return s;
}

TEST_P(SyncStoreTest, WhatTheServerStoresWinsEverywhere) {
  Server server(GetParam());
  // What a JavaScript client sends: booleans and integers as floats, a
  // timestamp with an offset.
  MergeReport report;
  ASSERT_TRUE(server.store->Merge(Site(1),
                                  {TodoChange("t1", "list_id", Value::Text("l1")),
                                   TodoChange("t1", "done", Value::Float(1.0)),
                                   TodoChange("t1", "position", Value::Integer(2))},
                                  PeerVersion{1, 2}, &report)
                  .ok());
  EXPECT_EQ(report.applied, 3u);
  EXPECT_EQ(report.canonicalized, 2u);
  ASSERT_TRUE(server.store
                  ->Merge(Site(1),
                          {Change{"todo_lists", Key("l1"), "created_at", Value::Text("2024-01-02T05:00:00+02:00"), 1, 2,
                                  std::nullopt, 1, 0}},
                          PeerVersion{2, 0}, &report)
                  .ok());
  EXPECT_EQ(report.canonicalized, 1u);

  // The sender gets the server's forms back, one col_version up, from the server.
  PullBatch batch;
  ASSERT_TRUE(server.store->Pull(0, std::nullopt, Site(1), 100, &batch).ok());
  std::map<std::string, Change> by_column;
  for (const Change& c : batch.changes) by_column[c.cid] = c;
  EXPECT_EQ(by_column.count("list_id"), 0u) << "the sender's own value is not sent back";
  EXPECT_EQ(by_column["done"].val, Value::Integer(1));
  EXPECT_EQ(by_column["done"].col_version, 2);
  EXPECT_EQ(by_column["done"].site_id, server.writer->site_id());
  EXPECT_EQ(by_column["position"].val, Value::Float(2.0));
  // As the server prints the column: MariaDB's TIMESTAMP(6) with its six
  // fractional digits, Postgres's timestamptz without zero ones.
  const char* const utc = GetParam() == ServerKind::kPostgres ? "2024-01-02T03:00:00Z" : "2024-01-02T03:00:00.000000Z";
  EXPECT_EQ(by_column["created_at"].val, Value::Text(utc)) << by_column["created_at"].val.ToSql();
}

// A row that a sentinel alone created has no column clocks (its columns
// took their defaults); it must still reach other clients, as a sentinel.
TEST_P(SyncStoreTest, ARowWithoutColumnClocksIsSentAsItsSentinel) {
  Server server(GetParam());
  MergeReport report;
  ASSERT_TRUE(server.store
                  ->Merge(Site(1), {Change{"todo_lists", Key("l9"), "-1", Value::Null(), 1, 1, std::nullopt, 1, 0}},
                          PeerVersion{1, 0}, &report)
                  .ok());
  EXPECT_EQ(server.Rows("todo_lists", "id, name"), (std::vector<std::string>{"l9|"}));
  PullBatch batch;
  ASSERT_TRUE(server.store->Pull(0, std::string("l9"), Site(2), 10, &batch).ok());
  ASSERT_EQ(batch.changes.size(), 1u);
  EXPECT_EQ(batch.changes[0].cid, "-1");
  EXPECT_EQ(batch.changes[0].cl, 1);
  EXPECT_EQ(batch.changes[0].pk, Key("l9"));
}

TEST_P(SyncStoreTest, ARoomGetsItsRowsAndEveryRowOfTablesWithoutARoomColumn) {
  Server server(GetParam(), "  - name: todo_lists\n  - name: todos\n    room_column: list_id\n    exclude: [internal_note]\n");
  MergeReport report;
  Changeset changes;
  for (const char* list : {"l1", "l2"}) {
    changes.push_back(Change{"todo_lists", Key(list), "name", Value::Text(list), 1, 1, std::nullopt, 1, 0});
    changes.push_back(TodoChange(std::string("t-") + list, "list_id", Value::Text(list)));
  }
  ASSERT_TRUE(server.store->Merge(Site(1), changes, PeerVersion{1, 0}, &report).ok());
  PullBatch batch;
  ASSERT_TRUE(server.store->Pull(0, std::string("l1"), Site(2), 10, &batch).ok());
  std::set<std::string> rows;
  for (const Change& c : batch.changes) {
    std::vector<Value> key;
    ASSERT_TRUE(DecodePackedPk(c.pk, &key).ok());
    rows.insert(c.table + " " + key.at(0).text());
  }
  EXPECT_EQ(rows, (std::set<std::string>{"todo_lists l1", "todo_lists l2", "todos t-l1"}));
}

TEST_P(SyncStoreTest, AClientWritesOnlyWithinItsRoom) {
  Server server(GetParam());
  MergeReport report;
  const auto merge = [&](const Changeset& changes) {
    return server.store->Merge(Site(1), changes, PeerVersion{1, 0}, &report, std::string("l1"));
  };
  ASSERT_TRUE(server.store->Merge(Site(2), {TodoChange("t1", "list_id", Value::Text("l1")),
                                            TodoChange("t2", "list_id", Value::Text("l2"))},
                                  PeerVersion{1, 0}, &report)
                  .ok());
  EXPECT_TRUE(merge({TodoChange("t1", "title", Value::Text("mine"))}).ok());
  for (const Changeset& refused :
       {Changeset{TodoChange("t3", "list_id", Value::Text("l2"))},                        // a new row in another room
        Changeset{TodoChange("t1", "list_id", Value::Text("l2"), 2)},                     // moving a row out
        Changeset{TodoChange("t2", "title", Value::Text("theirs"))},                      // a row of another room
        Changeset{TodoChange("t1", "title", Value::Text("x"), 5), TodoChange("t2", "-1", Value::Null(), 2, 2)}}) {
    const Status s = merge(refused);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find("room"), std::string::npos) << s.message();
  }
  EXPECT_EQ(server.Rows("todos", "id, list_id, title"), (std::vector<std::string>{"t1|l1|mine", "t2|l2|"}));
}

// A client that creates a row and deletes it before it ever syncs sends
// the server only the row's tombstone, a sentinel with an even causal
// length: the server never had the row (t1), or had it only in the app
// table, not captured yet (t2). The tombstone must reach the clients of the
// row's room: one that created a row under the same key meanwhile (cl 1)
// has its writes outranked by the tombstone (cl 2) on the server, so unless
// it learns of the tombstone, it keeps the row forever.
TEST_P(SyncStoreTest, ATombstoneOfARowTheServerNeverHadReachesItsRoom) {
  Server server(GetParam());
  server.database->Sql("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'app')");
  Client alice(server);  // of room l1
  Client carol(server);  // of no room (a merge for every room)
  Client bob(server);    // of room l1
  alice.room = bob.room = "l1";
  alice.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'alice'); DELETE FROM todos;");
  carol.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'carol'); DELETE FROM todos;");
  bob.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'bob'), ('t2', 'l1', 'bob');");
  for (Client* client : {&alice, &carol, &bob}) {
    const Status pushed = client->Push(server);
    ASSERT_TRUE(pushed.ok()) << pushed.ToString();
  }
  EXPECT_EQ(ServerTodos(server), std::vector<std::string>{});
  { const Status synced = bob.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  EXPECT_EQ(bob.Rows("todos", "id"), std::vector<std::string>{}) << "bob did not learn of the tombstones";
  PullBatch batch;
  ASSERT_TRUE(server.store->Pull(0, std::string("l1"), std::nullopt, 10, &batch).ok());
  std::set<std::string> tombstones;
  for (const Change& c : batch.changes) {
    if (c.is_sentinel() && c.cl % 2 == 0) tombstones.insert(EncodeHex(c.pk));
  }
  EXPECT_EQ(tombstones, (std::set<std::string>{EncodeHex(Key("t1")), EncodeHex(Key("t2"))}));
}

// The app inserts a row again after a client deleted it, and a merge
// records that insert before capture does. A client that never saw the
// delete jumps to the new life, zeroing its column clocks and keeping its
// values as cr-sqlite does: every column of the new life must come with a
// clock of its own, also those whose values the dead row held before.
TEST_P(SyncStoreTest, AnAppInsertOfADeletedRowRecordedByAMergeSendsEveryColumn) {
  Server server(GetParam());
  Client alice(server);
  Client bob(server);
  alice.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk')");
  { const Status pushed = alice.Push(server); ASSERT_TRUE(pushed.ok()) << pushed.ToString(); }
  { const Status synced = bob.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  alice.Exec("UPDATE todos SET position = 2.5 WHERE id = 't1'");
  bob.Exec("DELETE FROM todos WHERE id = 't1'");
  { const Status pushed = bob.Push(server); ASSERT_TRUE(pushed.ok()) << pushed.ToString(); }
  server.database->Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk')");

  // Alice's update is of the row's first life: the new one outranks it.
  { const Status pushed = alice.Push(server); ASSERT_TRUE(pushed.ok()) << pushed.ToString(); }
  { const Status synced = alice.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  { const Status synced = bob.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  EXPECT_EQ(ServerTodos(server), (std::vector<std::string>{"t1|l1|milk|0|NULL|NULL"}));
  EXPECT_EQ(alice.Rows("todos", kTodoColumns), bob.Rows("todos", kTodoColumns));
  EXPECT_EQ(alice.Rows("todos", "id, position"), (std::vector<std::string>{"t1|NULL"}));
}

TEST_P(SyncStoreTest, AChangesetTwiceOrShuffledGivesTheSameTablesAndClocks) {
  Server first(GetParam());
  Server second(GetParam());
  Client alice(first);
  alice.Exec("INSERT INTO todos (id, list_id, title) VALUES ('a', 'l', 'one'), ('b', 'l', 'two');"
             "UPDATE todos SET title = 'uno' WHERE id = 'a'; DELETE FROM todos WHERE id = 'b';"
             "INSERT INTO todos (id, list_id, title) VALUES ('b', 'l', 'again');");
  Changeset changes;
  ASSERT_TRUE(alice.db->ChangesSince(0, std::nullopt, &changes).ok());
  MergeReport report;
  ASSERT_TRUE(first.store->Merge(alice.db->site_id(), changes, PeerVersion{9, 0}, &report).ok());
  const auto tables = ServerTodos(first);
  const auto clocks = first.Rows(first.ClockTable("todos"), "id, __cl, __col_versions");
  const auto stamped = first.Rows(first.ClockTable("todos"), "id, __cl, __col_versions, __db_version, __seq");
  ASSERT_TRUE(first.store->Merge(alice.db->site_id(), changes, PeerVersion{9, 0}, &report).ok());
  EXPECT_EQ(report.applied, 0u);
  EXPECT_EQ(report.db_version, 0) << "nothing won, so nothing was recorded";
  EXPECT_EQ(ServerTodos(first), tables);
  EXPECT_EQ(first.Rows(first.ClockTable("todos"), "id, __cl, __col_versions, __db_version, __seq"), stamped);

  std::mt19937 random(7);
  std::shuffle(changes.begin(), changes.end(), random);
  ASSERT_TRUE(second.store->Merge(alice.db->site_id(), changes, PeerVersion{9, 0}, &report).ok());
  EXPECT_EQ(ServerTodos(second), tables);
  EXPECT_EQ(second.Rows(second.ClockTable("todos"), "id, __cl, __col_versions"), clocks);
}

TEST_P(SyncStoreTest, BadChangesetsAreRefusedWithNothingApplied) {
  Server server(GetParam(), "  - name: todo_lists\n    writable: false\n  - name: todos\n    exclude: [internal_note]\n");
  // The column's type as the server names it.
  const std::string boolean = GetParam() == ServerKind::kPostgres ? "boolean" : "tinyint(1)";
  const Change good = TodoChange("t1", "list_id", Value::Text("l1"));
  Change bad_key = good;
  bad_key.pk = {0x01, 0x0b, 0x05, 'x'};
  const std::vector<std::pair<Change, std::string>> cases = {
      {Change{"nope", Key("x"), "a", Value::Null(), 1, 1, std::nullopt, 1, 0}, "unknown table \"nope\""},
      {TodoChange("t1", "internal_note", Value::Text("x")), "table todos has no column \"internal_note\""},
      {Change{"todo_lists", Key("l1"), "name", Value::Text("x"), 1, 1, std::nullopt, 1, 0},
       "table todo_lists is read-only for clients"},
      {TodoChange("t1", "done", Value::Text("yes")), "todos.done: cannot store 'yes' (text) in a " + boolean + " column"},
      {TodoChange("t1", "list_id", Value::Null()), "todos.list_id: cannot store NULL in a NOT NULL column"},
      {bad_key, "a change to todos has a malformed key"},
      {Change{"todos", [] {
                const Value v = Value::Float(1.5);
                Blob pk;
                EncodePackedPk(std::span(&v, 1), &pk);
                return pk;
              }(),
              "title", Value::Text("x"), 1, 1, std::nullopt, 1, 0},
       "not in the server's canonical form"},
      {TodoChange("t1", "title", Value::Text("x"), 1, 0), "clocks from clients must be between 1 and 2^62"},
  };
  for (const auto& [bad, message] : cases) {
    MergeReport report;
    const Status s = server.store->Merge(Site(3), {good, bad}, PeerVersion{5, 0}, &report);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << message;
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
  }
  EXPECT_TRUE(ServerTodos(server).empty());
  PeerRecord tracked;
  ASSERT_TRUE(server.writer->GetPeer(Site(3), &tracked).ok());
  EXPECT_EQ(tracked.applied.version, 0);
}

// Issue 16: values a column cannot hold are refused before any SQL runs,
// naming the table, the column and the rule, the value escaped; nothing of
// the changeset is written, and the next changeset goes through.
TEST_P(SyncStoreTest, ValuesAColumnCannotHoldAreRefusedNamingTableColumnAndRule) {
  Server server(GetParam());
  const bool postgres = GetParam() == ServerKind::kPostgres;
  const std::string text_type = postgres ? "text" : "varchar(500)";
  std::vector<std::pair<Change, std::string>> cases = {
      {TodoChange("t1", "title", Value::Text("caf\xe9")),
       "todos.title: cannot store 'caf\\xe9' (text) in a " + text_type + " column: text must be valid UTF-8"},
      {TodoChange("t1", "title", Value::Text(std::string("a\0b", 3))),
       "todos.title: cannot store 'a\\x00b' (text) in a " + text_type +
           " column: text must be valid UTF-8 without NUL bytes"},
      {TodoChange("t1", "due", Value::Text("2023-02-29")),
       "todos.due: cannot store '2023-02-29' (text) in a date column: not a day of the calendar"},
      {TodoChange("t1", "due", Value::Text("tomorrow")),
       "todos.due: cannot store 'tomorrow' (text) in a date column: expected YYYY-MM-DD"},
      {TodoChange("t1", "position", Value::Text("1,5")), "todos.position: cannot store '1,5' (text) in a double"},
  };
  if (!postgres) {
    cases.push_back({TodoChange("t1", "title", Value::Text(std::string(501, 'x'))), "longer than 500 characters"});
  }
  int64_t version_before = 0;
  ASSERT_TRUE(server.writer->DbVersion(&version_before).ok());
  for (const auto& [bad, message] : cases) {
    MergeReport report;
    const Status s = server.store->Merge(Site(3), {TodoChange("t1", "list_id", Value::Text("l1")), bad},
                                         PeerVersion{5, 1}, &report);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << message;
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
  }
  int64_t version_after = 0;
  ASSERT_TRUE(server.writer->DbVersion(&version_after).ok());
  EXPECT_EQ(version_after, version_before) << "no transaction was even begun";
  EXPECT_TRUE(ServerTodos(server).empty());

  MergeReport report;
  const Changeset good = {TodoChange("t1", "list_id", Value::Text("l1")), TodoChange("t1", "title", Value::Text("milk"))};
  const Status merged = server.store->Merge(Site(3), good, PeerVersion{6, 1}, &report);
  ASSERT_TRUE(merged.ok()) << merged.ToString();
  Client client(server);
  ASSERT_TRUE(client.Pull(server).ok());
  EXPECT_EQ(server.Rows("todos", "id, title"), std::vector<std::string>{"t1|milk"});
  EXPECT_EQ(client.Rows("todos", "id, title"), std::vector<std::string>{"t1|milk"});
}

// Issue 16: a float NaN once became -Infinity. Postgres stores NaN and the
// infinities, sent as floats or as the text a server prints, and every
// peer ends with their canonical values (NaN as the text 'NaN', SQLite
// having no REAL NaN); MariaDB's DOUBLE holds neither, and the refusal
// says so.
TEST_P(SyncStoreTest, NanAndInfinitiesFromClientsAreStoredOrRefusedNeverChanged) {
  Server server(GetParam());
  Changeset writes;
  const std::pair<const char*, Value> sent[] = {{"t1", Value::Float(NAN)},
                                                {"t2", Value::Text("NaN")},
                                                {"t3", Value::Float(INFINITY)},
                                                {"t4", Value::Text("-Infinity")}};
  for (const auto& [id, value] : sent) {
    writes.push_back(TodoChange(id, "list_id", Value::Text("l1")));
    writes.push_back(TodoChange(id, "position", value));
  }
  MergeReport report;
  const Status merged = server.store->Merge(Site(1), writes, PeerVersion{1, 7}, &report);
  if (IsMysqlFamily(GetParam())) {
    EXPECT_EQ(merged.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(merged.message().find("todos.position: cannot store nan (real) in a double column: MySQL's and "
                                    "MariaDB's FLOAT and DOUBLE cannot hold NaN or infinities"),
              std::string::npos)
        << merged.message();
    EXPECT_TRUE(ServerTodos(server).empty());
    const Status next = server.store->Merge(
        Site(1), {TodoChange("t1", "list_id", Value::Text("l1")), TodoChange("t1", "position", Value::Float(1.5))},
        PeerVersion{2, 1}, &report);
    ASSERT_TRUE(next.ok()) << next.ToString();
    EXPECT_EQ(server.Rows("todos", "id, position"), std::vector<std::string>{"t1|1.5"});
    return;
  }
  ASSERT_TRUE(merged.ok()) << merged.ToString();
  EXPECT_EQ(server.Rows("todos", "id, position::text"),
            (std::vector<std::string>{"t1|NaN", "t2|NaN", "t3|Infinity", "t4|-Infinity"}));
  Client reader(server);
  ASSERT_TRUE(reader.Pull(server).ok());
  EXPECT_EQ(reader.Rows("todos", "id, typeof(position), position"),
            (std::vector<std::string>{"t1|text|NaN", "t2|text|NaN", "t3|real|Inf", "t4|real|-Inf"}));
  // The writer gets back what the server stored in another form than it
  // sent: the float NaN as the text, the text -Infinity as a float.
  PullBatch batch;
  ASSERT_TRUE(server.store->Pull(0, std::nullopt, Site(1), 100, &batch).ok());
  // By key as text: GCC 12's release build warns wrongly on a map of blobs.
  const auto text = [](const Blob& key) { return std::string(key.begin(), key.end()); };
  std::map<std::string, Value> back;
  for (const Change& c : batch.changes) {
    if (c.cid == "position") back[text(c.pk)] = c.val;
  }
  EXPECT_EQ(back, (std::map<std::string, Value>{{text(Key("t1")), Value::Text("NaN")},
                                                {text(Key("t4")), Value::Float(-INFINITY)}}));
}

// What the type mapping lets through but the server refuses (a malformed
// array on Postgres, text outside a column's character set on MariaDB) is a
// refusal naming the table, never a server error that makes the client
// send the changeset again and again.
TEST_P(SyncStoreTest, ValuesTheServerRefusesAreRefusalsNamingTheTable) {
  const bool postgres = GetParam() == ServerKind::kPostgres;
  auto database = std::make_unique<TodoAppDatabase>(GetParam());
  database->Sql(postgres ? "ALTER TABLE todos ADD COLUMN tags integer[]"
                         : "ALTER TABLE todos MODIFY title VARCHAR(500) CHARACTER SET latin1 NOT NULL DEFAULT ''");
  Server server(std::move(database), kTodoAppTables);
  const Change refused = postgres ? TodoChange("t1", "tags", Value::Text("1,2"))
                                  : TodoChange("t1", "title", Value::Text("party \xf0\x9f\x8e\x89"));
  MergeReport report;
  const Status s =
      server.store->Merge(Site(2), {TodoChange("t1", "list_id", Value::Text("l1")), refused}, PeerVersion{1, 1}, &report);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(s.message().starts_with("todos: the database refused a value: ")) << s.message();
  const std::string reason = postgres                           ? "malformed array literal"
                             : GetParam() == ServerKind::kMySql ? "Conversion from collation"
                                                                : "Incorrect string value";
  EXPECT_NE(s.message().find(reason), std::string::npos) << s.message();
  EXPECT_TRUE(ServerTodos(server).empty());
  const Status next =
      server.store->Merge(Site(2), {TodoChange("t1", "list_id", Value::Text("l1"))}, PeerVersion{2, 0}, &report);
  ASSERT_TRUE(next.ok()) << next.ToString();
  EXPECT_EQ(ServerTodos(server).size(), 1u);
}

// A row holding a value crbridge cannot map (one capture rejects) takes no
// client writes until the app changes it; the refusal names the row and
// the column, and pulls go on around it.
TEST_P(SyncStoreTest, AWriteToARowHoldingAValueThatDoesNotMapIsRefused) {
  const ServerKind kind = GetParam();
  Server server(std::make_unique<TodoAppDatabase>(kind, NewTodoAppWithRawColumn(kind)), kTodoAppTables);
  server.database->Sql("INSERT INTO todos (id, list_id, raw) VALUES ('t1', 'l1', " + UnmappableRaw(kind) + ")");
  MergeReport report;
  const Status s =
      server.store->Merge(Site(1), {TodoChange("t1", "title", Value::Text("x"))}, PeerVersion{1, 0}, &report);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(s.message().starts_with("todos.raw: the row ('t1') holds a value crbridge cannot map (")) << s.message();
  EXPECT_NE(s.message().find("it takes no client writes until the app changes it"), std::string::npos) << s.message();
  Client client(server);
  EXPECT_TRUE(client.Pull(server).ok());
}

// A site's first merge refused inside its transaction (NULL for a NOT NULL
// column of an existing row) must leave no trace: its next merge records
// its changes under its own site id.
TEST_P(SyncStoreTest, ARefusedFirstMergeLeavesTheSiteUnknown) {
  Server server(GetParam());
  MergeReport report;
  ASSERT_TRUE(server.store->Merge(Site(1), {TodoChange("t1", "list_id", Value::Text("l1"))}, PeerVersion{1, 0}, &report).ok());
  const Status refused =
      server.store->Merge(Site(5), {TodoChange("t1", "title", Value::Null(), 2)}, PeerVersion{1, 0}, &report);
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument) << refused.ToString();
  ASSERT_TRUE(server.store->Merge(Site(5), {TodoChange("t1", "title", Value::Text("ok"), 3)}, PeerVersion{2, 0}, &report).ok());
  PullBatch batch;
  const Status pulled = server.store->Pull(0, std::nullopt, std::nullopt, 10, &batch);
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();
  std::map<std::string, std::optional<SiteId>> sites;
  for (const Change& c : batch.changes) sites[c.cid] = c.site_id;
  EXPECT_EQ(sites["title"], Site(5));
  EXPECT_EQ(sites["list_id"], Site(1));
}

// A client site is bound to the owner of its first acknowledged write: a
// merge as that site by another owner is refused with nothing applied and
// its tracked position unmoved, and the server's own site id is refused.
TEST_P(SyncStoreTest, AMergeAsASiteBoundToAnotherOwnerIsRefusedWithNothingApplied) {
  Server server(GetParam());
  MergeReport report;
  ASSERT_TRUE(server.store
                  ->Merge(Site(1), {TodoChange("t1", "list_id", Value::Text("l1"))}, PeerVersion{1, 0}, &report, "l1",
                          "room:l1")
                  .ok());
  const Status stolen = server.store->Merge(Site(1), {TodoChange("t2", "list_id", Value::Text("l2"))},
                                            PeerVersion{1000, 0}, &report, "l2", "room:l2");
  EXPECT_EQ(stolen.code(), Status::Code::kPermissionDenied) << stolen.ToString();
  EXPECT_EQ(stolen.message(),
            "site id 01010101010101010101010101010101 is bound to another client; a client may only use a site id of its own");
  const Status server_site = server.store->Merge(server.writer->site_id(), {TodoChange("t3", "list_id", Value::Text("l1"))},
                                                 PeerVersion{1, 0}, &report, "l1", "room:l1");
  EXPECT_EQ(server_site.code(), Status::Code::kPermissionDenied) << server_site.ToString();
  EXPECT_NE(server_site.message().find("is the server's own"), std::string::npos) << server_site.message();
  EXPECT_EQ(server.Rows("todos", "id"), (std::vector<std::string>{"t1"}));
  PeerRecord tracked;
  ASSERT_TRUE(server.writer->GetPeer(Site(1), &tracked).ok());
  EXPECT_EQ(tracked.applied.version, 1);
  EXPECT_EQ(tracked.owner, "room:l1");
  // The owner's own next write goes through.
  ASSERT_TRUE(server.store
                  ->Merge(Site(1), {TodoChange("t4", "list_id", Value::Text("l1"))}, PeerVersion{2, 0}, &report, "l1",
                          "room:l1")
                  .ok());
  EXPECT_EQ(server.Rows("todos", "id"), (std::vector<std::string>{"t1", "t4"}));
}

// A merge re-records an app write that capture has not recorded yet, one
// col_version above the stored one; a col_version stored at the largest
// integer (a client's, before client clocks were bounded) stays there
// rather than wrap to a negative number that loses every comparison.
TEST_P(SyncStoreTest, AClockStoredAtTheLargestIntegerNeverWraps) {
  Server server(GetParam());
  MergeReport report;
  ASSERT_TRUE(server.store->Merge(Site(1), {TodoChange("t1", "list_id", Value::Text("l1")),
                                            TodoChange("t1", "title", Value::Text("milk"))},
                                  PeerVersion{1, 0}, &report)
                  .ok());
  const std::string largest = "9223372036854775807";
  const std::string clock = server.ClockTable("todos");
  server.database->Sql(server.kind() == ServerKind::kPostgres
                           ? "UPDATE " + clock + " SET __col_versions[2] = " + largest
                           : "UPDATE " + clock + " SET __col_versions = '1," + largest + ",,,'");
  server.database->Sql("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");  // not captured: no capture runs
  ASSERT_TRUE(server.store->Merge(Site(2), {TodoChange("t1", "done", Value::Integer(1))}, PeerVersion{1, 0}, &report).ok());
  EXPECT_EQ(report.clocks_saturated, 1u);
  EXPECT_EQ(server.database->ColumnVersion("todos", "t1", 2), largest);
  EXPECT_EQ(server.Rows("todos", "id, title"), (std::vector<std::string>{"t1|oat milk"}));
}

// One random write of a client to five todos (insert, update, delete).
void RandomTodoWrite(Client& c, std::mt19937& random) {
  const char* const titles[] = {"'a'", "'b'", "'c'", "''"};
  const std::string id = "'t" + std::to_string(random() % 5) + "'";
  switch (random() % 4) {
    case 0:
      c.Exec("INSERT OR IGNORE INTO todos (id, list_id, title) VALUES (" + id + ", 'l" + std::to_string(random() % 2) +
             "', " + titles[random() % 4] + ")");
      break;
    case 1:
      c.Exec("UPDATE todos SET title = " + std::string(titles[random() % 4]) + " WHERE id = " + id);
      break;
    case 2:
      c.Exec("UPDATE todos SET done = " + std::to_string(random() % 2) + ", position = " + std::to_string(random() % 7) +
             ".25 WHERE id = " + id);
      break;
    default:
      c.Exec("DELETE FROM todos WHERE id = " + id);
  }
}

// P1: clients writing the same rows concurrently, syncing in random order
// and batch sizes, end equal to each other and to the server.
TEST_P(SyncStoreTest, RandomConcurrentClientsConvergeWithTheServer) {
  Server server(GetParam());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<Client>(server));
  std::mt19937 random(2026);
  for (int round = 0; round < 40; ++round) {
    Client& c = *clients[random() % clients.size()];
    RandomTodoWrite(c, random);
    Client& syncing = *clients[random() % clients.size()];
    if (random() % 2 == 0) {
      { const Status synced = syncing.Push(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
    }
    if (random() % 2 == 0) {
      { const Status synced = syncing.Pull(server, 1 + random() % 4); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
    }
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& c : clients) {
      { const Status synced = c->Push(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
      { const Status synced = c->Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
    }
  }
  const auto expected = ServerTodos(server);
  EXPECT_FALSE(expected.empty());
  for (auto& c : clients) {
    EXPECT_EQ(c->Rows("todos", kTodoColumns), expected);
  }
}

// Group commit: the changesets of several clients merged in one
// transaction (MergeTogether, each client's as one, clients that touch no
// row in common with one set of statements) leave the tables, the clocks,
// who wrote each value and what each client is known to have sent as
// merging each changeset on its own, one client after another, leaves
// them; all under one version, which a new client pulls whole.
TEST_P(SyncStoreTest, ChangesetsMergedTogetherLeaveWhatMergingEachAloneLeaves) {
  Server alone(GetParam());
  Server together(GetParam());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<Client>(alone));
  struct Sent {
    size_t client;
    Changeset changes;
    PeerVersion end;
  };
  std::vector<Sent> sent;
  std::mt19937 random(2027);
  for (int round = 0; round < 40; ++round) {
    const size_t k = random() % clients.size();
    Client& c = *clients[k];
    RandomTodoWrite(c, random);
    if (random() % 2 == 0) {
      Sent next{k, {}, {}};
      ASSERT_TRUE(c.NextChangeset(&next.changes, &next.end).ok());
      if (!next.changes.empty()) sent.push_back(std::move(next));
    }
  }
  // The clients in the order their first changesets came, each with its
  // changesets in order, as the sync server merges them.
  std::vector<ClientMerge> merges;
  std::map<size_t, size_t> merge_of_client;
  for (const Sent& one : sent) {
    const auto [known, added] = merge_of_client.emplace(one.client, merges.size());
    if (added) merges.emplace_back().sender = clients[one.client]->db->site_id();
    ClientMerge& merge = merges[known->second];
    merge.changesets.push_back(&one.changes);
    merge.end = one.end;
  }
  ASSERT_GE(merges.size(), 2u);
  // Merged on its own, one client after another: an equal value at an
  // equal clock keeps the site that wrote it first, so only the order of
  // clients is the same (merged in the order they came, interleaved, the
  // writers of such ties could differ; their values and clocks could not).
  for (const ClientMerge& merge : merges) {
    PeerVersion end;
    for (const Changeset* changes : merge.changesets) {
      end = PeerVersion{changes->back().db_version, changes->back().seq};
      MergeReport report;
      const Status merged = alone.store->Merge(merge.sender, *changes, end, &report);
      ASSERT_TRUE(merged.ok()) << merged.ToString();
    }
  }
  { const Status merged = together.store->MergeTogether(merges); ASSERT_TRUE(merged.ok()) << merged.ToString(); }

  ASSERT_FALSE(ServerTodos(alone).empty());
  EXPECT_EQ(ServerTodos(together), ServerTodos(alone));
  EXPECT_EQ(together.Rows(together.ClockTable("todos"), "id, __cl, __col_versions"),
            alone.Rows(alone.ClockTable("todos"), "id, __cl, __col_versions"));
  EXPECT_EQ(together.Rows(together.ClockTable("todos"), "DISTINCT __db_version").size(), 1u);
  // Every value is the same client's write on both servers.
  const auto writers = [](Server& server) {
    std::set<std::string> written;
    PullBatch batch;
    PullPosition after;
    do {
      EXPECT_TRUE(server.store->Pull(after, std::nullopt, std::nullopt, 1000, &batch).ok());
      for (const Change& c : batch.changes) {
        written.insert(EncodeHex(c.pk) + " " + c.cid + " " + std::to_string(c.col_version) + " " +
                       (c.site_id && *c.site_id != server.writer->site_id() ? EncodeHex(*c.site_id) : "server"));
      }
      after = batch.through;
    } while (batch.more);
    return written;
  };
  EXPECT_EQ(writers(together), writers(alone));
  for (const ClientMerge& merge : merges) {
    EXPECT_GT(merge.report.applied, 0u);
    EXPECT_EQ(merge.report.db_version, merges.front().report.db_version);
    PeerRecord tracked;
    ASSERT_TRUE(together.writer->GetPeer(merge.sender, &tracked).ok());
    EXPECT_EQ(tracked.applied.version, merge.end.version);
  }
  Client newcomer(together);
  { const Status pulled = newcomer.Pull(together); ASSERT_TRUE(pulled.ok()) << pulled.ToString(); }
  EXPECT_EQ(newcomer.Rows("todos", kTodoColumns), ServerTodos(together));
}

// Where a row is can depend on another client's rows (rooms by membership
// and by reference), so clients writing such tables are merged in their
// order even when they touch no row in common: a member's new todo that
// came before its membership's removal is written, as merging each alone
// writes it (then it leaves the member's room).
TEST_P(SyncStoreTest, AMembershipRemovedAfterAMembersWriteInOneMergeKeepsTheWrite) {
  auto database = std::make_unique<TodoAppDatabase>(GetParam());
  CreateListMembers(*database);
  Server server(std::move(database), SharedListsTables(true));
  const auto key = [](std::vector<Value> values) {
    Blob pk;
    EXPECT_TRUE(EncodePackedPk(values, &pk).ok());
    return pk;
  };
  const Blob membership = key({Value::Text("L"), Value::Text("u1")});
  const Changeset setup = {
      Change{"todo_lists", key({Value::Text("L")}), "name", Value::Text("shared"), 1, 1, std::nullopt, 1, 0},
      Change{"list_members", membership, kSentinelColumn, Value::Null(), 1, 1, std::nullopt, 1, 1}};
  MergeReport report;
  { const Status merged = server.store->Merge(Site(5), setup, {1, 1}, &report); ASSERT_TRUE(merged.ok()) << merged.ToString(); }

  const Changeset todo = {TodoChange("c", "list_id", Value::Text("L")), TodoChange("c", "title", Value::Text("x"))};
  const Changeset removal = {Change{"list_members", membership, kSentinelColumn, Value::Null(), 2, 2, std::nullopt, 2, 0}};
  std::vector<ClientMerge> merges = {
      {Site(6), {&todo}, {1, 0}, std::string("u1"), std::nullopt, nullptr, std::nullopt, {}, false},
      {Site(5), {&removal}, {2, 0}, std::nullopt, std::nullopt, nullptr, std::nullopt, {}, false}};
  { const Status merged = server.store->MergeTogether(merges); ASSERT_TRUE(merged.ok()) << merged.ToString(); }
  EXPECT_EQ(server.Rows("todos", "id, list_id, title"), std::vector<std::string>{"c|L|x"});
  EXPECT_EQ(merges[0].report.left_room, 0u);
  EXPECT_TRUE(server.Rows("list_members", "list_id").empty());
}

// One refused changeset refuses the whole merge: nothing of any client's
// is applied, and no client counts as having sent anything.
TEST_P(SyncStoreTest, ARefusedChangesetRefusesEveryChangesetMergedWithIt) {
  Server server(GetParam());
  const Changeset good = {TodoChange("t1", "list_id", Value::Text("l1")), TodoChange("t1", "title", Value::Text("x"))};
  const Changeset bad = {TodoChange("t2", "done", Value::Text("yes"))};
  std::vector<ClientMerge> merges = {{Site(3), {&good}, {4, 0}, std::nullopt, std::nullopt, nullptr, std::nullopt, {}, false},
                                     {Site(4), {&bad}, {6, 0}, std::nullopt, std::nullopt, nullptr, std::nullopt, {}, false}};
  const Status s = server.store->MergeTogether(merges);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("todos.done"), std::string::npos) << s.message();
  EXPECT_TRUE(ServerTodos(server).empty());
  for (const SiteId& site : {Site(3), Site(4)}) {
    PeerRecord tracked;
    ASSERT_TRUE(server.writer->GetPeer(site, &tracked).ok());
    EXPECT_EQ(tracked.applied.version, 0);
  }
}

// A client whose token has expired by the time the merge holds its locks
// is left out of it, nothing of its changes applied; the others are merged.
TEST_P(SyncStoreTest, AClientWhoseTokenExpiredIsLeftOutOfAMergeTogether) {
  Server server(GetParam());
  const Changeset first = {TodoChange("t1", "list_id", Value::Text("l1"))};
  const Changeset second = {TodoChange("t2", "list_id", Value::Text("l1"))};
  const auto now = std::chrono::system_clock::now();
  std::vector<ClientMerge> merges = {
      {Site(3), {&first}, {4, 0}, std::nullopt, std::nullopt, nullptr, now + std::chrono::hours(1), {}, false},
      {Site(4), {&second}, {6, 0}, std::nullopt, std::nullopt, nullptr, now, {}, false}};
  { const Status merged = server.store->MergeTogether(merges); ASSERT_TRUE(merged.ok()) << merged.ToString(); }
  EXPECT_FALSE(merges[0].expired);
  EXPECT_TRUE(merges[1].expired);
  EXPECT_EQ(server.Rows("todos", "id"), std::vector<std::string>{"t1"});
  PeerRecord tracked;
  ASSERT_TRUE(server.writer->GetPeer(Site(4), &tracked).ok());
  EXPECT_EQ(tracked.applied.version, 0);
}

// P2, P7: the database dies without a clean shutdown (Postgres in
// immediate mode, mariadbd killed with SIGKILL) in the middle of a workload
// and comes back. Every changeset the server acknowledged is there
// afterwards, also for a restarted crbridge; the others are retried
// (merging is idempotent) until they are. On a server of its own: the
// shared one serves other tests.
TEST_P(SyncStoreTest, ADatabaseCrashLosesNothingAcknowledged) {
  const DatabaseServer database_server(GetParam());
  auto database = std::make_unique<TodoAppDatabase>(database_server);
  const std::string url = database->url;
  const std::string metadata = database->metadata();
  database.reset();  // its connection would not survive the crash
  const auto app = MapTodoApp(TodoAppDatabase(GetParam(), url));
  auto writer = OpenAppStore(*app);
  auto store = std::make_unique<SyncStore>(app->config, app->check.tables, *writer);

  constexpr int kChangesets = 60;
  std::atomic<int> acknowledged = 0;
  std::atomic<bool> crashed = false;
  int retried = 0;
  std::thread workload([&] {
    for (int i = 0; i < kChangesets; ++i) {
      // A third is acknowledged before the crash, the rest after it (on a
      // slow machine the workload could otherwise end first).
      while (i == kChangesets / 3 && !crashed) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      const std::string id = "t" + std::to_string(i);
      const Changeset changes = {TodoChange(id, "list_id", Value::Text("l")), TodoChange(id, "title", Value::Text(id))};
      for (int attempt = 0;; ++attempt) {
        MergeReport report;
        const Status s = store->Merge(Site(4), changes, PeerVersion{i + 1, 0}, &report);
        if (s.ok()) break;
        ASSERT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
        ASSERT_LT(attempt, 600) << "the server did not come back";
        ++retried;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ++acknowledged;
    }
  });
  while (acknowledged < kChangesets / 3) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const int before_crash = acknowledged;
  database_server.CrashRestart();
  crashed = true;
  workload.join();

  EXPECT_GT(retried, 0) << "no merge met the crash";
  EXPECT_LT(before_crash, kChangesets);
  TodoAppDatabase after(GetParam(), url);
  EXPECT_EQ(after.One("SELECT count(*) FROM todos"), std::to_string(kChangesets));
  // Each row's list_id and title at version 1, the rest unwritten.
  const std::string unwritten = GetParam() == ServerKind::kPostgres ? "'{1,1,NULL,NULL,NULL}'" : "'1,1,,,'";
  EXPECT_EQ(after.One("SELECT count(*) FROM " + metadata + ".todos__clock WHERE __col_versions = " + unwritten),
            std::to_string(kChangesets));
  PeerRecord tracked;
  ASSERT_TRUE(writer->GetPeer(Site(4), &tracked).ok());
  EXPECT_EQ(tracked.applied.version, kChangesets);

  // crbridge restarting: new stores know only what the database holds, and
  // it is all there.
  store.reset();
  writer.reset();
  auto restarted_writer = OpenAppStore(*app);
  auto restarted = std::make_unique<SyncStore>(app->config, app->check.tables, *restarted_writer);
  ASSERT_TRUE(restarted_writer->GetPeer(Site(4), &tracked).ok());
  EXPECT_EQ(tracked.applied.version, kChangesets);
  std::set<std::string> pulled;
  PullBatch batch;
  PullPosition through;
  do {
    ASSERT_TRUE(restarted->Pull(through, std::nullopt, std::nullopt, 7, &batch).ok());
    for (const Change& c : batch.changes) {
      if (c.cid == "title") pulled.insert(c.val.text());
    }
    through = batch.through;
  } while (batch.more);
  EXPECT_EQ(pulled.size(), static_cast<size_t>(kChangesets));
}

// P5: merges commit while a puller keeps pulling after its last `through`;
// every version that commits is seen, none is skipped.
TEST_P(SyncStoreTest, PullsNeverSkipAVersionThatCommitsLater) {
  Server server(GetParam());
  // A second writer (as capture will be) sharing the version counter.
  auto second_writer = OpenAppStore(*server.app, ShadowStore::Marking::kNone);
  auto second = std::make_unique<SyncStore>(server.app->config, server.app->check.tables, *second_writer);

  std::atomic<int> writers_done = 0;
  std::set<int64_t> committed;
  std::mutex committed_mutex;
  const auto write = [&](SyncStore& store, const std::string& prefix) {
    for (int i = 0; i < 30; ++i) {
      MergeReport report;
      const std::string id = prefix + std::to_string(i);
      ASSERT_TRUE(store.Merge(Site(9), {TodoChange(id, "list_id", Value::Text("l")), TodoChange(id, "title", Value::Text(id))},
                              PeerVersion{i + 1, 0}, &report)
                      .ok());
      std::lock_guard lock(committed_mutex);
      committed.insert(report.db_version);
    }
    ++writers_done;
  };
  std::thread a(write, std::ref(*server.store), "a");
  std::thread b(write, std::ref(*second), "b");

  auto reader_writer = OpenAppStore(*server.app, ShadowStore::Marking::kNone);
  auto reader = std::make_unique<SyncStore>(server.app->config, server.app->check.tables, *reader_writer);
  std::set<int64_t> seen;
  PullPosition through;
  bool final_pull = false;
  while (!final_pull) {
    final_pull = writers_done == 2;
    PullBatch batch;
    ASSERT_TRUE(reader->Pull(through, std::nullopt, std::nullopt, 4, &batch).ok());
    EXPECT_LE(batch.changes.size(), 8u) << "a batch holds at most 4 rows (of one version each, 2 changes a row)";
    for (const Change& c : batch.changes) {
      EXPECT_TRUE(PullPosition(c.db_version, c.seq) > through) << "a change at or before the last through";
      seen.insert(c.db_version);
    }
    through = batch.through;
    if (batch.more) final_pull = false;
  }
  a.join();
  b.join();
  EXPECT_EQ(seen, committed);
  EXPECT_EQ(committed.size(), 60u);
}

// A pull ends where its bytes reach the limit (after one row at least,
// however large), inside a version when the version is larger: here one
// changeset of ten rows of about 900 bytes each (with what their changes
// take besides the values). The next pull goes on from there; rows written
// again meanwhile come with their new version, and every row arrives with
// its last value.
TEST_P(SyncStoreTest, PullsEndAtTheirBytesAndGoOnInsideAVersion) {
  Server server(GetParam());
  const std::string large(450, 'x');
  Changeset changes;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "t" + std::to_string(i);
    changes.push_back(TodoChange(id, "list_id", Value::Text("l1")));
    changes.push_back(TodoChange(id, "title", Value::Text(large + id)));
  }
  MergeReport report;
  ASSERT_TRUE(server.store->Merge(Site(1), changes, PeerVersion{1, 0}, &report).ok());

  std::map<std::string, std::string> titles;
  PullPosition through;
  // The rows of a batch, its titles recorded, each change after the last.
  const auto take = [&](const PullBatch& batch) {
    std::set<std::string> rows;  // packed keys
    for (const Change& c : batch.changes) {
      EXPECT_TRUE(PullPosition(c.db_version, c.seq) > through) << "a change at or before the last through";
      std::vector<Value> key;
      EXPECT_TRUE(DecodePackedPk(c.pk, &key).ok());
      rows.insert(std::string(c.pk.begin(), c.pk.end()));
      if (c.cid == "title") titles[key.at(0).text()] = c.val.text();
    }
    through = batch.through;
    return rows.size();
  };
  PullBatch batch;
  ASSERT_TRUE(server.store->Pull(through, std::nullopt, Site(2), PullLimit(100, 500), &batch).ok());
  EXPECT_EQ(take(batch), 1u) << "a row larger than the limit comes alone";
  EXPECT_TRUE(batch.more);
  EXPECT_EQ(through.version, report.db_version);
  EXPECT_FALSE(through.whole_version());

  const PullLimit limit(100, 2000);  // two rows
  ASSERT_TRUE(server.store->Pull(through, std::nullopt, Site(2), limit, &batch).ok());
  EXPECT_EQ(take(batch), 2u);
  // Rows already sent and rows not sent yet, written again.
  MergeReport again;
  ASSERT_TRUE(server.store
                  ->Merge(Site(3), {TodoChange("t0", "title", Value::Text(large + "again 0"), 2),
                                    TodoChange("t9", "title", Value::Text(large + "again 9"), 2)},
                          PeerVersion{1, 0}, &again)
                  .ok());
  int batches = 2;
  while (batch.more) {
    ASSERT_TRUE(server.store->Pull(through, std::nullopt, Site(2), limit, &batch).ok());
    EXPECT_LE(take(batch), 2u);
    ++batches;
  }
  EXPECT_GE(batches, 6);
  EXPECT_EQ(through, PullPosition(again.db_version));
  ASSERT_EQ(titles.size(), 10u);
  EXPECT_EQ(titles["t0"], large + "again 0");
  EXPECT_EQ(titles["t9"], large + "again 9");
  for (int i = 1; i < 9; ++i) EXPECT_EQ(titles["t" + std::to_string(i)], large + "t" + std::to_string(i));
}

INSTANTIATE_TEST_SUITE_P(Databases, SyncStoreTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
