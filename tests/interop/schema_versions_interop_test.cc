// Schema versions with the published vlcn client on Postgres and MariaDB
// (docs/design.md, "Schema versions"): the app adds a column, crbridge
// restarts and serves a second schema version; a client left on the first
// keeps syncing the columns it has and is never sent the new one; a client
// that upgrades (automigrateTo) after it had synced past the column's
// arrival gets the column's values for the rows it already had, without
// a resync; both converge with the database on the columns each knows. A
// client announcing a version never served is refused, told which are. A
// column added while crbridge runs is picked up from its DDL on; one no
// longer mapped, or dropped by the app while crbridge runs, stops nothing
// else. A table added across a restart is read alone.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <variant>

#include "crbridge/sqlite/schema_version.h"
#include "crbridge/sqlite/vlcn_subprotocol.h"
#include "databases/test_databases.h"
#include "eventually.h"
#include "peers/client_todos.h"
#include "peers/crsqlite_peer.h"
#include "peers/ws_client.h"
#include "processes/running_daemon.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

// A todo's priority as a client holds it ("none" when it has no such row).
std::string Priority(CrSqlitePeer& client, const std::string& id) {
  const auto rows = client.Query("SELECT typeof(priority), priority FROM todos WHERE id = '" + id + "'");
  return rows.empty() ? "none" : rows[0][0].ToSql();
}

// The todo app with list l1 and `todos` (VALUES of id, list_id, title,
// due), and crbridge in front of it with a config named `name`.
struct System {
  System(ServerKind kind, const std::string& name, const std::string& todos) : app(kind) {
    app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'groceries')");
    app.Sql("INSERT INTO todos (id, list_id, title, due) VALUES " + todos);
    config = app.Config(CRBRIDGE_SOURCE_DIR, name);
    Start();
  }

  // Starts crbridge (again), and waits until it is ready.
  void Start() {
    daemon = std::make_unique<RunningDaemon>(CRBRIDGE_BINARY, config, app.url);
    EXPECT_EQ(daemon->WaitForStatus("/readyz", 200).status, 200) << daemon->process().Output();
  }

  std::string Output() { return daemon->process().Output(); }

  // Whether `client` comes to hold room l1's todos as the database has them.
  bool Holds(CrSqlitePeer& client) {
    return Eventually([&] { return ClientTodos(client, "l1") == app.RoomTodos("l1"); }, seconds(30));
  }

  TodoAppDatabase app;
  std::string config;
  std::unique_ptr<RunningDaemon> daemon;
};

constexpr const char* kTwoTodos = "('t1', 'l1', 'milk', NULL), ('t2', 'l1', 'bread', NULL)";

class SchemaVersionsTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(SchemaVersionsTest, ClientsOfTheOldAndTheNewSchemaBothConvergeAfterTheAppAddsAColumn) {
  System system(GetParam(), "schema_versions", kTwoTodos);
  TodoAppDatabase& app = system.app;
  const std::string& config = system.config;
  std::unique_ptr<RunningDaemon>& daemon = system.daemon;
  const std::string first_schema = ClientSchema(CRBRIDGE_BINARY, config);
  const auto output = [&] { return system.Output(); };
  const auto holds = [&](CrSqlitePeer& client) { return system.Holds(client); };

  CrSqlitePeer alice, bob;
  for (CrSqlitePeer* client : {&alice, &bob}) {
    client->Automigrate("todo_app", first_schema);
    client->Connect(daemon->SyncUrl(), "l1");
    ASSERT_TRUE(holds(*client)) << ClientTodos(*client, "l1") << output();
    client->Disconnect();
  }

  // The app's migration, while crbridge is stopped; its value for t1.
  daemon.reset();
  app.Sql("ALTER TABLE todos ADD COLUMN priority integer NOT NULL DEFAULT 0");
  app.Sql("UPDATE todos SET priority = 5 WHERE id = 't1'");
  system.Start();
  const std::string second_schema = ClientSchema(CRBRIDGE_BINARY, config);
  ASSERT_NE(second_schema, first_schema);
  ASSERT_NE(second_schema.find("\"priority\" INTEGER NOT NULL DEFAULT 0"), std::string::npos) << second_schema;

