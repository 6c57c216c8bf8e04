// MysqlShadowStore against the real MariaDB fixture: the shadow schema made
// once (also by two processes at once), changed mappings refused, versions
// in commit order, clocks, app rows of MySQL types read back canonically,
// errors (duplicate key, lost connection), peers, the capture position, the
// change log and snapshot reads.
#include "crbridge/server/mysql/mysql_shadow_store.h"

#include <cppconn/resultset.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "crbridge/server/mysql/binlog_position.h"
#include "crbridge/server/core/config_check.h"
#include "crbridge/server/mysql/mysql_url.h"
#include "crbridge/server/core/source_database.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/server/dialects.h"
#include "mysql_session.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test
namespace {

constexpr const char* kTodoTables =
    "  - name: todo_lists\n    room_column: id\n  - name: todos\n    room_column: list_id\n    exclude: [internal_note]\n";

// A plain connection to a test database, for what the app does and to look.
class AppConnection {
 public:
  explicit AppConnection(const std::string& url) {
    const Status s = MysqlSession::Connect(url, MysqlSession::Isolation::kReadCommitted, &session_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  void Exec(const std::string& sql) { session_->Execute(sql); }

  // Each row's columns joined by '|' (NULL as "NULL").
  std::vector<std::string> Rows(const std::string& query) {
    std::unique_ptr<sql::ResultSet> rows(session_->Query(query));
    std::vector<std::string> out;
    const unsigned int columns = rows->getMetaData()->getColumnCount();
    while (rows->next()) {
      std::string line;
      for (unsigned int i = 1; i <= columns; ++i) {
        line += (i > 1 ? "|" : "") + (rows->isNull(i) ? std::string("NULL") : std::string(rows->getString(i)));
      }
      out.push_back(line);
    }
    return out;
  }

 private:
  std::unique_ptr<MysqlSession> session_;
};

// A test database with its tables mapped by `tables` (YAML) and checked,
// and its metadata database (named after it: tests share the server).
struct MappedDatabase {
  std::string url;
  std::string metadata;
  Config config;
  ConfigCheck check;

  // `setup` makes the app's tables first.
  MappedDatabase(const std::string& database_url, const std::string& tables, const std::string& setup = "")
      : url(database_url) {
    MysqlUrl parsed;
    EXPECT_TRUE(ParseMysqlUrl(url, &parsed).ok());
    metadata = parsed.database + "_meta";
    if (!setup.empty()) AppConnection(url).Exec(setup);
    Map(tables);
  }

  void Map(const std::string& tables) {
    config = Config{};
    check = ConfigCheck{};
    const Status parsed = ParseConfig("source:\n  type: mysql\n  url: mysql://unused@localhost/x\n  server_id: 4242\n"
                                      "metadata_schema: " + metadata + "\nschema_name: app\ntables:\n" + tables,
                                      "test.yaml", &config);
    ASSERT_TRUE(parsed.ok()) << parsed.ToString();
    config.source.url = url;
    auto database = NewSourceDatabase(config.source);
    ASSERT_TRUE(CheckConfig(config, *database, &check).ok());
    for (const Status& problem : check.problems) ADD_FAILURE() << problem.ToString();
  }

  Status Open(std::unique_ptr<ShadowStore>* store) {
    return mysql::OpenShadowStore(config, check.tables, ShadowStore::Marking::kCrbridge, store);
  }

  std::unique_ptr<ShadowStore> Open() {
    std::unique_ptr<ShadowStore> store;
    const Status s = Open(&store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  const ResolvedTable& Table(const std::string& name) const {
    for (const ResolvedTable& t : check.tables) {
      if (t.mapping->name == name) return t;
    }
    throw std::runtime_error("no table " + name);
  }
};

MappedDatabase TodoDatabase() { return MappedDatabase(TestDatabases::Get().NewMariaDbDatabase("todo_app.mysql.sql"), kTodoTables); }

KeyParameters Key(const std::string& text) { return {ServerParameter{false, text}}; }

Blob Packed(std::vector<Value> key) {
  Blob packed;
  EXPECT_TRUE(EncodePackedPk(key, &packed).ok());
  return packed;
}

std::string Expect(const Status& s) { return s.ok() ? "" : s.ToString(); }
#define ASSERT_OK(expr) ASSERT_EQ(Expect(expr), "")
#define EXPECT_OK(expr) EXPECT_EQ(Expect(expr), "")

// A clock of `n` value columns: versions, sites and hashes as given.
ClockRow Clock(int64_t cl, std::vector<std::optional<int64_t>> versions, std::optional<std::string> room = std::nullopt,
               int64_t lsn = 0) {
  ClockRow clock(versions.size());
  clock.cl = cl;
  clock.versions = versions;
  clock.sites = versions;
  clock.hashes = versions;
  clock.room = std::move(room);
  clock.lsn = lsn;
  return clock;
}

// The clocks of todos rows `keys`, by key text.
std::map<std::string, ClockRow> ReadTodoClocks(ShadowStore& store, const ResolvedTable& t,
                                               const std::vector<std::string>& ids) {
  std::map<std::string, ClockRow> clocks;
  std::vector<KeyParameters> keys;
  for (const std::string& id : ids) keys.push_back(Key(id));
  std::vector<const KeyParameters*> pointers;
  for (const KeyParameters& key : keys) pointers.push_back(&key);
  EXPECT_OK(store.Write([&](ShadowTransaction& tx, int64_t) {
    return tx.ReadClocks(t, pointers, [&](const Blob& key, ClockRow clock) {
      std::vector<Value> values;
      EXPECT_TRUE(DecodePackedPk(key, &values).ok());
      clocks.emplace(values.at(0).text(), std::move(clock));
      return Status::OK();
    });
  }));
  return clocks;
}

TEST(MysqlShadowStoreTest, CreatesTheSchemaOnceAndKeepsTheSiteId) {
  MappedDatabase db = TodoDatabase();
  SiteId first{};
  {
    auto store = db.Open();
    first = store->site_id();
    EXPECT_EQ(first[6] >> 4, 4) << "a version 4 UUID";
  }
  auto reopened = db.Open();
  EXPECT_EQ(reopened->site_id(), first);

  AppConnection app(db.url);
  EXPECT_EQ(app.Rows("SELECT version FROM " + db.metadata + ".migrations"), (std::vector<std::string>{"6"}));
  EXPECT_EQ(app.Rows("SELECT COLUMN_NAME, COLUMN_TYPE, COALESCE(COLLATION_NAME, '') FROM information_schema.COLUMNS "
                     "WHERE TABLE_SCHEMA = '" + db.metadata + "' AND TABLE_NAME = 'todos__clock' ORDER BY ORDINAL_POSITION"),
            (std::vector<std::string>{"id|varchar(64)|" + app.Rows("SELECT COLLATION_NAME FROM information_schema.COLUMNS "
                                                                     "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'todos' "
                                                                     "AND COLUMN_NAME = 'id'")[0],
                                      "__cl|bigint(20)|", "__col_versions|text|utf8mb4_bin", "__col_sites|text|utf8mb4_bin",
                                      "__col_hashes|text|utf8mb4_bin", "__lsn|bigint(20)|", "__db_version|bigint(20)|",
                                      "__seq|int(11)|", "__room|varchar(255)|utf8mb4_bin"}));
  // Besides the key, one index for pulls: by room and version (todos has a
  // room column).
  EXPECT_EQ(app.Rows("SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS "
                     "WHERE TABLE_SCHEMA = '" + db.metadata + "' AND TABLE_NAME = 'todos__clock' GROUP BY INDEX_NAME "
                     "ORDER BY INDEX_NAME"),
            (std::vector<std::string>{"PRIMARY|id", "__version|__room,__db_version"}));
  EXPECT_EQ(app.Rows("SELECT name, pk_columns, value_columns, snapshot_lsn, room_rule FROM " + db.metadata +
                     ".tables ORDER BY name"),
            (std::vector<std::string>{
                "todo_lists|[\"id\"]|[\"name\",\"created_at\"]|NULL|room_column: id",
                "todos|[\"id\"]|[\"list_id\",\"title\",\"done\",\"position\",\"due\"]|NULL|room_column: list_id"}));
}

// Version 2 binds client sites to owners; a site of version 1 is bound at
// its next write.
TEST(MysqlShadowStoreTest, AVersionOneSchemaBindsItsPeersAtTheirNextWrite) {
  MappedDatabase db = TodoDatabase();
  db.Open();
  AppConnection app(db.url);
  app.Exec("ALTER TABLE " + db.metadata + ".peers DROP COLUMN owner, DROP COLUMN schema_version");
  app.Exec("ALTER TABLE " + db.metadata + ".tables DROP COLUMN room_rule");
  app.Exec("DELETE FROM " + db.metadata + ".migrations");
  app.Exec("INSERT INTO " + db.metadata + ".migrations (version) VALUES (1)");
  app.Exec("INSERT INTO " + db.metadata + ".peers VALUES (REPEAT('B', 16), 3, 0)");
  auto store = db.Open();
  EXPECT_EQ(app.Rows("SELECT MAX(version) FROM " + db.metadata + ".migrations"), (std::vector<std::string>{"6"}));
  EXPECT_EQ(app.Rows("SELECT room_rule FROM " + db.metadata + ".tables WHERE name = 'todos'"),
            (std::vector<std::string>{"room_column: list_id"}))
      << "a table recorded before takes the rule it has";
  SiteId site;
  site.fill('B');
  PeerRecord peer;
  ASSERT_OK(store->GetPeer(site, &peer));
  EXPECT_EQ(peer.applied.version, 3);
  EXPECT_FALSE(peer.owner.has_value());
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.SetPeerVersion(site, {4, 0}, "room:l1"); }));
  ASSERT_OK(store->GetPeer(site, &peer));
  EXPECT_EQ(peer.owner, "room:l1");
}

TEST(MysqlShadowStoreTest, TwoProcessesStartingAtOnceMakeOneSchema) {
  MappedDatabase db = TodoDatabase();
  std::unique_ptr<ShadowStore> stores[4];
  Status opened[4];
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { opened[i] = db.Open(&stores[i]); });
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < 4; ++i) ASSERT_OK(opened[i]);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(stores[i]->site_id(), stores[0]->site_id());
  AppConnection app(db.url);
  EXPECT_EQ(app.Rows("SELECT COUNT(*) FROM " + db.metadata + ".site"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(app.Rows("SELECT COUNT(*) FROM " + db.metadata + ".tables"), (std::vector<std::string>{"2"}));
}

TEST(MysqlShadowStoreTest, VersionsAreHandedOutInCommitOrder) {
  MappedDatabase db = TodoDatabase();
  auto first = db.Open();
  auto second = db.Open();
  // A write holds its version until it commits: one that starts meanwhile
  // waits, and gets the next version after the first committed.
  std::atomic<bool> holding = false, committed = false;
  int64_t held = 0, next = 0;
  bool waited = false;
  std::thread writer([&] {
    EXPECT_OK(first->Write([&](ShadowTransaction&, int64_t version) {
      held = version;
      holding = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      committed = true;
      return Status::OK();
    }));
  });
  while (!holding) std::this_thread::yield();
  EXPECT_OK(second->Write([&](ShadowTransaction&, int64_t version) {
    next = version;
    waited = committed;
    return Status::OK();
  }));
  writer.join();
  EXPECT_EQ(next, held + 1);
  EXPECT_TRUE(waited);

  // Two writers at full speed: every version once, none skipped.
  std::set<int64_t> seen[2];
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      ShadowStore& store = w == 0 ? *first : *second;
      for (int i = 0; i < 50; ++i) {
        EXPECT_OK(store.Write([&](ShadowTransaction&, int64_t version) {
          seen[w].insert(version);
          return Status::OK();
        }));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<int64_t> all = seen[0];
  all.insert(seen[1].begin(), seen[1].end());
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(*all.begin(), next + 1);
  EXPECT_EQ(*all.rbegin(), next + 100);
  int64_t version = 0;
  ASSERT_OK(first->DbVersion(&version));
  EXPECT_EQ(version, next + 100);
  // A write that fails rolls back and takes no version.
  EXPECT_EQ(first->Write([](ShadowTransaction&, int64_t) { return Status::InvalidArgument("no"); }).code(),
            Status::Code::kInvalidArgument);
  ASSERT_OK(first->DbVersion(&version));
  EXPECT_EQ(version, next + 100);
}

TEST(MysqlShadowStoreTest, ClocksRoundTripWithNullElementsAndRooms) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  const ResolvedTable& todos = db.Table("todos");
  const KeyParameters a = Key("a"), b = Key("b");
  const ClockRow clock_a = Clock(1, {1, std::nullopt, 3, -4, INT64_MAX}, "l1", 77);
  const ClockRow clock_b = Clock(2, {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  int64_t first_version = 0;
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t version) {
    first_version = version;
    return tx.WriteClocks(todos, {ClockWrite{&a, &clock_a, version, 0}, ClockWrite{&b, &clock_b, version, 1}});
  }));
  auto clocks = ReadTodoClocks(*store, todos, {"a", "b", "missing"});
  ASSERT_EQ(clocks.size(), 2u);
  EXPECT_TRUE(clocks.at("a").stored);
  EXPECT_EQ(clocks.at("a").cl, 1);
  EXPECT_EQ(clocks.at("a").versions, clock_a.versions);
  EXPECT_EQ(clocks.at("a").sites, clock_a.sites);
  EXPECT_EQ(clocks.at("a").hashes, clock_a.hashes);
  EXPECT_EQ(clocks.at("a").lsn, 77);
  EXPECT_EQ(clocks.at("b").versions, clock_b.versions);

  // A stored clock written again without a room keeps its room.
  ClockRow again = clocks.at("a");
  again.cl = 2;
  again.versions[1] = 9;
  int64_t second_version = 0;
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t version) {
    second_version = version;
    return tx.WriteClocks(todos, {ClockWrite{&a, &again, version, 5}});
  }));
  EXPECT_EQ(ReadTodoClocks(*store, todos, {"a"}).at("a").versions[1], 9);
  AppConnection app(db.url);
  EXPECT_EQ(app.Rows("SELECT id, __cl, __col_versions, __room, __db_version, __seq FROM " + db.metadata +
                     ".todos__clock ORDER BY id"),
            (std::vector<std::string>{"a|2|1,9,3,-4,9223372036854775807|l1|" + std::to_string(second_version) + "|5",
                                      "b|2|,,,,|NULL|" + std::to_string(first_version) + "|1"}));
}

