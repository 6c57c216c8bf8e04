// The shadow store against the real Postgres and MariaDB fixtures: the site
// id, changed mappings carried over, versions in commit order and peers on both
// (ShadowStoreTest, parameterised); the Postgres shadow schema, its upgrade,
// the replication origin and the code of a dropped metadata table on
// Postgres only (PostgresShadowStoreTest).
#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/server/dialects.h"
#include "crbridge/sqlite/packed_pk.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "databases/test_databases.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
using namespace crbridge::postgres;  // the dialect under test
namespace {

using Mapped = MappedApp;

std::unique_ptr<PostgresShadowStore> OpenStore(const std::string& url, const Mapped& mapped,
                                               ShadowStore::Marking marking = ShadowStore::Marking::kCrbridge) {
  return OpenClockStore(url, mapped, marking);
}

// Inserts a todo list row in `tx` (as a merge would).
Status InsertList(ShadowTransaction& tx, const Mapped& mapped, const std::string& id) {
  const KeyParameters key = {{false, id}};
  return tx.InsertAppRows(mapped.Table("todo_lists"), {}, {AppRowWrite{&key, {}}},
                          [](const Blob&, std::vector<Value>) { return Status::OK(); });
}

class ShadowStoreTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(ShadowStoreTest, KeepsTheSiteIdAcrossOpens) {
  TodoAppDatabase database(GetParam());
  const auto mapped = MapTodoApp(database);
  SiteId first_site;
  {
    auto store = OpenAppStore(*mapped);
    first_site = store->site_id();
    EXPECT_EQ(first_site[6] >> 4, 4) << "a version 4 UUID";
  }
  auto reopened = OpenAppStore(*mapped);  // a restart: nothing is created twice, the marking is free again
  EXPECT_EQ(reopened->site_id(), first_site);
}

TEST(PostgresShadowStoreTest, CreatesTheShadowSchemaOnce) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const auto mapped = MapTodoApp(url);
  OpenStore(url, *mapped);
  OpenStore(url, *mapped);  // a restart: nothing is created twice

  pqxx::connection conn(url);
  pqxx::nontransaction db(conn);
  EXPECT_EQ(db.exec1("SELECT count(*) FROM crbridge.migrations")[0].as<int>(), PostgresShadowStore::kSchemaVersion);
  const pqxx::result columns = db.exec(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'crbridge' "
      "AND table_name = 'todos__clock' ORDER BY ordinal_position");
  std::vector<std::string> names;
  for (const auto& row : columns) names.push_back(row[0].as<std::string>() + " " + row[1].as<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"id text", "__cl bigint", "__col_versions ARRAY", "__col_sites ARRAY",
                                             "__col_hashes ARRAY", "__lsn bigint", "__db_version bigint", "__seq integer", "__room text"}));
  // Besides the key, one index serves pulls: by room and version here, as
  // todos has a room column.
  const pqxx::result indexes = db.exec(
      "SELECT regexp_replace(indexdef, '.* USING ', '') FROM pg_indexes WHERE schemaname = 'crbridge' "
      "AND tablename = 'todos__clock' ORDER BY indexdef");
  std::vector<std::string> definitions;
  for (const auto& row : indexes) definitions.push_back(row[0].as<std::string>());
  EXPECT_EQ(definitions, (std::vector<std::string>{"btree (__room, __db_version)", "btree (id)"}));
  // The app's tables are untouched.
  EXPECT_EQ(db.exec1("SELECT count(*) FROM information_schema.columns WHERE table_name = 'todos' AND table_schema = 'public'")[0]
                .as<int>(),
            7);
}