  // Both clients, still on the first schema, sync past the column's values
  // (never sent to them) and a later write.
  for (CrSqlitePeer* client : {&alice, &bob}) client->Connect(daemon->SyncUrl(), "l1");
  app.Sql("UPDATE todos SET title = 'rye bread' WHERE id = 't2'");
  for (CrSqlitePeer* client : {&alice, &bob}) ASSERT_TRUE(holds(*client)) << ClientTodos(*client, "l1") << output();

  // Bob upgrades: he gets t1's priority, which was recorded before what he
  // had seen.
  bob.Disconnect();
  const auto [name, version] = bob.Automigrate("todo_app", second_schema);
  EXPECT_EQ(version, SchemaVersion(second_schema));
  bob.Connect(daemon->SyncUrl(), "l1");
  EXPECT_TRUE(Eventually([&] { return Priority(bob, "t1") == "5" && Priority(bob, "t2") == "0"; }, seconds(30)))
      << Priority(bob, "t1") << " " << Priority(bob, "t2") << output();
  EXPECT_TRUE(holds(bob)) << ClientTodos(bob, "l1");

  // Both write; each gets the other's writes to the columns it has.
  bob.Exec("UPDATE todos SET priority = 7 WHERE id = 't2'");
  alice.Exec("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  app.Sql("INSERT INTO todos (id, list_id, title, priority) VALUES ('t3', 'l1', 'eggs', 2)");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT priority FROM todos WHERE id = 't2'") == "7"; })) << output();
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 't1'") == "oat milk"; })) << output();
  for (CrSqlitePeer* client : {&alice, &bob}) EXPECT_TRUE(holds(*client)) << ClientTodos(*client, "l1") << output();
  EXPECT_TRUE(Eventually([&] { return Priority(bob, "t3") == "2"; })) << Priority(bob, "t3");
  EXPECT_EQ(Priority(bob, "t1"), "5");
  EXPECT_EQ(Priority(bob, "t2"), "7");
  EXPECT_TRUE(alice.Query("SELECT 'x', name FROM pragma_table_info('todos') WHERE name = 'priority'").empty());

  // A version never served.
  WsClient stranger;
  ASSERT_EQ(stranger.Connect(daemon->port(), EncodeSubprotocol({"l1", std::nullopt})), 101);
  SiteId site;
  site.fill(0x5e);
  stranger.Send(RawPresence(site, 12345));
  const std::string err = stranger.ExpectErrAndClose();
  EXPECT_NE(err.find("schema version 12345 of \"todo_app\" was never served here"), std::string::npos) << err;
  EXPECT_NE(err.find(std::to_string(SchemaVersion(first_schema))), std::string::npos) << err;
  EXPECT_NE(err.find("the current one is " + std::to_string(SchemaVersion(second_schema))), std::string::npos) << err;
  alice.Disconnect();
  bob.Disconnect();
}

