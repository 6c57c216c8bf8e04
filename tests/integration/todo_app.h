// The example todo app (tests/data/todo_app.postgres.sql and
// todo_app.mysql.sql) mapped as configs/postgres.yaml and configs/mysql.yaml
// map it, checked against a live database, and its shadow store, for the
// server-side tests on Postgres and MariaDB. Test-thread only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "crbridge/mappings/config.h"
#include "crbridge/server/core/config_check.h"
#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/source_database.h"
#include "crbridge/server/dialects.h"
#include "todo_app_database.h"

namespace crbridge::testing {
using namespace crbridge::postgres;  // the dialect under test

// The mapped tables of the todo app (a YAML list, under `tables:`).
constexpr const char* kTodoAppTables =
    "  - name: todo_lists\n    room_column: id\n  - name: todos\n    room_column: list_id\n    exclude: [internal_note]\n";

// kTodoAppTables of a Postgres database (its url set by MapTodoApp).
constexpr const char* kTodoAppConfig =
    "source:\n  type: postgres\n  url: postgresql://unused\nschema_name: todo_app\ntables:\n"
    "  - name: todo_lists\n    room_column: id\n  - name: todos\n    room_column: list_id\n    exclude: [internal_note]\n";

struct MappedApp {
  Config config;
  ConfigCheck check;

  const ResolvedTable& Table(const std::string& name) const {
    for (const ResolvedTable& t : check.tables) {
      if (t.mapping->name == name) return t;
    }
    throw std::out_of_range("no mapped table " + name);
  }
};

inline std::unique_ptr<MappedApp> MapTodoApp(const std::string& url, const std::string& yaml = kTodoAppConfig) {
  auto mapped = std::make_unique<MappedApp>();
  const Status parsed = ParseConfig(yaml, "test.yaml", &mapped->config);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  mapped->config.source.url = url;
  auto database = NewSourceDatabase(mapped->config.source);
  EXPECT_TRUE(CheckConfig(mapped->config, *database, &mapped->check).ok());
  for (const Status& problem : mapped->check.problems) ADD_FAILURE() << problem.ToString();
  return mapped;
}

// The config of `database` mapping `tables` (a YAML list, as
// kTodoAppTables), its metadata in TodoAppDatabase::metadata(); the url is
// set by MapTodoApp.
inline std::string TodoAppYaml(const TodoAppDatabase& database, const std::string& tables = kTodoAppTables) {
  const std::string source = database.kind() == ServerKind::kPostgres
                                 ? "source:\n  type: postgres\n  url: postgresql://unused\n"
                                 : "source:\n  type: mysql\n  url: mysql://unused@localhost/x\n  server_id: 4242\n";
  return source + "metadata_schema: " + database.metadata() + "\nschema_name: todo_app\ntables:\n" + tables;
}

inline std::unique_ptr<MappedApp> MapTodoApp(const TodoAppDatabase& database, const std::string& tables = kTodoAppTables) {
  return MapTodoApp(database.url, TodoAppYaml(database, tables));
}

// The shadow store of `mapped`'s database, of its dialect (OpenShadowStore).
inline std::unique_ptr<ShadowStore> OpenAppStore(const MappedApp& mapped,
                                                 ShadowStore::Marking marking = ShadowStore::Marking::kCrbridge) {
  std::unique_ptr<ShadowStore> store;
  const Status s = OpenShadowStore(mapped.config, mapped.check.tables, marking, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

// The source type of a server kind.
inline SourceType SourceTypeOf(ServerKind kind) {
  return kind == ServerKind::kPostgres ? SourceType::kPostgres : SourceType::kMysql;
}

// Postgres only (the stores of the Postgres-only tests).
inline std::unique_ptr<PostgresShadowStore> OpenClockStore(
    const std::string& url, const MappedApp& mapped,
    ShadowStore::Marking marking = ShadowStore::Marking::kCrbridge) {
  std::unique_ptr<PostgresShadowStore> store;
  const Status s = PostgresShadowStore::Open(url, mapped.config.metadata_schema, mapped.check.tables, marking, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

}  // namespace crbridge::testing
