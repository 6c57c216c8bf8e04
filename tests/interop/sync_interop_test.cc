// The published vlcn client (@vlcn.io/crsqlite-wasm + @vlcn.io/ws-client
// under Node.js) syncing with Postgres through `crbridge run`: client
// writes reach Postgres and the other client, app writes in Postgres reach
// the clients, and a room sees only its rows.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <pqxx/pqxx>
#include <thread>

#include "crsqlite_peer.h"
#include "running_daemon.h"
#include "test_databases.h"

namespace crbridge::testing {
namespace {

bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 400; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string Text(const std::vector<std::vector<Value>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (const Value& v : row) out += v.ToSql() + "|";
    out += "\n";
  }
  return out;
}

struct SyncedApp {
  std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  pqxx::connection conn{url};

  void Sql(const std::string& sql) { pqxx::nontransaction(conn).exec0(sql); }
  std::string One(const std::string& sql) {
    const pqxx::row row = pqxx::nontransaction(conn).exec1(sql);
    return row[0].is_null() ? "NULL" : row[0].as<std::string>();
  }
};

std::string ClientSchema(const std::string& config) {
  Subprocess schema({CRBRIDGE_BINARY, "schema", "--config", config}, Subprocess::Options{false, true});
  EXPECT_EQ(schema.Wait(std::chrono::seconds(30)), 0) << schema.Errors();
  return schema.Output();
}

TEST(SyncInteropTest, VlcnClientsSyncWithPostgresThroughCrbridge) {
  SyncedApp app;
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries'), ('l2', 'work')");
  const std::string config = PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, "sync_interop");
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string schema = ClientSchema(config);
  const std::string ws_url = "ws://127.0.0.1:" + std::to_string(daemon.port()) + "/sync";

  CrSqlitePeer alice, bob;
  alice.Automigrate("todo_app", schema);
  bob.Automigrate("todo_app", schema);
  alice.Connect(ws_url, "l1");
  bob.Connect(ws_url, "l1");

  // What exists in Postgres reaches the clients of its room only.
  const std::string lists = "SELECT typeof(id), id, typeof(name), name FROM todo_lists ORDER BY id";
  EXPECT_TRUE(Eventually([&] { return Text(alice.Query(lists)) == "'l1'|'groceries'|\n"; }))
      << Text(alice.Query(lists)) << daemon.process().Output();

  // A client write reaches Postgres and the other client.
  alice.Exec("INSERT INTO todos (id, list_id, title, done) VALUES ('t1', 'l1', 'milk', 0)");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM todos WHERE title = 'milk'") == "1"; }))
      << daemon.process().Output();
  const std::string todos = "SELECT typeof(id), id, typeof(title), title, typeof(done), done FROM todos ORDER BY id";
  EXPECT_TRUE(Eventually([&] { return Text(bob.Query(todos)) == "'t1'|'milk'|0|\n"; })) << Text(bob.Query(todos));

  // An app write in Postgres reaches both; a row of another room reaches neither.
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t9', 'l2', 'other room')");
  app.Sql("UPDATE todos SET done = true WHERE id = 't1'");
  for (CrSqlitePeer* peer : {&alice, &bob}) {
    EXPECT_TRUE(Eventually([&] { return Text(peer->Query(todos)) == "'t1'|'milk'|1|\n"; })) << Text(peer->Query(todos));
  }
  const std::string metrics = daemon.Get("/metrics").body;
  EXPECT_NE(metrics.find("\ncrbridge_sync_clients 2\n"), std::string::npos) << metrics;
  // The insert of t1: one change per column, as cr-sqlite records it.
  EXPECT_NE(metrics.find("\ncrbridge_sync_changes_received_total 5\n"), std::string::npos) << metrics;

  // A write into another room is refused, and nothing of it is applied.
  alice.Exec("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l2', 'not my room')");
  EXPECT_TRUE(daemon.process().WaitForOutput("a change to todos would put a row in room \\\"l2\\\"", std::chrono::seconds(20)))
      << daemon.process().Output();
  EXPECT_EQ(app.One("SELECT count(*) FROM todos WHERE id = 't2'"), "0");
  alice.Disconnect();
  bob.Disconnect();
  daemon.process().Signal(SIGTERM);
  EXPECT_EQ(daemon.process().Wait(std::chrono::seconds(30)), 0) << daemon.process().Output();
}

}  // namespace
}  // namespace crbridge::testing