// A table added to the config across a restart: only it is read (with
// progress), every other table keeps its clocks and every client its
// position; a client that upgrades gets the new table's rows, and one left
// on the old version keeps syncing what it has.
TEST_P(SchemaVersionsTest, ATableAddedAcrossARestartIsReadAloneAndClientsKeepTheirPositions) {
  System system(GetParam(), "table_added", kTwoTodos);
  TodoAppDatabase& app = system.app;
  const bool postgres = GetParam() == ServerKind::kPostgres;
  app.Sql(std::string("CREATE TABLE notes (id ") + (postgres ? "text" : "VARCHAR(64)") + " PRIMARY KEY, list_id " +
          (postgres ? "text" : "VARCHAR(64)") + " NOT NULL, body TEXT)");
  app.Sql("INSERT INTO notes (id, list_id, body) VALUES ('n1', 'l1', 'buy early'), ('n2', 'l2', 'elsewhere')");
  const std::string first_schema = ClientSchema(CRBRIDGE_BINARY, system.config);
  CrSqlitePeer alice, bob;
  for (CrSqlitePeer* client : {&alice, &bob}) {
    client->Automigrate("todo_app", first_schema);
    client->Connect(system.daemon->SyncUrl(), "l1");
    ASSERT_TRUE(system.Holds(*client)) << ClientTodos(*client, "l1") << system.Output();
    client->Disconnect();
  }
  const std::string clocks_sql = "SELECT id, __db_version FROM " + app.metadata() + ".todos__clock ORDER BY id";
  const auto clocks = app.Rows(clocks_sql);

  system.daemon.reset();
  std::ifstream in(system.config);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.insert(text.find("  - name: todos"), "  - name: notes\n    room_column: list_id\n");
  std::ofstream(system.config) << text;
  system.Start();
  EXPECT_NE(system.Output().find("msg=started table=notes rows=2"), std::string::npos) << system.Output();
  EXPECT_EQ(system.Output().find("msg=started table=todos"), std::string::npos) << system.Output();
  EXPECT_EQ(app.Rows(clocks_sql), clocks) << "the todos' clocks are as they were";
  const std::string second_schema = ClientSchema(CRBRIDGE_BINARY, system.config);
  ASSERT_NE(second_schema.find("notes"), std::string::npos) << second_schema;

  // Bob stays on the first version; alice upgrades and gets room l1's note.
  bob.Connect(system.daemon->SyncUrl(), "l1");
  alice.Automigrate("todo_app", second_schema);
  alice.Connect(system.daemon->SyncUrl(), "l1");
  const auto notes = [](CrSqlitePeer& client) {
    std::string out;
    for (const auto& row : client.Query("SELECT 'text', id || ' ' || body FROM notes ORDER BY id")) {
      out += row[0].text() + "\n";
    }
    return out;
  };
  EXPECT_TRUE(Eventually([&] { return notes(alice) == "n1 buy early\n"; }, seconds(30))) << notes(alice) << system.Output();
  alice.Exec("UPDATE notes SET body = 'buy at noon' WHERE id = 'n1'");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT body FROM notes WHERE id = 'n1'") == "buy at noon"; }))
      << system.Output();
  app.Sql("UPDATE todos SET title = 'rye bread' WHERE id = 't2'");
  for (CrSqlitePeer* client : {&alice, &bob}) EXPECT_TRUE(system.Holds(*client)) << ClientTodos(*client, "l1");
  alice.Disconnect();
  bob.Disconnect();
}

// A compatible type change while crbridge runs (a longer varchar) is
// transparent: the client schema stays the same version, clients stay
// connected, and a long title written straight after it reaches them.
TEST_P(SchemaVersionsTest, ALongerVarcharWhileCrbridgeRunsIsTransparent) {
  System system(GetParam(), "longer_varchar", kTwoTodos);
  TodoAppDatabase& app = system.app;
  const std::string schema = ClientSchema(CRBRIDGE_BINARY, system.config);
  CrSqlitePeer alice;
  alice.Automigrate("todo_app", schema);
  alice.Connect(system.daemon->SyncUrl(), "l1");
  ASSERT_TRUE(system.Holds(alice)) << ClientTodos(alice, "l1") << system.Output();
  app.Sql(GetParam() == ServerKind::kPostgres ? "ALTER TABLE todos ALTER COLUMN title TYPE varchar(2000)"
                                              : "ALTER TABLE todos MODIFY title VARCHAR(2000) NOT NULL DEFAULT ''");
  const std::string long_title(1500, 'x');
  app.Sql("UPDATE todos SET title = '" + long_title + "' WHERE id = 't1'");
  alice.Exec("UPDATE todos SET title = 'rye bread' WHERE id = 't2'");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 't2'") == "rye bread"; }))
      << system.Output();
  EXPECT_TRUE(system.Holds(alice)) << ClientTodos(alice, "l1") << system.Output();
  EXPECT_EQ(ClientSchema(CRBRIDGE_BINARY, system.config), schema);
  EXPECT_EQ(system.daemon->Get("/readyz").status, 200) << system.daemon->Get("/readyz").body;
  alice.Disconnect();
}