TEST(PostgresShadowStoreTest, AVersionOneSchemaIsUpgradedKeepingItsClocks) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const auto mapped = MapTodoApp(url);
  OpenStore(url, *mapped);
  pqxx::connection conn(url);
  pqxx::nontransaction db(conn);
  // Back to what version 1 created, with a clock in it.
  db.exec0("DROP TABLE crbridge.capture, crbridge.change_events, crbridge.rejected_rows, crbridge.room_exits, crbridge.memberships, "
           "crbridge.served_schemas; "
           "DELETE FROM crbridge.migrations WHERE version >= 2; "
           "ALTER TABLE crbridge.tables DROP COLUMN snapshot_lsn, DROP COLUMN room_rule; "
           "ALTER TABLE crbridge.todos__clock DROP COLUMN __col_hashes, DROP COLUMN __lsn; "
           "INSERT INTO crbridge.todos__clock VALUES ('t1', 1, '{1,1,1,1,1}', '{0,0,0,0,0}', 7, 0, 'l1'); "
           "ALTER TABLE crbridge.peers DROP COLUMN owner, DROP COLUMN schema_version; "
           "ALTER TABLE crbridge.clock DROP COLUMN mappings; "
           "INSERT INTO crbridge.peers VALUES ('\\x42424242424242424242424242424242', 3, 0)");
  auto store = OpenStore(url, *mapped);
  EXPECT_EQ(db.exec1("SELECT max(version) FROM crbridge.migrations")[0].as<int>(), PostgresShadowStore::kSchemaVersion);
  EXPECT_EQ(db.exec1("SELECT lsn FROM crbridge.capture")[0].as<int64_t>(), 0);
  EXPECT_EQ(db.exec1("SELECT count(*) FROM crbridge.change_events")[0].as<int64_t>(), 0) << "the change log exists";
  EXPECT_EQ(db.exec1("SELECT count(*) FROM crbridge.rejected_rows")[0].as<int64_t>(), 0) << "rejected rows are kept";
  const pqxx::row clock = db.exec1("SELECT __col_versions::text, __col_hashes::text, __lsn, __db_version FROM crbridge.todos__clock");
  EXPECT_EQ(clock[0].as<std::string>(), "{1,1,1,1,1}");
  EXPECT_EQ(clock[1].as<std::string>(), "{}") << "hashes unknown";
  EXPECT_EQ(clock[2].as<int64_t>(), 0);
  EXPECT_EQ(clock[3].as<int64_t>(), 7);
  EXPECT_EQ(db.exec1("SELECT room_rule FROM crbridge.tables WHERE name = 'todos'")[0].as<std::string>(),
            "room_column: list_id")
      << "a table recorded before takes the rule it has";
  // A site of an earlier version is bound at its next write.
  SiteId site;
  site.fill(0x42);
  PeerRecord peer;
  ASSERT_TRUE(store->GetPeer(site, &peer).ok());
  EXPECT_EQ(peer.applied.version, 3);
  EXPECT_FALSE(peer.owner.has_value());
  ASSERT_TRUE(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.SetPeerVersion(site, {4, 0}, "room:l1"); }).ok());
  ASSERT_TRUE(store->GetPeer(site, &peer).ok());
  EXPECT_EQ(peer.owner, "room:l1");
}