// Stores the clocks of three todos in one write.
void WriteThreeClocks(ShadowStore& store, const ResolvedTable& todos, const KeyParameters (&keys)[3],
                      const ClockRow (&clocks)[3]) {
  ASSERT_OK(store.Write([&](ShadowTransaction& tx, int64_t version) {
    std::vector<ClockWrite> writes;
    for (int i = 0; i < 3; ++i) writes.push_back(ClockWrite{&keys[i], &clocks[i], version, i});
    return tx.WriteClocks(todos, writes);
  }));
}

// Kills the live clocks of todos (of `which`) below position 100 with
// `seq`: "key cl" of each killed; the write's version in `*version`.
std::vector<std::string> KillBelow100(ShadowStore& store, const ResolvedTable& todos, ShadowTransaction::Kill which,
                                      int seq, int64_t* version) {
  std::vector<std::string> dead;
  size_t killed = 0;
  EXPECT_OK(store.Write([&](ShadowTransaction& tx, int64_t v) {
    *version = v;
    return tx.KillLiveClocks(todos, which, 100, v, seq, true,
                             [&](std::vector<Value> key, int64_t cl) {
                               dead.push_back(key.at(0).text() + " " + std::to_string(cl));
                               return Status::OK();
                             },
                             &killed);
  }));
  EXPECT_EQ(killed, dead.size());
  return dead;
}

