// Rows the app moves between rooms by column, with the published vlcn
// client on Postgres and MariaDB: the old room's clients lose the row and
// no delete travels back to the database; the new room's clients get it
// whole; a row that comes back returns whole with what changed meanwhile,
// its old room's own writes included; a write made offline to a row that
// has left the client's room is not applied and the row leaves the client
// (docs/design.md, "Rows moving between rooms"). A new room column across
// a restart moves the rows whose room it changes the same way.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "databases/test_databases.h"
#include "eventually.h"
#include "peers/client_todos.h"
#include "peers/crsqlite_peer.h"
#include "processes/running_daemon.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

// The todo app with lists l1 and l2, and crbridge in front of it.
struct System {
  // `name`: the config's, and the replication slot's: one per test.
  // `migration`: app DDL run before crbridge starts.
  System(ServerKind kind, const std::string& name, const std::string& migration = "") : app(kind) {
    if (!migration.empty()) app.Sql(migration);
    app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work')");
    config = app.Config(CRBRIDGE_SOURCE_DIR, name);
    daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config, app.url);
    schema = ClientSchema(CRBRIDGE_BINARY, config);
  }

  // A vlcn client with the app's schema, syncing in `room`.
  std::unique_ptr<CrSqlitePeer> Client(const std::string& room) {
    auto client = std::make_unique<CrSqlitePeer>();
    client->Automigrate("todo_app", schema);
    client->Connect(daemon->SyncUrl(), room);
    return client;
  }

  // Whether `client` comes to hold exactly the database's todos of `room`,
  // and no other todo.
  bool Holds(CrSqlitePeer& client, const std::string& room) {
    return Eventually([&] {
      return ClientTodos(client, room) == app.RoomTodos(room) &&
             client.Query("SELECT id FROM todos WHERE list_id IS NOT '" + room + "'").empty();
    }, seconds(30));
  }

  std::string Failure(CrSqlitePeer& client, const std::string& room) {
    return "client:\n" + ClientTodos(client, room) + "database:\n" + app.RoomTodos(room) + "crbridge:\n" +
           daemon->process().Output();
  }

  TodoAppDatabase app;
  std::string config;
  std::unique_ptr<RunningDaemon> daemon;
  std::string schema;
};

class RoomMovesTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(RoomMovesTest, ARowMovedByTheAppLeavesItsOldRoomAndEntersTheNewOneWhole) {
  System system(GetParam(), "room_moves");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  system.app.Sql("INSERT INTO todos (id, list_id, title, position) VALUES ('t1', 'l1', 'milk', 1.5), "
                 "('t2', 'l1', 'bread', 2.5)");
  auto alice = system.Client("l1");
  auto bob = system.Client("l2");
  // Alice's own write: it must come back to her with the row.
  alice->Exec("UPDATE todos SET title = 'rye bread' WHERE id = 't2'");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT title FROM todos WHERE id = 't2'") == "rye bread"; }))
      << system.daemon->process().Output();
  ASSERT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");

  system.app.Sql("UPDATE todos SET list_id = 'l2', title = 'oat milk' WHERE id = 't1'");
  system.app.Sql("UPDATE todos SET list_id = 'l2' WHERE id = 't2'");
  EXPECT_TRUE(system.Holds(*bob, "l2")) << system.Failure(*bob, "l2");
  EXPECT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");
  EXPECT_TRUE(alice->Query("SELECT id FROM todos").empty());
  // What alice's client deleted was never deleted on the server.
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos"), "2");

  // Bob writes t2 while it is in his room; then it returns to alice's.
  bob->Exec("UPDATE todos SET done = 1 WHERE id = 't2'");
  ASSERT_TRUE(Eventually([&] { return system.app.One("SELECT count(*) FROM todos WHERE done") == "1"; }))
      << system.daemon->process().Output();
  system.app.Sql("UPDATE todos SET list_id = 'l1' WHERE id = 't2'");
  EXPECT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");
  EXPECT_TRUE(system.Holds(*bob, "l2")) << system.Failure(*bob, "l2");
  EXPECT_NE(ClientTodos(*alice, "l1").find("'t2'|'l1'|'rye bread'|1|"), std::string::npos) << ClientTodos(*alice, "l1");
  // Back and forth again, and a client that connects afterwards.
  system.app.Sql("UPDATE todos SET list_id = 'l2' WHERE id = 't2'");
  system.app.Sql("UPDATE todos SET list_id = 'l1', title = 'whole milk' WHERE id = 't1'");
  EXPECT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");
  EXPECT_TRUE(system.Holds(*bob, "l2")) << system.Failure(*bob, "l2");
  auto carol = system.Client("l1");
  EXPECT_TRUE(system.Holds(*carol, "l1")) << system.Failure(*carol, "l1");
  EXPECT_EQ(system.app.One("SELECT count(*) FROM todos"), "2");
  alice->Disconnect();
  bob->Disconnect();
  carol->Disconnect();
}