// A mapping whose columns change across a restart keeps its clocks: each
// column's clocks follow it to its new place, a column new to the mapping
// starts without any and the table is to be read again for its values; a
// column no longer mapped takes its clocks with it. A new primary key is
// refused, saying what to do.
TEST_P(ShadowStoreTest, AChangedMappingCarriesItsClocksOverAndRefusesANewKey) {
  TodoAppDatabase database(GetParam());
  const auto full = MapTodoApp(database);
  const ResolvedTable& todos = full->Table("todos");  // list_id, title, done, position, due
  {
    auto store = OpenAppStore(*full);
    ClockRow clock(5);
    clock.cl = 1;
    for (int64_t i = 0; i < 5; ++i) {
      clock.versions[static_cast<size_t>(i)] = 10 + i;
      clock.sites[static_cast<size_t>(i)] = 0;
      clock.hashes[static_cast<size_t>(i)] = 100 + i;
    }
    const KeyParameters key = {{false, "t1"}};
    ASSERT_TRUE(store->Write([&](ShadowTransaction& tx, int64_t version) {
      CRBRIDGE_RETURN_IF_ERROR(tx.WriteClocks(todos, {ClockWrite{&key, &clock, version, 0}}));
      return tx.MarkSnapshotDone(todos, 42);
    }).ok());
  }
  const auto ReadClock = [&](ShadowStore& store, const ResolvedTable& t) {
    ClockRow found;
    const KeyParameters key = {{false, "t1"}};
    EXPECT_TRUE(store.Write([&](ShadowTransaction& tx, int64_t) {
      return tx.ReadClocks(t, {&key}, [&](const Blob&, ClockRow clock) {
        found = std::move(clock);
        return Status::OK();
      });
    }).ok());
    return found;
  };
  const auto Snapshot = [](ShadowStore& store, const ResolvedTable& t) {
    std::optional<int64_t> position;
    EXPECT_TRUE(store.SnapshotPosition(t, &position).ok());
    return position;
  };

  // Fewer columns, in another order: nothing to read again.
  const auto narrower = MapTodoApp(database, std::string(kTodoAppTables) + "    columns: [id, title, list_id]\n");
  {
    auto store = OpenAppStore(*narrower);
    const ClockRow clock = ReadClock(*store, narrower->Table("todos"));
    EXPECT_EQ(clock.versions, (std::vector<std::optional<int64_t>>{11, 10}));
    EXPECT_EQ(clock.hashes, (std::vector<std::optional<int64_t>>{101, 100}));
    EXPECT_EQ(Snapshot(*store, narrower->Table("todos")), 42);
  }
  // Back to every column: those unmapped meanwhile start again without
  // clocks, and the table is to be read again.
  {
    auto store = OpenAppStore(*full);
    const ClockRow clock = ReadClock(*store, full->Table("todos"));
    EXPECT_EQ(clock.versions, (std::vector<std::optional<int64_t>>{10, 11, std::nullopt, std::nullopt, std::nullopt}));
    EXPECT_EQ(clock.sites, (std::vector<std::optional<int64_t>>{0, 0, std::nullopt, std::nullopt, std::nullopt}));
    EXPECT_EQ(clock.cl, 1);
    EXPECT_EQ(Snapshot(*store, full->Table("todos")), std::nullopt);
    EXPECT_EQ(Snapshot(*store, full->Table("todo_lists")), std::nullopt) << "never read";
  }

  database.Sql(GetParam() == ServerKind::kPostgres
                   ? "ALTER TABLE todos DROP CONSTRAINT todos_pkey, ADD PRIMARY KEY (id, list_id)"
                   : "ALTER TABLE todos DROP PRIMARY KEY, ADD PRIMARY KEY (id, list_id)");
  const auto rekeyed = MapTodoApp(database);
  std::unique_ptr<ShadowStore> store;
  const Status s = OpenShadowStore(rekeyed->config, rekeyed->check.tables, ShadowStore::Marking::kNone, &store);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("the primary key of table todos changed from [\"id\"] to [\"id\",\"list_id\"]"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("map the table under a new name"), std::string::npos) << s.message();
}