TEST(MysqlShadowStoreTest, KillLiveClocksKillsLiveRowsOlderThanThePosition) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  const ResolvedTable& todos = db.Table("todos");
  const KeyParameters keys[] = {Key("old"), Key("dead"), Key("newer")};
  const ClockRow clocks[] = {Clock(1, {1, 1, 1, 1, 1}, "l1", 10), Clock(2, {1, 1, 1, 1, 1}, "l1", 10),
                             Clock(3, {1, 1, 1, 1, 1}, "l1", 500)};
  ASSERT_NO_FATAL_FAILURE(WriteThreeClocks(*store, todos, keys, clocks));
  int64_t kill_version = 0;
  EXPECT_EQ(KillBelow100(*store, todos, ShadowTransaction::Kill::kEveryLiveRow, 7, &kill_version),
            (std::vector<std::string>{"old 2"}));
  AppConnection app(db.url);
  EXPECT_EQ(app.Rows("SELECT id, __cl, __lsn, __db_version, __seq FROM " + db.metadata + ".todos__clock ORDER BY id"),
            (std::vector<std::string>{"dead|2|10|" + std::to_string(kill_version - 1) + "|1",
                                      "newer|3|500|" + std::to_string(kill_version - 1) + "|2",
                                      "old|2|100|" + std::to_string(kill_version) + "|7"}));
}