// The app adds a column while crbridge runs, and writes it at once: capture
// stops before the first change that names it, the mappings are checked
// again (the sync server's clients reconnect by themselves), the table is
// read again for the column's values, and the writes made after the DDL
// reach clients of the new version; clients of the old one keep syncing.
TEST_P(SchemaVersionsTest, AColumnAddedWhileCrbridgeRunsIsCapturedFromItsDdlOn) {
  System system(GetParam(), "schema_online", kTwoTodos);
  TodoAppDatabase& app = system.app;
  const std::string& config = system.config;
  RunningDaemon& daemon = *system.daemon;
  const std::string first_schema = ClientSchema(CRBRIDGE_BINARY, config);
  const auto holds = [&](CrSqlitePeer& client) { return system.Holds(client); };
  CrSqlitePeer alice;
  alice.Automigrate("todo_app", first_schema);
  alice.Connect(daemon.SyncUrl(), "l1");
  ASSERT_TRUE(holds(alice)) << ClientTodos(alice, "l1") << daemon.process().Output();

  app.Sql("ALTER TABLE todos ADD COLUMN priority integer NOT NULL DEFAULT 0");
  app.Sql("UPDATE todos SET priority = 5, title = 'oat milk' WHERE id = 't1'");
  app.Sql("INSERT INTO todos (id, list_id, title, priority) VALUES ('t3', 'l1', 'eggs', 3)");
  const std::string second_schema = ClientSchema(CRBRIDGE_BINARY, config);
  ASSERT_NE(second_schema.find("\"priority\" INTEGER NOT NULL DEFAULT 0"), std::string::npos) << second_schema;

  CrSqlitePeer bob;
  bob.Automigrate("todo_app", second_schema);
  bob.Connect(daemon.SyncUrl(), "l1");
  EXPECT_TRUE(Eventually([&] {
    return Priority(bob, "t1") == "5" && Priority(bob, "t2") == "0" && Priority(bob, "t3") == "3";
  }, seconds(30))) << Priority(bob, "t1") << Priority(bob, "t2") << Priority(bob, "t3") << daemon.process().Output();
  EXPECT_TRUE(holds(bob)) << ClientTodos(bob, "l1");
  // Alice, on the first version, was reconnected and has every change of
  // the columns she has.
  EXPECT_TRUE(holds(alice)) << ClientTodos(alice, "l1") << daemon.process().Output();
  alice.Exec("UPDATE todos SET done = 1 WHERE id = 't3'");
  bob.Exec("UPDATE todos SET priority = 9 WHERE id = 't3'");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT priority FROM todos WHERE id = 't3'") == "9"; }))
      << daemon.process().Output();
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM todos WHERE done") == "1"; }))
      << daemon.process().Output();
  for (CrSqlitePeer* client : {&alice, &bob}) EXPECT_TRUE(holds(*client)) << ClientTodos(*client, "l1");
  EXPECT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  alice.Disconnect();
  bob.Disconnect();
}

// A column added while crbridge runs is served before any row has a value
// of it written: capture sees the DDL (the catalog, checked every few
// seconds on Postgres; the ALTER in the binlog on MariaDB), and a client
// of the new schema gets every row's value.
TEST_P(SchemaVersionsTest, AColumnAddedWhileCrbridgeRunsIsServedBeforeTheAppWritesIt) {
  System system(GetParam(), "schema_ddl_only", kTwoTodos);
  system.app.Sql("ALTER TABLE todos ADD COLUMN priority integer NOT NULL DEFAULT 4");
  CrSqlitePeer bob;
  bob.Automigrate("todo_app", ClientSchema(CRBRIDGE_BINARY, system.config));
  bob.Connect(system.daemon->SyncUrl(), "l1");
  EXPECT_TRUE(Eventually([&] { return Priority(bob, "t1") == "4" && Priority(bob, "t2") == "4"; }, seconds(30)))
      << Priority(bob, "t1") << Priority(bob, "t2") << system.Output();
  EXPECT_TRUE(system.Holds(bob)) << ClientTodos(bob, "l1");
  bob.Disconnect();
}