// One room column becoming another is recorded and the table marked to be
// read again (the read moves the rows: room_moves_interop_test.cc); rows
// are not moved between the rooms of another kind of rule in place: that
// is refused, naming both rules and what to do, and nothing of the store
// changes; the rule put back opens as before.
TEST_P(ShadowStoreTest, ANewRoomColumnIsFollowedAndAnotherKindOfRoomRuleRefused) {
  TodoAppDatabase database(GetParam());
  OpenAppStore(*MapTodoApp(database));
  const std::string tables = database.metadata() + ".tables";
  database.Sql("UPDATE " + tables + " SET snapshot_lsn = 7");
  const auto Open = [&](const std::string& todos) {
    const auto remapped = MapTodoApp(database, "  - name: todo_lists\n    room_column: id\n  - name: todos\n" + todos);
    std::unique_ptr<ShadowStore> store;
    return OpenShadowStore(remapped->config, remapped->check.tables, ShadowStore::Marking::kNone, &store);
  };
  const Status everywhere = Open("    exclude: [internal_note]\n");
  EXPECT_EQ(everywhere.code(), Status::Code::kInvalidArgument) << everywhere.ToString();
  EXPECT_NE(everywhere.message().find("tables[1]: the rooms of table todos changed from \"room_column: list_id\" to "
                                      "\"every room\""),
            std::string::npos)
      << everywhere.message();
  EXPECT_NE(everywhere.message().find("put the rule back"), std::string::npos) << everywhere.message();
  const Status via = Open("    room_via:\n      column: list_id\n      table: todo_lists\n    exclude: [internal_note]\n");
  EXPECT_NE(via.message().find("tables[1].room_via: the rooms of table todos changed from \"room_column: list_id\" to "
                               "\"room_via: {column: list_id, table: todo_lists}\""),
            std::string::npos)
      << via.ToString();
  EXPECT_EQ(database.One("SELECT count(*) FROM " + tables + " WHERE snapshot_lsn IS NULL"), "0");
  // A refusal of one table leaves the others as they were too.
  const auto narrower = MapTodoApp(database, "  - name: todo_lists\n    room_column: id\n    columns: [id]\n"
                                             "  - name: todos\n    exclude: [internal_note]\n");
  std::unique_ptr<ShadowStore> refused;
  EXPECT_FALSE(
      OpenShadowStore(narrower->config, narrower->check.tables, ShadowStore::Marking::kNone, &refused).ok());
  EXPECT_NE(database.One("SELECT value_columns FROM " + tables + " WHERE name = 'todo_lists'").find("name"),
            std::string::npos);

  const Status moved = Open("    room_column: title\n    exclude: [internal_note]\n");
  ASSERT_TRUE(moved.ok()) << moved.ToString();
  EXPECT_EQ(database.One("SELECT room_rule FROM " + tables + " WHERE name = 'todos'"), "room_column: title");
  EXPECT_EQ(database.One("SELECT name FROM " + tables + " WHERE snapshot_lsn IS NULL"), "todos")
      << "only the table whose rooms changed is read again";
  const Status back = Open("    room_column: list_id\n    exclude: [internal_note]\n");
  EXPECT_TRUE(back.ok()) << back.ToString();
  EXPECT_EQ(database.One("SELECT room_rule FROM " + tables + " WHERE name = 'todos'"), "room_column: list_id");
}

// A store opened before another changed the clock columns (a column added)
// writes and reads nothing more: its writes would drop the new column's
// clocks, its pulls leave the column out.
TEST_P(ShadowStoreTest, AStoreOpenedBeforeTheMappingsChangedWritesAndReadsNothing) {
  TodoAppDatabase database(GetParam());
  const auto narrower = MapTodoApp(database, std::string(kTodoAppTables) + "    columns: [id, title, list_id]\n");
  auto before = OpenAppStore(*narrower, ShadowStore::Marking::kNone);
  const auto write = [](ShadowStore& store) { return store.Write([](ShadowTransaction&, int64_t) { return Status::OK(); }); };
  ASSERT_TRUE(write(*before).ok());
  auto after = OpenAppStore(*MapTodoApp(database));
  const Status refused = write(*before);
  EXPECT_TRUE(IsMappingsChanged(refused)) << refused.ToString();
  const Status unread = before->Read([](ShadowSnapshot&) { return Status::OK(); });
  EXPECT_TRUE(IsMappingsChanged(unread)) << unread.ToString();
  EXPECT_TRUE(write(*after).ok());
  auto reopened = OpenAppStore(*MapTodoApp(database), ShadowStore::Marking::kNone);
  EXPECT_TRUE(write(*reopened).ok()) << "the same mappings again change nothing";
  EXPECT_TRUE(write(*after).ok());
}

