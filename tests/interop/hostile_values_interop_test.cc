// Issue 16's values, end to end: the published vlcn client (under Node.js)
// syncing through `crbridge run` with Postgres and with MariaDB (every test
// runs on both). NaN and the infinities travel with one canonical form on
// every path, or are refused clearly where the database cannot hold them;
// an app row with a value that does not map is reported in /readyz, by
// `crbridge check` and in the log, across a restart, while every other row
// reaches the clients, until the app fixes it. The log never holds raw
// bytes that are not printable UTF-8. (The published client cuts text at
// a NUL byte when it sends it: raw clients send those, in
// tests/integration/sync/sync_server_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "crbridge/sqlite/text_encoding.h"
#include "databases/test_databases.h"
#include "eventually.h"
#include "peers/crsqlite_peer.h"
#include "processes/running_daemon.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

// "id typeof(position) position-as-text" of each of a peer's todos.
std::string Positions(CrSqlitePeer& peer) {
  std::string out;
  // Infinities as text: the peer's JSON has no number for them.
  for (const auto& row : peer.Query("SELECT typeof(id), id, 'text', typeof(position), typeof(CAST(position AS TEXT)), "
                                    "CAST(position AS TEXT) FROM todos ORDER BY id")) {
    out += row[0].text() + " " + row[1].text() + " " + (row[2].is_null() ? "NULL" : row[2].text()) + "\n";
  }
  return out;
}

// Whether a crbridge log holds only printable UTF-8 lines.
bool Printable(const std::string& log) {
  for (const char c : log) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return false;
  }
  return IsUtf8(log);
}

// `crbridge check` of `config`: its exit code and stderr.
std::pair<int, std::string> Check(const std::string& config) {
  Subprocess check({CRBRIDGE_BINARY, "check", "--config", config}, Subprocess::Options{false, true});
  const int code = check.Wait(std::chrono::seconds(30));
  return {code, check.Errors()};
}

void Stop(RunningDaemon& daemon) {
  daemon.process().Signal(SIGTERM);
  EXPECT_EQ(daemon.process().Wait(std::chrono::seconds(30)), 0) << daemon.process().Output();
}

class HostileValuesInteropTest : public ::testing::TestWithParam<ServerKind> {};

// Snapshot, capture, client writes, merge read-back and pulls: NaN reaches
// clients as the text 'NaN', the infinities as REAL infinities, on
// Postgres; MariaDB's DOUBLE has neither, and a client's refused.
TEST_P(HostileValuesInteropTest, NanAndInfinitiesTravelOnEveryPath) {
  const bool postgres = GetParam() == ServerKind::kPostgres;
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  app.Sql(postgres ? "INSERT INTO todos (id, list_id, position) VALUES ('s1', 'l1', 'NaN'), ('s2', 'l1', 'Infinity')"
                   : "INSERT INTO todos (id, list_id, position) VALUES ('s1', 'l1', 1.5), ('s2', 'l1', 2.5)");
  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "nan_interop");
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const std::string schema = ClientSchema(CRBRIDGE_BINARY, config);
  CrSqlitePeer alice, bob;
  for (CrSqlitePeer* peer : {&alice, &bob}) {
    peer->Automigrate("todo_app", schema);
    peer->Connect(daemon.SyncUrl(), "l1");
  }
  if (!postgres) {
    EXPECT_TRUE(Eventually([&] { return Positions(bob) == "s1 real 1.5\ns2 real 2.5\n"; })) << Positions(bob);
    alice.Exec("UPDATE todos SET position = 'NaN' WHERE id = 's1'");
    EXPECT_TRUE(daemon.process().WaitForOutput(
        "todos.position: cannot store 'NaN' (text) in a double column: MySQL's and MariaDB's FLOAT and DOUBLE cannot "
        "hold NaN or infinities",
        std::chrono::seconds(20)))
        << daemon.process().Output();
    alice.Exec("UPDATE todos SET position = 9e999 WHERE id = 's2'");
    EXPECT_TRUE(daemon.process().WaitForOutput("cannot store inf (real) in a double column", std::chrono::seconds(20)))
        << daemon.process().Output();
    alice.Exec("UPDATE todos SET title = 'after the refusals' WHERE id = 's1'");
    EXPECT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 's1'") == "after the refusals"; }))
        << daemon.process().Output();
    EXPECT_EQ(app.One("SELECT CONCAT(position) FROM todos WHERE id = 's1'"), "1.5");
    EXPECT_EQ(app.One("SELECT CONCAT(position) FROM todos WHERE id = 's2'"), "2.5");
    Stop(daemon);
    return;
  }
  // From the snapshot.
  EXPECT_TRUE(Eventually([&] { return Positions(bob) == "s1 text NaN\ns2 real Inf\n"; })) << Positions(bob);
  // From clients: the text 'NaN' and a REAL infinity (a JavaScript client
  // cannot even hold a REAL NaN: SQLite stores it as NULL).
  alice.Exec("UPDATE todos SET position = 'NaN' WHERE id = 's2'");
  alice.Exec("INSERT INTO todos (id, list_id, position) VALUES ('a1', 'l1', 9e999), ('a2', 'l1', -9e999)");
  EXPECT_TRUE(Eventually([&] {
    return app.One("SELECT string_agg(id || ' ' || position::text, ',' ORDER BY id) FROM todos") ==
           "a1 Infinity,a2 -Infinity,s1 NaN,s2 NaN";
  })) << daemon.process().Output();
  // From the app, through capture.
  app.Sql("UPDATE todos SET position = '-Infinity' WHERE id = 's1'");
  const std::string expected = "a1 real Inf\na2 real -Inf\ns1 real -Inf\ns2 text NaN\n";
  for (CrSqlitePeer* peer : {&alice, &bob}) {
    EXPECT_TRUE(Eventually([&] { return Positions(*peer) == expected; })) << Positions(*peer);
  }
  Stop(daemon);
}

