// Mixed clients in one room: two published vlcn clients (@vlcn.io/crsqlite-wasm
// + ws-client under Node.js) and one native client (`crbridge-client`) edit
// offline, the app writes in the database (Postgres or MariaDB: the test
// runs on both), everyone reconnects, and every client's rows equal the
// database's, value for value. Values avoid the known quirks of the JS
// client (integral REALs come back as integers, empty blobs as NULL: see
// crsqlite_peer.mjs).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "peers/crsqlite_peer.h"
#include "eventually.h"
#include "peers/native_client.h"
#include "processes/running_daemon.h"
#include "processes/subprocess.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app_database.h"
#include "todo_app/todo_rows.h"

namespace crbridge::testing {
namespace {

// The vlcn client's todos in the form of ClientTodosSql.
constexpr const char* kPeerTodos =
    "SELECT typeof(id), id, typeof(list_id), list_id, typeof(title), title, typeof(done), done, "
    "typeof(position), position, typeof(due), due FROM todos ORDER BY id";

std::string Lines(const std::vector<std::vector<Value>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i > 0 ? "|" : "") + row[i].ToSql();
    out += "\n";
  }
  return out;
}

class MixedClientsInteropTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(MixedClientsInteropTest, VlcnAndNativeClientsConvergeWithTheDatabaseAfterOfflineEdits) {
  TodoAppDatabase app(GetParam());
  const auto sql = [&](const std::string& statement) { app.Sql(statement); };
  // The database's todos of the room, in the form of ClientTodosSql.
  const auto server = [&] { return app.RoomTodos("l1"); };
  sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
  sql("INSERT INTO todos (id, list_id, title, position) VALUES ('t1', 'l1', 'milk', 0.5)");
  sql("INSERT INTO todos (id, list_id, title) VALUES ('t9', 'l2', 'another room')");

  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "mixed_clients");
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string schema = ClientSchema(CRBRIDGE_BINARY, config);
  const std::string schema_file = ::testing::TempDir() + "/mixed_clients_schema_" + ServerKindName(GetParam()) + ".sql";
  std::ofstream(schema_file) << schema;
  const std::string ws_url = daemon.SyncUrl();

  CrSqlitePeer alice, bob;
  alice.Automigrate("todo_app", schema);
  bob.Automigrate("todo_app", schema);
  alice.Connect(ws_url, "l1");
  bob.Connect(ws_url, "l1");
  NativeClient carol(CRBRIDGE_CLIENT_BINARY, "mixed_carol_" + ServerKindName(GetParam()), schema_file);
  carol.SyncOnce(ws_url, "l1");
  const std::string first = "'t1'|'l1'|'milk'|0|0.5|NULL\n";
  for (CrSqlitePeer* peer : {&alice, &bob}) {
    EXPECT_TRUE(Eventually([&] { return Lines(peer->Query(kPeerTodos)) == first; })) << Lines(peer->Query(kPeerTodos));
  }
  EXPECT_EQ(carol.Exec(ClientTodosSql("l1")), first);

  // Offline: all three edit t1 (two of them the same column), each adds a
  // todo, one deletes another's and one re-inserts it; the app writes too.
  alice.Disconnect();
  bob.Disconnect();
  alice.Exec("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  alice.Exec("INSERT INTO todos (id, list_id, title, position) VALUES ('t2', 'l1', 'bread', 1.5)");
  bob.Exec("UPDATE todos SET done = 1 WHERE id = 't1'");
  bob.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t3', 'l1', 'eggs')");
  carol.Exec("UPDATE todos SET title = 'soy milk', position = 2.5 WHERE id = 't1'");
  carol.Exec("INSERT INTO todos (id, list_id, title, due) VALUES ('t4', 'l1', 'coffee', '2026-05-06')");
  sql("UPDATE todos SET due = '2026-03-04' WHERE id = 't1'");
  sql("INSERT INTO todos (id, list_id, title) VALUES ('t5', 'l1', 'from the app')");

  // Back online, one after the other; then a delete and a re-insert.
  alice.Connect(ws_url, "l1");
  carol.SyncOnce(ws_url, "l1");
  bob.Connect(ws_url, "l1");
  EXPECT_TRUE(Eventually([&] { return server().find("'t4'") != std::string::npos; })) << server();
  EXPECT_TRUE(Eventually([&] { return Lines(bob.Query(kPeerTodos)).find("'t2'") != std::string::npos; }));
  bob.Exec("DELETE FROM todos WHERE id = 't2'");
  carol.Exec("DELETE FROM todos WHERE id = 't4'");
  carol.Exec("INSERT INTO todos (id, list_id, title, position) VALUES ('t4', 'l1', 'decaf', 3.5)");
  carol.SyncOnce(ws_url, "l1");
  EXPECT_TRUE(Eventually([&] { return server().find("'t2'") == std::string::npos; })) << server();

  // Quiet now: the database has everyone's writes, and everyone has the database's rows.
  const std::string expected = server();
  EXPECT_NE(expected.find("'t1'|'l1'|"), std::string::npos) << expected;
  EXPECT_NE(expected.find("|1|2.5|'2026-03-04'\n"), std::string::npos) << "done, position and due each kept" << expected;
  EXPECT_NE(expected.find("'t4'|'l1'|'decaf'|0|3.5|NULL"), std::string::npos) << expected;
  EXPECT_NE(expected.find("'t5'|'l1'|'from the app'"), std::string::npos) << expected;
  EXPECT_EQ(expected.find("'t9'"), std::string::npos);
  for (CrSqlitePeer* peer : {&alice, &bob}) {
    EXPECT_TRUE(Eventually([&] { return Lines(peer->Query(kPeerTodos)) == expected; }))
        << "vlcn client:\n" << Lines(peer->Query(kPeerTodos)) << "database:\n" << expected;
  }
  const auto carol_has = [&] {
    for (int i = 0; i < 10; ++i) {
      carol.SyncOnce(ws_url, "l1");
      if (carol.Exec(ClientTodosSql("l1")) == expected) return true;
    }
    return false;
  };
  EXPECT_TRUE(carol_has()) << "native client:\n" << carol.Exec(ClientTodosSql("l1")) << "database:\n" << expected;
  EXPECT_EQ(carol.Exec("SELECT count(*) FROM todos WHERE list_id <> 'l1'"), "0\n") << "no row of another room";
  EXPECT_EQ(server(), expected) << "the last syncs changed nothing";
  alice.Disconnect();
  bob.Disconnect();
}

INSTANTIATE_TEST_SUITE_P(Databases, MixedClientsInteropTest,
                         AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
