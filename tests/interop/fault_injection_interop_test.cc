// Faults while the published vlcn clients and the app write, on Postgres
// and on MariaDB: the database crashes and restarts mid-stream, crbridge is
// killed with SIGKILL and started again, client connections are cut in
// the middle of a message (through CuttingProxy), the app renames the
// todos table for a while or swaps in a new one, the app writes NaN and
// infinities (Postgres), and a raw client sends values and clocks no
// client may (each refused with an Err). Whatever the order, once
// the faults stop every client holds exactly its room's rows of the
// database. The README's "What crbridge guarantees under faults" is what
// this suite checks; a database restart alone is checked in detail too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crbridge/sqlite/vlcn_subprotocol.h"
#include "databases/test_databases.h"
#include "eventually.h"
#include "peers/client_todos.h"
#include "peers/crsqlite_peer.h"
#include "peers/ws_client.h"
#include "processes/cutting_proxy.h"
#include "processes/running_daemon.h"
#include "todo_app/todo_app_database.h"
#include "todo_app/todo_rows.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

// The clocks of todos, a row each, for a failure to show.
std::string TodoClocks(TodoAppDatabase& app) {
  std::string out;
  for (const auto& row : app.Rows("SELECT id, __cl, __lsn, __db_version, __room FROM " + app.metadata() +
                                  ".todos__clock ORDER BY id")) {
    for (const auto& field : row) out += field.value_or("NULL") + " ";
    out += "\n";
  }
  return out;
}

// A client's clocks of todos, a change each, for a failure to show.
std::string ClientClocks(CrSqlitePeer& client) {
  std::string out;
  for (const auto& row : client.Query(
           "SELECT 'text', hex(pk) || ' ' || cid || ' ' || quote(val) || ' cl ' || cl || ' col ' || col_version || "
           "' db ' || db_version || ' ' || hex(site_id) FROM crsql_changes WHERE \"table\" = 'todos' ORDER BY pk, cid")) {
    out += row[0].text() + "\n";
  }
  return out;
}

// A changeset no client may send, and words its Err must hold: text that
// is not UTF-8 or holds a NUL byte, a day not in the calendar, a clock
// that leaves no room to grow.
struct HostileChangeset {
  Change change;
  const char* refusal;
};

std::vector<HostileChangeset> HostileChangesets() {
  constexpr int64_t kLargest = std::numeric_limits<int64_t>::max();
  return {{RawTodoChange("t0", "title", Value::Text("caf\xe9"), 1, 1), "text must be valid UTF-8"},
          {RawTodoChange("t0", "title", Value::Text(std::string("a\0b", 3)), 1, 1), "without NUL bytes"},
          {RawTodoChange("t0", "due", Value::Text("2023-02-29"), 1, 1), "not a day of the calendar"},
          {RawTodoChange("t0", "title", Value::Text("mine"), kLargest, 1), "2^62"}};
}

// Sends `hostile` as a raw client of room l1 (of schema `schema_version`)
// with a site of its own; the Err it gets back ("" when none came).
std::string SendHostile(uint16_t port, int64_t schema_version, const HostileChangeset& hostile, uint32_t site_seed) {
  WsClient attacker;
  if (attacker.Connect(port, EncodeSubprotocol({"l1", std::nullopt})) != 101) return "";
  SiteId site;
  site.fill(static_cast<uint8_t>(site_seed));
  site[0] = 0x66;
  site[1] = static_cast<uint8_t>(site_seed >> 8);
  attacker.Send(RawPresence(site, schema_version));
  attacker.Send(ChangesMessage{site, {0, 0}, {RawTodoChange("t0", "list_id", Value::Text("l1"), 1, 1), hostile.change}});
  return attacker.NextErr();
}

// The system under faults: a database server of the test's own, the app on
// it, crbridge behind a proxy that cuts, and vlcn clients in two rooms.
class FaultedSystem {
 public:
  explicit FaultedSystem(ServerKind kind)
      : server_(kind), app_(std::make_unique<TodoAppDatabase>(server_)) {
    app_->Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work')");
    config_ = app_->Config(CRBRIDGE_SOURCE_DIR, "faults");
    StartCrbridge();
    proxy_ = std::make_unique<CuttingProxy>(daemon_->port());
    schema_ = ClientSchema(CRBRIDGE_BINARY, config_);
  }