TEST_P(RoomMovesTest, AnOfflineWriteToARowThatLeftTheRoomIsNotAppliedAndTheRowLeaves) {
  System system(GetParam(), "room_moves_offline");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  system.app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'milk'), ('t2', 'l1', 'bread')");
  auto alice = system.Client("l1");
  ASSERT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");
  alice->Disconnect();
  alice->Exec("UPDATE todos SET title = 'mine' WHERE id = 't1'");
  system.app.Sql("UPDATE todos SET list_id = 'l2' WHERE id = 't1'");
  auto bob = system.Client("l2");
  ASSERT_TRUE(system.Holds(*bob, "l2")) << system.Failure(*bob, "l2");
  alice->Connect(system.daemon->SyncUrl(), "l1");
  EXPECT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");
  EXPECT_TRUE(system.daemon->process().WaitForOutput("another room", seconds(30))) << system.daemon->process().Output();
  EXPECT_EQ(system.app.One("SELECT title FROM todos WHERE id = 't1'"), "milk");
  EXPECT_TRUE(system.Holds(*bob, "l2")) << system.Failure(*bob, "l2");
  alice->Disconnect();
  bob->Disconnect();
}

// The app shares todos by a column of its own from now on, naming the
// same rooms as list_id did, and the config's room_column follows it
// across a restart: rows whose room changed leave their old room's clients
// and reach the new room's whole (older than those clients' positions
// though they are), rows that stayed are left alone, nothing travels back
// to the database, and the new rule moves rows from then on.
TEST_P(RoomMovesTest, ANewRoomColumnAcrossARestartMovesTheRowsWhoseRoomChanged) {
  System system(GetParam(), "room_column_change", "ALTER TABLE todos ADD COLUMN shared_in text");
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  TodoAppDatabase& app = system.app;
  app.Sql("INSERT INTO todos (id, list_id, title, shared_in) VALUES ('t1', 'l1', 'milk', 'l2'), "
          "('t2', 'l1', 'bread', 'l1'), ('t3', 'l2', 'paper', 'l1')");
  auto alice = system.Client("l1");
  auto bob = system.Client("l2");
  alice->Exec("UPDATE todos SET title = 'rye bread' WHERE id = 't2'");
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 't2'") == "rye bread"; }))
      << system.daemon->process().Output();
  ASSERT_TRUE(system.Holds(*alice, "l1")) << system.Failure(*alice, "l1");
  ASSERT_TRUE(system.Holds(*bob, "l2")) << system.Failure(*bob, "l2");
  alice->Disconnect();
  bob->Disconnect();

  system.daemon.reset();
  std::ifstream in(system.config);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("room_column: list_id"), 20, "room_column: shared_in");
  std::ofstream(system.config) << text;
  system.daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, system.config, app.url);
  ASSERT_EQ(system.daemon->WaitForStatus("/readyz", 200).status, 200) << system.daemon->process().Output();
  alice->Connect(system.daemon->SyncUrl(), "l1");
  bob->Connect(system.daemon->SyncUrl(), "l2");
  // A client's todos, and the database's of `room` by the new rule.
  const auto held = [](CrSqlitePeer& client) {
    std::string out;
    for (const auto& row : client.Query("SELECT 'text', id || ' ' || title FROM todos ORDER BY id")) {
      out += row[0].text() + "\n";
    }
    return out;
  };
  const auto shared = [&](const std::string& room) {
    std::string out;
    for (const auto& row : app.Rows("SELECT id, title FROM todos WHERE shared_in = '" + room + "' ORDER BY id")) {
      out += *row[0] + " " + *row[1] + "\n";
    }
    return out;
  };
  const auto holds = [&](CrSqlitePeer& client, const std::string& room) {
    if (Eventually([&] { return held(client) == shared(room); }, seconds(30))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "client:\n" << held(client) << "database:\n" << shared(room)
                                         << system.daemon->process().Output();
  };
  EXPECT_EQ(shared("l1"), "t2 rye bread\nt3 paper\n");
  EXPECT_TRUE(holds(*alice, "l1"));
  EXPECT_TRUE(holds(*bob, "l2"));
  EXPECT_EQ(app.One("SELECT count(*) FROM todos"), "3") << "what the clients deleted was never deleted on the server";

  bob->Exec("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 't1'") == "oat milk"; }))
      << system.daemon->process().Output();
  app.Sql("UPDATE todos SET shared_in = 'l2' WHERE id = 't3'");
  EXPECT_TRUE(holds(*alice, "l1"));
  EXPECT_TRUE(holds(*bob, "l2"));
  auto carol = system.Client("l1");
  EXPECT_TRUE(holds(*carol, "l1"));
  alice->Disconnect();
  bob->Disconnect();
  carol->Disconnect();
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, RoomMovesTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