// P5's mechanism: a writer that took version v holds it until it commits;
// a concurrent writer waits and gets v + 1 only after that commit.
TEST_P(ShadowStoreTest, VersionsAreHandedOutInCommitOrder) {
  TodoAppDatabase database(GetParam());
  const auto mapped = MapTodoApp(database);
  // The merge writer (marked) and the capture writer (not) share the counter.
  auto first = OpenAppStore(*mapped);
  auto second = OpenAppStore(*mapped, ShadowStore::Marking::kNone);

  std::atomic<bool> first_has_version = false;
  int64_t first_version = 0;
  std::thread slow([&] {
    const Status s = first->Write([&](ShadowTransaction& tx, int64_t version) {
      EXPECT_TRUE(InsertList(tx, *mapped, "written by the first").ok());
      first_version = version;
      first_has_version = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  while (!first_has_version) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  int64_t second_version = 0;
  bool saw_first_committed = false;
  ASSERT_TRUE(second->Write([&](ShadowTransaction& tx, int64_t version) {
    second_version = version;
    const KeyParameters key = {{false, "written by the first"}};
    return tx.LockAppRows(mapped->Table("todo_lists"), {&key}, [&](const Blob&, std::vector<Value>) {
      saw_first_committed = true;
      return Status::OK();
    });
  }).ok());
  slow.join();
  EXPECT_EQ(second_version, first_version + 1);
  EXPECT_TRUE(saw_first_committed) << "the second writer got its version before the first committed";

  // A rolled-back write gives its version back.
  EXPECT_FALSE(first->Write([](ShadowTransaction&, int64_t) { return Status::Internal("no"); }).ok());
  int64_t committed = 0;
  ASSERT_TRUE(first->DbVersion(&committed).ok());
  EXPECT_EQ(committed, second_version);
}

// Clocks written again (read first, as writers do) hold what was written,
// and keep their stored room where the write names none: a few at a time
// (Postgres: UPDATE) and many (Postgres: deleted and appended by COPY).
TEST_P(ShadowStoreTest, ClocksWrittenAgainHoldTheNewClockAndKeepAnUnnamedRoom) {
  TodoAppDatabase database(GetParam());
  const auto mapped = MapTodoApp(database);
  const ResolvedTable& todos = mapped->Table("todos");
  const size_t n = todos.columns.size() - todos.pk_count;
  auto store = OpenAppStore(*mapped);
  for (const int rows : {3, 100}) {
    SCOPED_TRACE(rows);
    std::vector<KeyParameters> keys;
    std::vector<const KeyParameters*> key_pointers;
    std::vector<std::string> packed_keys;  // their bytes
    for (int r = 0; r < rows; ++r) {
      const std::string id = "t" + std::to_string(rows) + "-" + std::to_string(r);
      keys.push_back({{false, id}});
      Blob packed;
      ASSERT_TRUE(EncodePackedPk(std::vector<Value>{Value::Text(id)}, &packed).ok());
      packed_keys.emplace_back(packed.begin(), packed.end());
    }
    for (const KeyParameters& key : keys) key_pointers.push_back(&key);
    const auto Read = [&](ShadowTransaction& tx, std::map<std::string, ClockRow>* clocks) {
      return tx.ReadClocks(todos, key_pointers, [&](const Blob& key, ClockRow clock) {
        (*clocks)[std::string(key.begin(), key.end())] = std::move(clock);
        return Status::OK();
      });
    };
    ASSERT_TRUE(store->Write([&](ShadowTransaction& tx, int64_t version) {
      std::vector<ClockRow> clocks(keys.size(), ClockRow(n));
      std::vector<ClockWrite> writes;
      for (size_t r = 0; r < keys.size(); ++r) {
        clocks[r].cl = 1;
        clocks[r].versions.assign(n, 1);
        clocks[r].sites.assign(n, 0);
        clocks[r].hashes.assign(n, 7);
        clocks[r].lsn = 10;
        clocks[r].room = "first room";
        writes.push_back(ClockWrite{&keys[r], &clocks[r], version, static_cast<int>(r)});
      }
      return tx.WriteClocks(todos, writes);
    }).ok());
    ASSERT_TRUE(store->Write([&](ShadowTransaction& tx, int64_t version) {
      std::map<std::string, ClockRow> clocks;
      CRBRIDGE_RETURN_IF_ERROR(Read(tx, &clocks));
      std::vector<ClockWrite> writes;
      for (size_t r = 0; r < keys.size(); ++r) {
        ClockRow& clock = clocks.at(packed_keys[r]);
        clock.cl = 2;
        clock.versions[0] = 5;
        clock.sites[0] = 3;
        clock.hashes[0] = -9;
        clock.lsn = 20;
        // Every other row moves; the others keep the room they are in.
        if (r % 2 == 1) clock.room = "second room";
        writes.push_back(ClockWrite{&keys[r], &clock, version, static_cast<int>(r)});
      }
      return tx.WriteClocks(todos, writes);
    }).ok());
    std::map<std::string, ClockRow> stored;
    ASSERT_TRUE(store->Write([&](ShadowTransaction& tx, int64_t) { return Read(tx, &stored); }).ok());
    ASSERT_EQ(stored.size(), keys.size());
    for (size_t r = 0; r < keys.size(); ++r) {
      const ClockRow& clock = stored.at(packed_keys[r]);
      EXPECT_EQ(clock.cl, 2);
      EXPECT_EQ(clock.versions[0], 5);
      EXPECT_EQ(clock.versions[1], 1);
      EXPECT_EQ(clock.sites[0], 3);
      EXPECT_EQ(clock.hashes[0], -9);
      EXPECT_EQ(clock.hashes[1], 7);
      EXPECT_EQ(clock.lsn, 20);
      EXPECT_EQ(clock.stored_room, r % 2 == 1 ? "second room" : "first room") << r;
    }
  }
}

// Loop marking: pgoutput reports crbridge's transactions with an Origin
// message naming crbridge's origin, and the app's without one.
TEST(PostgresShadowStoreTest, WritesCarryTheReplicationOriginInPgoutput) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const auto mapped = MapTodoApp(url);
  auto store = OpenStore(url, *mapped);
  pqxx::connection app(url);
  pqxx::nontransaction db(app);
  db.exec0("CREATE PUBLICATION origin_test FOR TABLE todo_lists");
  db.exec("SELECT pg_create_logical_replication_slot('origin_test', 'pgoutput')");

  ASSERT_TRUE(store->Write([&](ShadowTransaction& tx, int64_t) { return InsertList(tx, *mapped, "from-crbridge"); }).ok());
  db.exec0("INSERT INTO todo_lists (id) VALUES ('from-the-app')");

  const pqxx::result messages = db.exec(
      "SELECT encode(data, 'hex') FROM pg_logical_slot_get_binary_changes('origin_test', NULL, NULL, "
      "'proto_version', '1', 'publication_names', 'origin_test')");
  std::string kinds;
  std::string origin_name;
  for (const auto& row : messages) {
    const std::string hex = row[0].as<std::string>();
    const char kind = static_cast<char>(std::stoi(hex.substr(0, 2), nullptr, 16));
    kinds += kind;
    if (kind == 'O') {  // 'O', origin lsn (8 bytes), name (NUL-terminated)
      for (size_t i = 18; i + 1 < hex.size() && hex.substr(i, 2) != "00"; i += 2) {
        origin_name += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      }
    }
  }
  EXPECT_EQ(kinds, "BORICBIC");  // crbridge's transaction, then the app's
  EXPECT_EQ(origin_name, store->origin());
  db.exec("SELECT pg_drop_replication_slot('origin_test')");
}

TEST(PostgresShadowStoreTest, OneMarkedWriterPerDatabase) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const auto mapped = MapTodoApp(url);
  auto writer = OpenStore(url, *mapped);
  std::unique_ptr<PostgresShadowStore> second;
  const Status s = PostgresShadowStore::Open(url, "crbridge", mapped->check.tables,
                                             ShadowStore::Marking::kCrbridge, &second);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("is another crbridge writing to this database?"), std::string::npos) << s.message();
}

// A missing metadata table needs a person: retrying as for a server away
// would fail the same way forever (postgres_errors.h).
TEST(PostgresShadowStoreTest, ADroppedMetadataTableIsNotADatabaseAway) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  auto store = OpenStore(url, *MapTodoApp(url));
  pqxx::connection conn(url);
  pqxx::nontransaction(conn).exec0("DROP TABLE crbridge.peers, crbridge.clock");
  PeerRecord peer;
  const Status read = store->GetPeer(SiteId{}, &peer);
  EXPECT_EQ(read.code(), Status::Code::kInternal) << read.ToString();
  EXPECT_NE(read.message().find("crbridge.peers"), std::string::npos) << read.message();
  int64_t version = 0;
  EXPECT_EQ(store->DbVersion(&version).code(), Status::Code::kInternal);
  EXPECT_EQ(store->Write([](ShadowTransaction&, int64_t) { return Status::OK(); }).code(), Status::Code::kInternal);
}