  TodoAppDatabase& app() { return *app_; }
  RunningDaemon& daemon() { return *daemon_; }
  // What every crbridge process of the test printed, the killed ones first.
  std::string CrbridgeOutput() const { return killed_output_ + daemon_->process().Output(); }
  CuttingProxy& proxy() { return *proxy_; }
  std::string SyncUrl() const { return "ws://127.0.0.1:" + std::to_string(proxy_->port()) + "/sync"; }
  const std::string& schema() const { return schema_; }

  // Kills the database server without a clean shutdown; it recovers.
  void CrashDatabase() {
    app_.reset();
    server_.CrashRestart();
    app_ = std::make_unique<TodoAppDatabase>(server_.kind(), url_);
  }

  // An app write. InnoDB may pick it as a deadlock victim (a merge locks
  // the same rows, an INSERT ... SELECT reads them with shared locks): the
  // app then runs it again, as apps do.
  void AppSql(const std::string& sql) {
    for (int attempt = 0;; ++attempt) {
      try {
        app_->Sql(sql);
        return;
      } catch (const std::exception& e) {
        if (attempt == 4 || std::string(e.what()).find("eadlock") == std::string::npos) throw;
      }
    }
  }

  // The app renames todos for a while and writes to it meanwhile (a brief
  // rename), or swaps in a copy it changed (a migration's new table).
  void RenameTodos(bool swap) {
    const bool postgres = server_.kind() == ServerKind::kPostgres;
    const auto rename = [&](const std::string& from, const std::string& to) {
      AppSql(postgres ? "ALTER TABLE " + from + " RENAME TO " + to : "RENAME TABLE " + from + " TO " + to);
    };
    if (!swap) {
      rename("todos", "todos_away");
      AppSql("UPDATE todos_away SET title = 'while renamed'");
      rename("todos_away", "todos");
      return;
    }
    AppSql(postgres ? "CREATE TABLE todos_next (LIKE todos INCLUDING ALL)" : "CREATE TABLE todos_next LIKE todos");
    AppSql("INSERT INTO todos_next SELECT * FROM todos");
    AppSql(postgres ? "UPDATE todos_next SET done = NOT done" : "UPDATE todos_next SET done = 1 - done");
    rename("todos", "todos_old");
    rename("todos_next", "todos");
    AppSql("DROP TABLE todos_old");
  }

  // Kills the database server, which stays down until StartDatabase.
  void StopDatabase() {
    app_.reset();
    server_.Crash();
  }
  void StartDatabase() {
    server_.StartAgain();
    app_ = std::make_unique<TodoAppDatabase>(server_.kind(), url_);
  }

  // Ends crbridge's database connections, as a restart of the database
  // between two probes of crbridge's source monitor would, or a proxy or
  // an administrator: the database stays up.
  void CutDatabaseConnections() {
    if (server_.kind() == ServerKind::kPostgres) {
      app_->One("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND backend_type IN ('client backend', 'walsender')");
      return;
    }
    for (const auto& row : app_->Rows("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'crbridge' "
                                      "AND ID <> CONNECTION_ID()")) {
      try {
        app_->Sql("KILL CONNECTION " + *row[0]);
      } catch (const std::exception&) {
        // It ended meanwhile (the source monitor's probes are short).
      }
    }
  }

  // Kills crbridge with SIGKILL and starts it again on the same config.
  void KillCrbridge() {
    daemon_->process().Signal(SIGKILL);
    daemon_->process().Wait(seconds(30));
    killed_output_ += daemon_->process().Output() + "(killed)\n";
    StartCrbridge();
    proxy_->Retarget(daemon_->port());
  }