// After a table is read whole again: the live clocks of rows the app table
// no longer has die, those of rows it has live on.
TEST(MysqlShadowStoreTest, KillLiveClocksOfRowsTheAppLacksSparesTheRowsItHas) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  const ResolvedTable& todos = db.Table("todos");
  AppConnection app(db.url);
  app.Exec("INSERT INTO todos (id, list_id) VALUES ('kept', 'l1')");
  const KeyParameters keys[] = {Key("kept"), Key("gone"), Key("newer")};
  const ClockRow clocks[] = {Clock(1, {1, 1, 1, 1, 1}, "l1", 10), Clock(1, {1, 1, 1, 1, 1}, "l1", 10),
                             Clock(1, {1, 1, 1, 1, 1}, "l1", 500)};
  ASSERT_NO_FATAL_FAILURE(WriteThreeClocks(*store, todos, keys, clocks));
  int64_t kill_version = 0;
  EXPECT_EQ(KillBelow100(*store, todos, ShadowTransaction::Kill::kRowsTheAppLacks, 3, &kill_version),
            (std::vector<std::string>{"gone 2"}));
  EXPECT_EQ(app.Rows("SELECT id, __cl, __lsn FROM " + db.metadata + ".todos__clock ORDER BY id"),
            (std::vector<std::string>{"gone|2|100", "kept|1|10", "newer|1|500"}));
}