// Issue 16: a value capture cannot map stops nothing. Its row is left out
// of clients, /readyz names it (503), `crbridge check` lists it and fails,
// a restart still knows it; every other row and table flows on; a change
// of the row that maps, or its delete, clears it.
TEST_P(HostileValuesInteropTest, AnAppRowThatDoesNotMapIsReportedUntilTheAppFixesIt) {
  const ServerKind kind = GetParam();
  TodoAppDatabase app(kind, NewTodoAppWithRawColumn(kind));
  const std::string good = MappableRaw(kind), bad = UnmappableRaw(kind);
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  app.Sql("INSERT INTO todos (id, list_id, raw) VALUES ('r1', 'l1', " + bad + "), ('r2', 'l1', " + good + ")");
  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "rejected_interop");
  const auto ready = [](RunningDaemon& daemon, const std::string& detail) {
    const HttpResult readyz = daemon.Get("/readyz");
    return readyz.body.find("\"capture\":{\"detail\":\"streaming\",\"ready\":true}") != std::string::npos &&
           readyz.body.find(detail) != std::string::npos;
  };
  const std::string ids = "SELECT typeof(id), id FROM todos ORDER BY id";
  const auto names = [](const std::vector<std::vector<Value>>& rows) {
    std::string out;
    for (const auto& row : rows) out += row[0].text() + " ";
    return out;
  };
  CrSqlitePeer alice;
  {
    RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
    EXPECT_TRUE(Eventually([&] { return ready(daemon, "todos ('r1'): todos.raw: "); })) << daemon.Get("/readyz").body;
    EXPECT_EQ(daemon.Get("/readyz").status, 503);
    alice.Automigrate("todo_app", ClientSchema(CRBRIDGE_BINARY, config));
    alice.Connect(daemon.SyncUrl(), "l1");
    EXPECT_TRUE(Eventually([&] { return names(alice.Query(ids)) == "r2 "; })) << names(alice.Query(ids));
    // Amid rows of two tables that map, in one transaction.
    app.Sql(kind == ServerKind::kPostgres ? "BEGIN" : "START TRANSACTION");
    app.Sql("INSERT INTO todos (id, list_id, raw) VALUES ('r3', 'l1', " + bad + "), ('r4', 'l1', " + good + ")");
    app.Sql("INSERT INTO todo_lists (id) VALUES ('l2')");
    app.Sql("COMMIT");
    EXPECT_TRUE(Eventually([&] { return names(alice.Query(ids)) == "r2 r4 "; })) << names(alice.Query(ids));
    EXPECT_TRUE(Eventually([&] { return ready(daemon, "todos ('r3'): todos.raw: "); })) << daemon.Get("/readyz").body;
    EXPECT_NE(daemon.Get("/metrics").body.find("\ncrbridge_capture_rejected_rows 2\n"), std::string::npos);
    EXPECT_TRUE(daemon.process().WaitForOutput("msg=\"an app row cannot be mapped", std::chrono::seconds(5)));
    EXPECT_TRUE(Printable(daemon.process().Output())) << daemon.process().Output();
    if (kind == ServerKind::kPostgres) {
      // The bytes escaped in the reason, and the escapes escaped in logfmt.
      EXPECT_NE(daemon.process().Output().find("server text \\\"caf\\\\xe9\\\" of a text is not valid UTF-8"),
                std::string::npos)
          << daemon.process().Output();
    }
    const auto [code, listed] = Check(config);
    EXPECT_EQ(code, 1) << listed;
    EXPECT_NE(listed.find("rejected row todos ('r1'): todos.raw: "), std::string::npos) << listed;
    EXPECT_NE(listed.find("rejected row todos ('r3'): todos.raw: "), std::string::npos) << listed;
    alice.Disconnect();
    Stop(daemon);
  }
  // A restart still says so: the rejections are in the shadow store.
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  EXPECT_TRUE(Eventually([&] { return ready(daemon, "todos ('r1'): todos.raw: "); })) << daemon.Get("/readyz").body;
  EXPECT_EQ(daemon.Get("/readyz").status, 503);
  alice.Connect(daemon.SyncUrl(), "l1");
  app.Sql("UPDATE todos SET raw = " + good + " WHERE id = 'r1'");
  app.Sql("DELETE FROM todos WHERE id = 'r3'");
  EXPECT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.Get("/readyz").body;
  EXPECT_TRUE(Eventually([&] { return names(alice.Query(ids)) == "r1 r2 r4 "; })) << names(alice.Query(ids));
  EXPECT_EQ(Check(config).first, 0);
  alice.Disconnect();
  Stop(daemon);
}

INSTANTIATE_TEST_SUITE_P(Databases, HostileValuesInteropTest,
                         AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