// A column the mappings stop mapping (excluded across a restart) stops
// nothing else: clients of the version that has it keep syncing every
// other column, and their changes to it are left out with a warning while
// the rest of each changeset applies.
TEST_P(SchemaVersionsTest, AColumnNoLongerMappedStopsNothingElse) {
  System system(GetParam(), "schema_drop", "('t1', 'l1', 'milk', '2026-01-02')");
  TodoAppDatabase& app = system.app;
  const std::string& config = system.config;
  std::unique_ptr<RunningDaemon>& daemon = system.daemon;
  CrSqlitePeer alice;
  alice.Automigrate("todo_app", ClientSchema(CRBRIDGE_BINARY, config));
  alice.Connect(daemon->SyncUrl(), "l1");
  const auto title = [](CrSqlitePeer& client) {
    const auto rows = client.Query("SELECT typeof(title), title FROM todos WHERE id = 't1'");
    return rows.empty() ? std::string("none") : rows[0][0].text();
  };
  ASSERT_TRUE(Eventually([&] { return title(alice) == "milk"; })) << daemon->process().Output();
  alice.Disconnect();

  daemon.reset();
  std::ifstream in(config);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.replace(text.find("exclude: [internal_note]"), 24, "exclude: [internal_note, due]");
  std::ofstream(config) << text;
  system.Start();
  alice.Connect(daemon->SyncUrl(), "l1");
  alice.Exec("UPDATE todos SET title = 'oat milk', due = '2026-03-04' WHERE id = 't1'");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 't1'") == "oat milk"; }))
      << daemon->process().Output();
  EXPECT_TRUE(daemon->process().WaitForOutput("the mappings no longer have", seconds(30))) << daemon->process().Output();
  EXPECT_EQ(app.One("SELECT due FROM todos WHERE id = 't1'"), "2026-01-02");
  app.Sql("UPDATE todos SET title = 'whole milk' WHERE id = 't1'");
  EXPECT_TRUE(Eventually([&] { return title(alice) == "whole milk"; })) << daemon->process().Output();
  CrSqlitePeer bob;
  const std::string second_schema = ClientSchema(CRBRIDGE_BINARY, config);
  EXPECT_EQ(second_schema.find("\"due\""), std::string::npos) << second_schema;
  bob.Automigrate("todo_app", second_schema);
  bob.Connect(daemon->SyncUrl(), "l1");
  EXPECT_TRUE(Eventually([&] { return title(bob) == "whole milk"; })) << daemon->process().Output();
  alice.Disconnect();
  bob.Disconnect();
}

// A column the app drops while crbridge runs stops nothing else: capture
// sees the drop (the change stream, or the catalog: Postgres' table check,
// MariaDB's ALTER in the binlog) and everything takes the narrower
// mapping; app writes keep reaching every client, a client whose version
// still has the column keeps syncing the rest (its writes to the column
// are left out), and a client of the new version syncs with it.
TEST_P(SchemaVersionsTest, AColumnTheAppDropsWhileCrbridgeRunsStopsNothingElse) {
  System system(GetParam(), "schema_online_drop", "('t1', 'l1', 'milk', '2026-01-02')");
  TodoAppDatabase& app = system.app;
  RunningDaemon& daemon = *system.daemon;
  const auto title = [](CrSqlitePeer& client) {
    const auto rows = client.Query("SELECT typeof(title), title FROM todos WHERE id = 't1'");
    return rows.empty() ? std::string("none") : rows[0][0].text();
  };
  CrSqlitePeer alice;
  alice.Automigrate("todo_app", ClientSchema(CRBRIDGE_BINARY, system.config));
  alice.Connect(daemon.SyncUrl(), "l1");
  ASSERT_TRUE(Eventually([&] { return title(alice) == "milk"; })) << system.Output();

  app.Sql("ALTER TABLE todos DROP COLUMN due");
  const std::string second_schema = ClientSchema(CRBRIDGE_BINARY, system.config);
  EXPECT_EQ(second_schema.find("\"due\""), std::string::npos) << second_schema;
  app.Sql("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
  EXPECT_TRUE(Eventually([&] { return title(alice) == "oat milk"; }, seconds(30))) << system.Output();
  EXPECT_NE(system.Output().find("the app dropped column due of "), std::string::npos) << system.Output();
  alice.Exec("UPDATE todos SET title = 'whole milk', due = '2026-03-04' WHERE id = 't1'");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT title FROM todos WHERE id = 't1'") == "whole milk"; }))
      << system.Output();
  CrSqlitePeer bob;
  bob.Automigrate("todo_app", second_schema);
  bob.Connect(daemon.SyncUrl(), "l1");
  EXPECT_TRUE(Eventually([&] { return title(bob) == "whole milk"; }, seconds(30))) << system.Output();
  bob.Exec("UPDATE todos SET title = 'soy milk' WHERE id = 't1'");
  EXPECT_TRUE(Eventually([&] { return title(alice) == "soy milk"; }, seconds(30))) << system.Output();
  EXPECT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << system.Output();
  alice.Disconnect();
  bob.Disconnect();
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, SchemaVersionsTest, AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