// The app table of every MySQL type the mapping takes, and what a merge
// reads back: the canonical SQLite values.
constexpr const char* kTypesTable =
    "CREATE TABLE things (id BIGINT UNSIGNED PRIMARY KEY, at DATETIME(6), price DECIMAL(10,2), flag TINYINT(1), "
    "size ENUM('small','large'), tags SET('red','green','blue'), doc JSON, data BLOB, ratio FLOAT, exact DOUBLE, "
    "stamp TIMESTAMP(3) NULL, span TIME(2), year YEAR, note VARCHAR(20) NOT NULL, bits BIT(5))";


// The values a client sends for the columns of things, as parameters.
std::vector<ServerParameter> Parameters(const ResolvedTable& t, const std::vector<Value>& values) {
  std::vector<ServerParameter> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const ResolvedColumn& c = t.columns[t.pk_count + i];
    EXPECT_OK(ToServerParameter(SourceType::kMysql, c.type, values[i], c.name, &out[i]));
  }
  return out;
}

TEST(MysqlShadowStoreTest, AppRowsOfMysqlTypesReadBackCanonical) {
  MappedDatabase db(TestDatabases::Get().NewMariaDbDatabase(), "  - name: things\n", kTypesTable);
  auto store = db.Open();
  const ResolvedTable& things = db.Table("things");
  ASSERT_EQ(things.columns.size(), 15u);
  // Keys next to each other beyond 2^53, where a comparison as doubles
  // would mix them up.
  const KeyParameters first = Key("9007199254740993"), second = Key("9007199254740992"), max = Key("9223372036854775807");
  const std::vector<Value> sent = {
      Value::Text("2024-01-02T03:04:05.12"), Value::Float(12.5), Value::Float(1.0), Value::Text("large"),
      Value::Text("blue,red"), Value::Text("{\"a\": [1, 2]}"), Value::BlobValue({0, 0xff, 0x10, 0}),
      Value::Float(1.1), Value::Float(0.1), Value::Text("2024-01-02T05:04:05.5+02:00"), Value::Text("-01:02:03.5"),
      Value::Integer(2024), Value::Text("grüße"), Value::Integer(19)};
  const std::vector<ServerParameter> params = Parameters(things, sent);
  std::vector<const ServerParameter*> pointers;
  for (const ServerParameter& p : params) pointers.push_back(&p);
  std::vector<size_t> every(sent.size());
  for (size_t i = 0; i < every.size(); ++i) every[i] = i;
  const std::vector<Value> canonical = {
      Value::Text("2024-01-02T03:04:05.120000"), Value::Text("12.50"), Value::Integer(1), Value::Text("large"),
      Value::Text("red,blue"), Value::Text("{\"a\": [1, 2]}"), Value::BlobValue({0, 0xff, 0x10, 0}),
      Value::Float(static_cast<double>(1.1f)), Value::Float(0.1), Value::Text("2024-01-02T03:04:05.500Z"),
      Value::Text("-01:02:03.50"), Value::Integer(2024), Value::Text("grüße"), Value::Integer(19)};
  std::map<std::string, std::vector<Value>> stored;
  const auto collect = [&](std::map<std::string, std::vector<Value>>* into) {
    return [into](const Blob& key, std::vector<Value> values) {
      std::vector<Value> decoded;
      EXPECT_TRUE(DecodePackedPk(key, &decoded).ok());
      (*into)[std::to_string(decoded.at(0).integer())] = std::move(values);
      return Status::OK();
    };
  };
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) {
    return tx.InsertAppRows(things, every,
                            {AppRowWrite{&first, pointers}, AppRowWrite{&second, pointers}, AppRowWrite{&max, pointers}},
                            collect(&stored));
  }));
  ASSERT_EQ(stored.size(), 3u);
  for (const auto& [key, values] : stored) {
    ASSERT_EQ(values.size(), canonical.size());
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], canonical[i]) << key << " " << things.columns[i + 1].name;
  }

  // Rows writing different columns: the others keep their values exactly.
  const ServerParameter new_time{false, "2025-05-06 07:08:09.000001"}, new_price{false, "0.05"}, null{true, ""};
  std::map<std::string, std::vector<Value>> updated;
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) {
    return tx.UpdateAppRows(things, {0, 1, 5},
                            {AppRowWrite{&first, {&new_time, nullptr, &null}}, AppRowWrite{&second, {nullptr, &new_price, nullptr}}},
                            collect(&updated));
  }));
  EXPECT_EQ(updated.at("9007199254740993"),
            (std::vector<Value>{Value::Text("2025-05-06T07:08:09.000001"), Value::Text("12.50"), Value::Null()}));
  EXPECT_EQ(updated.at("9007199254740992"),
            (std::vector<Value>{canonical[0], Value::Text("0.05"), canonical[5]}));

  // Locking reads every value column, in key order, under packed keys.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Value>> locked;
  const std::vector<const KeyParameters*> all = {&max, &first, &second};
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) {
    return tx.LockAppRows(things, all, [&](const Blob& key, std::vector<Value> values) {
      order.push_back(key == Packed({Value::Integer(9007199254740992)}) ? "second" : key == Packed({Value::Integer(9007199254740993)}) ? "first" : "max");
      locked[order.back()] = std::move(values);
      return Status::OK();
    });
  }));
  EXPECT_EQ(order, (std::vector<std::string>{"second", "first", "max"}));
  EXPECT_EQ(locked.at("max"), canonical);
  EXPECT_EQ(locked.at("first")[0], Value::Text("2025-05-06T07:08:09.000001"));
  EXPECT_EQ(locked.at("first")[7], canonical[7]) << "a kept FLOAT is unchanged";
  EXPECT_EQ(locked.at("first")[8], canonical[8]) << "a kept DOUBLE is unchanged";
  EXPECT_EQ(locked.at("first")[6], canonical[6]) << "a kept BLOB is unchanged";

  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.DeleteAppRows(things, {&first, &max}); }));
  AppConnection app(db.url);
  EXPECT_EQ(app.Rows("SELECT id FROM things"), (std::vector<std::string>{"9007199254740992"}));
}

