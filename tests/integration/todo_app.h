// The example todo app (tests/data/todo_app.postgres.sql) mapped as
// configs/postgres.yaml maps it, checked against a live database, for the
// server-side tests. Test-thread only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "crbridge/mappings/config.h"
#include "crbridge/server/config_check.h"
#include "crbridge/server/postgres_shadow_store.h"
#include "crbridge/server/source_database.h"

namespace crbridge::testing {

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

inline std::unique_ptr<PostgresShadowStore> OpenClockStore(
    const std::string& url, const MappedApp& mapped,
    ShadowStore::Marking marking = ShadowStore::Marking::kCrbridge) {
  std::unique_ptr<PostgresShadowStore> store;
  const Status s = PostgresShadowStore::Open(url, mapped.config.metadata_schema, mapped.check.tables, marking, &store);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return store;
}

}  // namespace crbridge::testing