 private:
  void StartCrbridge() {
    if (url_.empty()) url_ = app_->url;
    daemon_ = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config_, url_);
  }

  DatabaseServer server_;
  std::unique_ptr<TodoAppDatabase> app_;
  std::string url_;
  std::string config_;
  std::string schema_;
  std::unique_ptr<RunningDaemon> daemon_;
  std::string killed_output_;
  std::unique_ptr<CuttingProxy> proxy_;
};

class FaultInjectionTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(FaultInjectionTest, EveryClientEqualsTheDatabaseAfterRandomFaults) {
  FaultedSystem system(GetParam());
  ASSERT_EQ(system.daemon().WaitForStatus("/readyz", 200).status, 200) << system.daemon().process().Output();

  // Keys differ by room: a client writing a key of another room is refused.
  const std::vector<std::pair<std::string, std::string>> rooms = {{"l1", "t"}, {"l1", "t"}, {"l2", "u"}};
  std::vector<std::unique_ptr<CrSqlitePeer>> clients;
  for (const auto& [room, prefix] : rooms) {
    clients.push_back(std::make_unique<CrSqlitePeer>());
    clients.back()->Automigrate("todo_app", system.schema());
    clients.back()->Connect(system.SyncUrl(), room);
  }
  std::mt19937 random(16);
  const auto half = [&] { return std::to_string(random() % 9) + ".5"; };  // never integral: see README
  const bool postgres = GetParam() == ServerKind::kPostgres;
  const std::string insert_ignore = postgres ? "INSERT " : "INSERT IGNORE ";
  const std::string on_conflict = postgres ? " ON CONFLICT DO NOTHING" : "";
  const std::vector<HostileChangeset> hostile = HostileChangesets();
  // Postgres stores NaN and the infinities; MariaDB's DOUBLE has none.
  const std::vector<std::string> specials = {"'NaN'", "'Infinity'", "'-Infinity'"};
  const auto position = [&] { return postgres && random() % 4 == 0 ? specials[random() % 3] : half(); };
  int database_crashes = 0, crbridge_kills = 0, renames = 0, hostile_sent = 0;
  for (int round = 0; round < 150; ++round) {
    const size_t who = random() % (clients.size() + 1);
    const auto& [room, prefix] = rooms[who == clients.size() ? random() % rooms.size() : who];
    const std::string id = "'" + prefix + std::to_string(random() % 5) + "'";
    if (const int fault = random() % 100; fault < 4) {
      system.CrashDatabase();
      ++database_crashes;
    } else if (fault < 8) {
      system.KillCrbridge();
      ++crbridge_kills;
    } else if (fault < 16) {
      system.proxy().CutAll(random() % 300);
    } else if (fault < 20) {
      system.RenameTodos(random() % 2 == 0);
      ++renames;
    } else if (fault < 24) {
      const HostileChangeset& sent = hostile[random() % hostile.size()];
      const std::string err = SendHostile(system.daemon().port(), SchemaVersion(system.schema()), sent, static_cast<uint32_t>(round));
      EXPECT_NE(err.find(sent.refusal), std::string::npos) << "Err: " << err;
      ++hostile_sent;
    }
    if (who == clients.size()) {
      std::string sql;
      switch (random() % 3) {
        case 0:
          sql = insert_ignore + "INTO todos (id, list_id, title) VALUES (" + id + ", '" + room + "', 'app')" + on_conflict;
          break;
        case 1:
          sql = "UPDATE todos SET title = 'app " + std::to_string(round) + "', position = " + position() +
                " WHERE id = " + id;
          break;
        default: sql = "DELETE FROM todos WHERE id = " + id;
      }
      system.AppSql(sql);
    } else {
      CrSqlitePeer& c = *clients[who];
      switch (random() % 4) {
        case 0:
          c.Exec("INSERT OR IGNORE INTO todos (id, list_id, title) VALUES (" + id + ", '" + room + "', 'c" +
                 std::to_string(who) + "')");
          break;
        case 1: c.Exec("UPDATE todos SET title = 'c" + std::to_string(who) + " " + std::to_string(round) + "' WHERE id = " + id); break;
        case 2: c.Exec("UPDATE todos SET done = 1 - done, position = " + half() + " WHERE id = " + id); break;
        default: c.Exec("DELETE FROM todos WHERE id = " + id);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 40));
  }
  EXPECT_GT(database_crashes, 0);
  EXPECT_GT(crbridge_kills, 0);
  EXPECT_GT(system.proxy().cuts(), 0) << "the proxy cut connections mid-stream";
  EXPECT_GT(renames, 0);
  EXPECT_GT(hostile_sent, 0);
  // The last fault is the database's: what comes after must not depend on
  // crbridge starting afresh.
  system.CrashDatabase();
  ASSERT_EQ(system.daemon().WaitForStatus("/readyz", 200).status, 200) << system.daemon().process().Output();