TEST(MysqlShadowStoreTest, ADuplicateKeyAbortsTheWholeWrite) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  const ResolvedTable& lists = db.Table("todo_lists");
  AppConnection app(db.url);
  app.Exec("INSERT INTO todo_lists (id, name) VALUES ('l1', 'by the app')");
  int64_t before = 0, after = 0;
  ASSERT_OK(store->DbVersion(&before));
  const KeyParameters l1 = Key("l1"), l2 = Key("l2");
  const ServerParameter name{false, "by crbridge"};
  const Status s = store->Write([&](ShadowTransaction& tx, int64_t) {
    CRBRIDGE_RETURN_IF_ERROR(tx.InsertAppRows(lists, {0}, {AppRowWrite{&l2, {&name}}}, [](const Blob&, std::vector<Value>) {
      return Status::OK();
    }));
    return tx.InsertAppRows(lists, {0}, {AppRowWrite{&l1, {&name}}}, [](const Blob&, std::vector<Value>) { return Status::OK(); });
  });
  EXPECT_EQ(s.code(), Status::Code::kAborted) << s.ToString();
  ASSERT_OK(store->DbVersion(&after));
  EXPECT_EQ(after, before);
  EXPECT_EQ(app.Rows("SELECT id, name FROM todo_lists"), (std::vector<std::string>{"l1|by the app"}));
}

TEST(MysqlShadowStoreTest, ALostConnectionIsUnavailableAndTheNextCallConnects) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  ASSERT_OK(store->Read([](ShadowSnapshot&) { return Status::OK(); }));
  AppConnection app(db.url);
  // Every connection of the store (its writer and reader use the test's
  // database by default).
  for (const std::string& id : app.Rows("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
                                        "AND ID <> CONNECTION_ID()")) {
    app.Exec("KILL CONNECTION " + id);
  }
  const Status write = store->Write([](ShadowTransaction&, int64_t) { return Status::OK(); });
  EXPECT_EQ(write.code(), Status::Code::kUnavailable) << write.ToString();
  const Status read = store->Read([](ShadowSnapshot&) { return Status::OK(); });
  EXPECT_EQ(read.code(), Status::Code::kUnavailable) << read.ToString();
  EXPECT_OK(store->Write([](ShadowTransaction&, int64_t) { return Status::OK(); }));
  EXPECT_OK(store->Read([](ShadowSnapshot&) { return Status::OK(); }));
  int64_t version = 0;
  EXPECT_OK(store->DbVersion(&version));
  EXPECT_EQ(version, 1);
}

