// Test peers of the server side: the merge writer and sync store of a
// todo-app database on Postgres or MariaDB (Server), and native CRR
// databases syncing with it the way the vlcn client does (Client).
// Test-thread only.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "crbridge/mappings/client_schema.h"
#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/crr.h"
#include "test_databases.h"
#include "todo_app.h"
#include "todo_app_database.h"

namespace crbridge::testing {

struct Server {
  std::unique_ptr<TodoAppDatabase> database;  // the app's side: its SQL
  std::string url;
  std::unique_ptr<MappedApp> app;
  std::unique_ptr<ShadowStore> writer;
  std::unique_ptr<SyncStore> store;

  // A new todo-app database on the shared server of `kind`, with `tables`
  // (a YAML list, as kTodoAppTables) mapped.
  explicit Server(ServerKind kind = ServerKind::kPostgres, const std::string& tables = kTodoAppTables)
      : Server(std::make_unique<TodoAppDatabase>(kind), tables) {}

  Server(std::unique_ptr<TodoAppDatabase> app_database, const std::string& tables)
      : database(std::move(app_database)), url(database->url), app(MapTodoApp(*database, tables)) {
    Open();
  }

  // The Postgres todo-app database at `database_url` mapped by `yaml` (as
  // kTodoAppConfig).
  Server(const std::string& database_url, const std::string& yaml)
      : database(std::make_unique<TodoAppDatabase>(ServerKind::kPostgres, database_url)),
        url(database_url),
        app(MapTodoApp(url, yaml)) {
    Open();
  }

  ServerKind kind() const { return database->kind(); }

  // Mapped rows of a table as SQL literals, "id|list_id|..." in key order.
  std::vector<std::string> Rows(const std::string& table, const std::string& columns) {
    std::vector<std::string> rows;
    for (const auto& row : database->Rows("SELECT " + columns + " FROM " + table + " ORDER BY 1")) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) line += (i > 0 ? "|" : "") + row[i].value_or("NULL");
      rows.push_back(line);
    }
    return rows;
  }

  // The clock table of `table` (for Rows).
  std::string ClockTable(const std::string& table) const { return database->metadata() + "." + table + "__clock"; }

  // A boolean column as 0 or 1.
  std::string Int(const std::string& column) const {
    return kind() == ServerKind::kPostgres ? column + "::int" : column;
  }

 private:
  void Open() {
    if (kind() == ServerKind::kPostgres) database->Sql("SET TimeZone = 'UTC'");
    writer = OpenAppStore(*app);
    store = std::make_unique<SyncStore>(app->config, app->check.tables, *writer);
  }
};

// A native cr-sqlite peer with the client schema, syncing with the server
// the way the vlcn client does.
struct Client {
  std::unique_ptr<CrrDatabase> db;
  int64_t sent = 0;       // own changes sent up to this local version
  int64_t received = 0;   // server changes applied up to this server version

  explicit Client(Server& server) {
    EXPECT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
    const Status s = db->Exec(ClientSchemaSql(server.app->check.tables));
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  void Exec(const std::string& sql) {
    const Status s = db->Exec(sql);
    ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << sql;
  }

  Status Push(Server& server) {
    Changeset all;
    CRBRIDGE_RETURN_IF_ERROR(db->ChangesSince(sent, std::nullopt, &all));
    Changeset own;
    for (Change& c : all) {
      if (c.site_id == db->site_id()) own.push_back(std::move(c));
    }
    if (own.empty()) return Status::OK();
    const int64_t end = own.back().db_version;
    MergeReport report;
    CRBRIDGE_RETURN_IF_ERROR(server.store->Merge(db->site_id(), own, PeerVersion{end, own.back().seq}, &report));
    sent = end;
    return Status::OK();
  }

  Status Pull(Server& server, size_t limit = 3) {
    PullBatch batch;
    do {
      CRBRIDGE_RETURN_IF_ERROR(server.store->Pull(received, std::nullopt, db->site_id(), limit, &batch));
      CRBRIDGE_RETURN_IF_ERROR(db->ApplyChanges(batch.changes, PeerProgress{server.writer->site_id(), batch.through, 0}));
      received = batch.through;
    } while (batch.more);
    return Status::OK();
  }

  std::vector<std::string> Rows(const std::string& table, const std::string& columns) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db->handle(), ("SELECT " + columns + " FROM " + table + " ORDER BY 1").c_str(), -1, &stmt, nullptr);
    std::vector<std::string> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string line;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        line += (i > 0 ? "|" : "") + (text == nullptr ? std::string("NULL") : std::string(text));
      }
      rows.push_back(line);
    }
    sqlite3_finalize(stmt);
    return rows;
  }
};

inline constexpr const char* kTodoColumns = "id, list_id, title, done, position, due";

// Booleans and doubles print differently on each side; compare them as the
// client schema stores them.
inline std::vector<std::string> ServerTodos(Server& server) {
  return server.Rows("todos", "id, list_id, title, " + server.Int("done") + ", position, due");
}

}  // namespace crbridge::testing