  // Random deletes may empty a room: a row of each for the comparison to bite on.
  system.AppSql("INSERT INTO todos (id, list_id, title) VALUES ('t9', 'l1', 'last'), ('u9', 'l2', 'last')");
  for (size_t i = 0; i < clients.size(); ++i) {
    const std::string& room = rooms[i].first;
    EXPECT_TRUE(Eventually([&] { return ClientTodos(*clients[i], room) == system.app().RoomTodos(room); }, seconds(60)))
        << "client " << i << " of room " << room << ":\n" << ClientTodos(*clients[i], room) << "database:\n"
        << system.app().RoomTodos(room) << "clocks:\n" << TodoClocks(system.app()) << "client clocks:\n"
        << ClientClocks(*clients[i]) << "crbridge:\n" << system.CrbridgeOutput();
  }
  for (auto& c : clients) c->Disconnect();
}

bool SyncStoreReady(RunningDaemon& daemon) {
  const nlohmann::json components = nlohmann::json::parse(daemon.Get("/readyz").body)["components"];
  return components.contains("sync") && components["sync"]["ready"] == true;
}

// A vlcn client syncing room l1 through crbridge (not the proxy).
void ConnectToRoom(FaultedSystem& system, CrSqlitePeer& client) {
  client.Automigrate("todo_app", system.schema());
  client.Connect(system.daemon().SyncUrl(), "l1");
}

// Whether `client` comes to hold exactly the todos of room l1 that the
// database holds.
::testing::AssertionResult HoldsTheRoom(FaultedSystem& system, CrSqlitePeer& client) {
  if (Eventually([&] { return ClientTodos(client, "l1") == system.app().RoomTodos("l1"); }, seconds(60))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << ClientTodos(client, "l1") << "database:\n" << system.app().RoomTodos("l1")
                                       << system.daemon().process().Output();
}

void ExpectNobodyRefusedOrDisconnected(RunningDaemon& daemon) {
  const std::string output = daemon.process().Output();
  EXPECT_EQ(output.find("msg=\"client refused\""), std::string::npos) << output;
  EXPECT_EQ(output.find("msg=\"client disconnected\""), std::string::npos) << output;
  EXPECT_NE(daemon.Get("/metrics").body.find("\ncrbridge_sync_refusals_total 0\n"), std::string::npos);
}

// One database restart, alone: /readyz says 503 while the sync server
// cannot reach the database and 200 once it can again; a client connected
// across the restart keeps its connection, its write made while the
// database was away gets in, and app writes reach it; a client connecting
// right after the restart is served its room. Nobody is refused or
// disconnected.
TEST_P(FaultInjectionTest, ADatabaseRestartRefusesNobodyAndReadinessTellsTheTruth) {
  FaultedSystem system(GetParam());
  RunningDaemon& daemon = system.daemon();
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  system.app().Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'before the restart')");
  CrSqlitePeer across;
  ConnectToRoom(system, across);
  ASSERT_TRUE(HoldsTheRoom(system, across));

  system.StopDatabase();
  EXPECT_TRUE(Eventually([&] { return daemon.Get("/readyz").status == 503 && !SyncStoreReady(daemon); }, seconds(60)))
      << daemon.Get("/readyz").body;
  across.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'while the database is away')");
  system.StartDatabase();
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  EXPECT_TRUE(SyncStoreReady(daemon));

  CrSqlitePeer after;
  ConnectToRoom(system, after);
  system.app().Sql("INSERT INTO todos (id, list_id, title) VALUES ('t3', 'l1', 'app write after the restart')");
  across.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t4', 'l1', 'client write after the restart')");
  EXPECT_TRUE(Eventually([&] { return system.app().One("SELECT count(*) FROM todos") == "4"; }, seconds(60)))
      << system.app().RoomTodos("l1") << daemon.process().Output();
  EXPECT_TRUE(HoldsTheRoom(system, across));
  EXPECT_TRUE(HoldsTheRoom(system, after));
  ExpectNobodyRefusedOrDisconnected(daemon);
  across.Disconnect();
  after.Disconnect();
}