TEST(MysqlShadowStoreTest, PeersSitesCapturePositionAndSnapshots) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  SiteId alice{}, bob{};
  alice.fill(0xa1);
  bob.fill(0x00);  // NUL bytes survive
  const auto set = [&](const SiteId& site, int64_t version, int64_t seq) {
    EXPECT_OK(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.SetPeerVersion(site, {version, seq}, std::nullopt); }));
    PeerRecord now;
    EXPECT_OK(store->GetPeer(site, &now));
    return std::to_string(now.applied.version) + "/" + std::to_string(now.applied.seq);
  };
  EXPECT_EQ(set(alice, 5, 3), "5/3");
  EXPECT_EQ(set(alice, 4, 9), "5/3") << "a version never goes back";
  EXPECT_EQ(set(alice, 5, 7), "5/7");
  EXPECT_EQ(set(alice, 6, 1), "6/1");
  PeerRecord unknown;
  ASSERT_OK(store->GetPeer(bob, &unknown));
  EXPECT_EQ(unknown.applied.version, 0);

  int ordinals[3] = {};
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) {
    CRBRIDGE_RETURN_IF_ERROR(tx.SiteOrdinal(alice, &ordinals[0]));
    CRBRIDGE_RETURN_IF_ERROR(tx.SiteOrdinal(bob, &ordinals[1]));
    return tx.SiteOrdinal(alice, &ordinals[2]);
  }));
  EXPECT_GT(ordinals[0], 0);
  EXPECT_NE(ordinals[0], ordinals[1]);
  EXPECT_EQ(ordinals[2], ordinals[0]);
  std::map<int64_t, SiteId> sites;
  ASSERT_OK(store->Read([&](ShadowSnapshot& snapshot) { return snapshot.Sites(&sites); }));
  EXPECT_EQ(sites, (std::map<int64_t, SiteId>{{ordinals[0], alice}, {ordinals[1], bob}}));

  const auto capture = [&](int64_t offset, const std::string& resume) {
    EXPECT_OK(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.SetCapturePosition({offset, resume}); }));
    SourcePosition now;
    EXPECT_OK(store->CapturePosition(&now));
    return std::to_string(now.offset) + " " + now.resume;
  };
  SourcePosition initial;
  ASSERT_OK(store->CapturePosition(&initial));
  EXPECT_EQ(initial.offset, 0);
  EXPECT_EQ(capture(100, "0-1-5"), "100 0-1-5");
  EXPECT_EQ(capture(50, "0-1-2"), "100 0-1-5") << "never back";
  EXPECT_EQ(capture(200, "0-1-9"), "200 0-1-9");

  const ResolvedTable& todos = db.Table("todos");
  std::optional<int64_t> snapshot = 1;
  ASSERT_OK(store->SnapshotPosition(todos, &snapshot));
  EXPECT_EQ(snapshot, std::nullopt);
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.MarkSnapshotDone(todos, 70); }));
  ASSERT_OK(store->SnapshotPosition(todos, &snapshot));
  EXPECT_EQ(snapshot, 70);
  ASSERT_OK(store->SnapshotPosition(db.Table("todo_lists"), &snapshot));
  EXPECT_EQ(snapshot, std::nullopt);
  ASSERT_OK(store->ForgetSnapshot(todos));
  ASSERT_OK(store->SnapshotPosition(todos, &snapshot));
  EXPECT_EQ(snapshot, std::nullopt) << "forgotten: to read again";
}

TEST(MysqlShadowStoreTest, AppPositionIsTheEndOfTheBinlog) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  AppConnection app(db.url);
  const auto position = [&] {
    int64_t offset = 0;
    EXPECT_OK(store->Write([&](ShadowTransaction& tx, int64_t) { return tx.AppPosition(&offset); }));
    return offset;
  };
  const int64_t before = position();
  const std::vector<std::string> status = app.Rows("SHOW MASTER STATUS");
  const std::string file = status.at(0).substr(0, status[0].find('|'));
  BinlogPosition decoded;
  ASSERT_OK(DecodeBinlogOffset(file.substr(0, file.rfind('.')), before, &decoded));
  EXPECT_EQ(decoded.file, file);
  app.Exec("INSERT INTO todo_lists (id) VALUES ('x')");
  EXPECT_GT(position(), before);
}

TEST(MysqlShadowStoreTest, ChangesAreLoggedWithTheirClocks) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  const ResolvedTable& todos = db.Table("todos");
  const std::vector<Value> key = {Value::Text("t1")};
  const std::vector<Value> values = {Value::Text("l1"), Value::Text("milk"), Value::Integer(0), Value::Float(1.5),
                                     Value::Null()};
  ClockRow before(5), after = Clock(1, {1, 1, std::nullopt, 2, std::nullopt});
  ClockRow dead = Clock(2, {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt});
  LoggedChange created{&key, &before, &after, {}, 0, 0, 1000};
  for (const Value& v : values) created.values.push_back(&v);
  LoggedChange deleted{&key, &after, &dead, {}, 1, 4242, 2000};
  int64_t version = 0;
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t v) {
    version = v;
    CRBRIDGE_RETURN_IF_ERROR(tx.LogChanges(todos, v, {true, 3}, {created}));
    return tx.LogChanges(todos, v, {false, 0}, {deleted});
  }));
  AppConnection app(db.url);
  EXPECT_EQ(app.Rows("SELECT db_version, seq, table_name, HEX(pk), op, cl, key_json, columns_json, from_client, "
                     "source_lsn, client_ordinal, source_time_us FROM " + db.metadata + ".change_events ORDER BY seq"),
            (std::vector<std::string>{
                std::to_string(version) + "|0|todos|010B027431|c|1|{\"id\":\"t1\"}|"
                "{\"list_id\":{\"col_version\":1,\"site\":1,\"value\":\"l1\"},\"position\":{\"col_version\":2,\"site\":2,"
                "\"value\":1.5},\"title\":{\"col_version\":1,\"site\":1,\"value\":\"milk\"}}|1|NULL|3|1000",
                std::to_string(version) + "|1|todos|010B027431|d|2|{\"id\":\"t1\"}|{}|0|4242|NULL|2000"}));
}