TEST_P(ShadowStoreTest, PeerVersionsAdvanceWithTheirWriteAndNeverBackwards) {
  TodoAppDatabase database(GetParam());
  auto store = OpenAppStore(*MapTodoApp(database));
  SiteId client;
  client.fill(0x42);
  PeerRecord seen;
  ASSERT_TRUE(store->GetPeer(client, &seen).ok());
  EXPECT_EQ(seen.applied.version, 0);

  const auto advance = [&](PeerVersion to, bool commit) {
    return store->Write([&](ShadowTransaction& tx, int64_t) {
      EXPECT_TRUE(tx.SetPeerVersion(client, to, std::nullopt).ok());
      return commit ? Status::OK() : Status::Internal("rolled back");
    });
  };
  ASSERT_TRUE(advance({7, 2}, true).ok());
  ASSERT_TRUE(advance({5, 9}, true).ok());   // older: ignored
  EXPECT_FALSE(advance({9, 0}, false).ok());  // rolled back with its transaction
  ASSERT_TRUE(store->GetPeer(client, &seen).ok());
  EXPECT_EQ(seen.applied.version, 7);
  EXPECT_EQ(seen.applied.seq, 2);
}

// A client site is bound to the owner of its first write that names one;
// another owner moves nothing. Writers that name no owner (tools) neither
// check nor bind.
TEST_P(ShadowStoreTest, APeerIsBoundToTheOwnerOfItsFirstWrite) {
  TodoAppDatabase database(GetParam());
  auto store = OpenAppStore(*MapTodoApp(database));
  const auto advance = [&](const SiteId& site, PeerVersion to, const std::optional<std::string>& owner) {
    return store->Write([&](ShadowTransaction& tx, int64_t) { return tx.SetPeerVersion(site, to, owner); });
  };
  SiteId client;
  client.fill(0x43);
  ASSERT_TRUE(advance(client, {3, 0}, std::nullopt).ok());
  PeerRecord peer;
  ASSERT_TRUE(store->GetPeer(client, &peer).ok());
  EXPECT_FALSE(peer.owner.has_value());
  ASSERT_TRUE(advance(client, {4, 0}, "room:l1").ok());
  const Status other = advance(client, {99, 0}, "room:l2");
  EXPECT_EQ(other.code(), Status::Code::kPermissionDenied) << other.ToString();
  ASSERT_TRUE(advance(client, {5, 1}, "room:l1").ok());
  ASSERT_TRUE(advance(client, {6, 0}, std::nullopt).ok());
  ASSERT_TRUE(store->GetPeer(client, &peer).ok());
  EXPECT_EQ(peer.applied.version, 6);
  EXPECT_EQ(peer.owner, "room:l1");
  // An owner is bytes: a room's name may hold any.
  SiteId binary;
  binary.fill(0x44);
  const std::string bytes("room:\0\xff", 7);
  ASSERT_TRUE(advance(binary, {1, 0}, bytes).ok());
  ASSERT_TRUE(store->GetPeer(binary, &peer).ok());
  EXPECT_EQ(peer.owner, bytes);
  EXPECT_EQ(advance(binary, {2, 0}, "room:").code(), Status::Code::kPermissionDenied);
}

INSTANTIATE_TEST_SUITE_P(Databases, ShadowStoreTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