// crbridge's connections to the database cut, the database staying up
// (nothing tells crbridge but the errors of its next requests): a client
// connecting right after is served its room, and a client connected across
// the cut gets app writes and gets its writes in, on its own connection.
TEST_P(FaultInjectionTest, CutDatabaseConnectionsAreOpenedAgainWithoutRefusingAnybody) {
  FaultedSystem system(GetParam());
  RunningDaemon& daemon = system.daemon();
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  system.app().Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'before the cut')");
  CrSqlitePeer across;
  ConnectToRoom(system, across);
  ASSERT_TRUE(HoldsTheRoom(system, across));

  system.CutDatabaseConnections();
  CrSqlitePeer after;
  ConnectToRoom(system, after);
  EXPECT_TRUE(HoldsTheRoom(system, after));
  system.CutDatabaseConnections();
  across.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'client write after the cut')");
  system.app().Sql("INSERT INTO todos (id, list_id, title) VALUES ('t3', 'l1', 'app write after the cut')");
  EXPECT_TRUE(Eventually([&] { return system.app().One("SELECT count(*) FROM todos") == "3"; }, seconds(60)))
      << system.app().RoomTodos("l1") << daemon.process().Output();
  EXPECT_TRUE(HoldsTheRoom(system, across));
  EXPECT_TRUE(HoldsTheRoom(system, after));
  EXPECT_NE(daemon.process().Output().find("component=sync msg=\"lost the database; reconnecting\""), std::string::npos)
      << daemon.process().Output();
  ExpectNobodyRefusedOrDisconnected(daemon);
  across.Disconnect();
  after.Disconnect();
}

// A client's catch-up pull that fails (here: a clock table renamed away,
// an error no reconnect cures) is tried again, with backoff, until it
// succeeds: once the table is back the client gets its room, without a
// write of anyone to wake it.
TEST_P(FaultInjectionTest, AFailedPullIsTriedAgainUntilItSucceeds) {
  FaultedSystem system(GetParam());
  RunningDaemon& daemon = system.daemon();
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  system.app().Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'pulled at last')");
  ASSERT_TRUE(Eventually([&] {
    return system.app().One("SELECT count(*) FROM " + system.app().metadata() + ".todos__clock") == "1";
  })) << daemon.process().Output();
  const std::string clocks = system.app().metadata() + ".todos__clock";
  const std::string renamed = system.app().metadata() + ".todos__clock_away";
  const bool postgres = GetParam() == ServerKind::kPostgres;
  system.app().Sql(postgres ? "ALTER TABLE " + clocks + " RENAME TO todos__clock_away"
                            : "RENAME TABLE " + clocks + " TO " + renamed);
  CrSqlitePeer client;
  ConnectToRoom(system, client);
  ASSERT_TRUE(daemon.process().WaitForOutput("msg=\"pull failed; trying again\"", seconds(60)))
      << daemon.process().Output();
  system.app().Sql(postgres ? "ALTER TABLE " + renamed + " RENAME TO todos__clock"
                            : "RENAME TABLE " + renamed + " TO " + clocks);
  EXPECT_TRUE(HoldsTheRoom(system, client));
  client.Disconnect();
}

INSTANTIATE_TEST_SUITE_P(Databases, FaultInjectionTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