TEST(MysqlShadowStoreTest, SnapshotsReadOneConsistentView) {
  MappedDatabase db = TodoDatabase();
  auto store = db.Open();
  auto other = db.Open();
  const ResolvedTable& todos = db.Table("todos");
  AppConnection app(db.url);
  app.Exec("INSERT INTO todos (id, list_id, title, done, position) VALUES ('t1', 'l1', 'milk', 1, 0.1), "
           "('t3', 'l2', 'tea', 0, NULL)");
  const KeyParameters t1 = Key("t1"), t2 = Key("t2"), t3 = Key("t3");
  const ClockRow live = Clock(1, {1, 1, 1, 1, std::nullopt}, "l1"), gone = Clock(1, {1, 1, 1, 1, 1}, "l1"),
                 other_room = Clock(4, {1, 1, 1, 1, 1}, "l2");
  int64_t v1 = 0, v2 = 0;
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t v) {
    v1 = v;
    return tx.WriteClocks(todos, {ClockWrite{&t1, &live, v, 0}, ClockWrite{&t3, &other_room, v, 1}});
  }));
  ASSERT_OK(store->Write([&](ShadowTransaction& tx, int64_t v) {
    v2 = v;
    return tx.WriteClocks(todos, {ClockWrite{&t2, &gone, v, 0}});
  }));
  ASSERT_OK(store->Read([&](ShadowSnapshot& snapshot) -> Status {
    std::vector<int64_t> versions;
    CRBRIDGE_RETURN_IF_ERROR(snapshot.VersionsAfter(todos, 0, std::string("l1"), 10, &versions));
    EXPECT_EQ(versions, (std::vector<int64_t>{v1, v2}));
    CRBRIDGE_RETURN_IF_ERROR(snapshot.VersionsAfter(todos, 0, std::nullopt, 2, &versions));
    EXPECT_EQ(versions, (std::vector<int64_t>{v1, v1}));
    // A write committed meanwhile is not in this snapshot.
    EXPECT_OK(other->Write([&](ShadowTransaction& tx, int64_t v) {
      return tx.WriteClocks(todos, {ClockWrite{&t1, &live, v, 0}});
    }));
    CRBRIDGE_RETURN_IF_ERROR(snapshot.VersionsAfter(todos, v1, std::nullopt, 10, &versions));
    EXPECT_EQ(versions, (std::vector<int64_t>{v2}));

    std::map<std::string, PulledRow> rows;
    CRBRIDGE_RETURN_IF_ERROR(snapshot.RowsBetween(todos, 0, v2, std::string("l1"), [&](PulledRow row) {
      rows.emplace(row.key.at(0).text(), std::move(row));
      return Status::OK();
    }));
    EXPECT_EQ(rows.size(), 2u);
    const PulledRow& milk = rows.at("t1");
    EXPECT_TRUE(milk.app_row_exists);
    EXPECT_EQ(milk.db_version, v1);
    EXPECT_EQ(milk.clock.versions, live.versions);
    EXPECT_EQ(milk.clock.room, "l1");
    EXPECT_EQ(milk.values, (std::vector<Value>{Value::Text("l1"), Value::Text("milk"), Value::Integer(1), Value::Float(0.1),
                                               Value::Null()}));
    EXPECT_FALSE(rows.at("t2").app_row_exists);
    EXPECT_TRUE(rows.at("t2").values.empty());
    rows.clear();
    CRBRIDGE_RETURN_IF_ERROR(snapshot.RowsBetween(todos, 0, v2, std::nullopt, [&](PulledRow row) {
      rows.emplace(row.key.at(0).text(), std::move(row));
      return Status::OK();
    }));
    EXPECT_EQ(rows.size(), 3u);
    EXPECT_TRUE(rows.at("t3").app_row_exists);
    EXPECT_TRUE(rows.at("t3").values.empty()) << "a dead row's values are not read";
    return Status::OK();
  }));
}

}  // namespace
}  // namespace crbridge::testing
