// `crbridge check` and `crbridge schema` against real databases: every
// example config passes, every broken config fails with its expected line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "subprocess.h"
#include "test_databases.h"

namespace crbridge::testing {
namespace {

using std::chrono::seconds;

struct CliRun {
  int exit_code;
  std::string output;
};

CliRun Crbridge(const std::vector<std::string>& args, const std::string& source_url) {
  setenv("CRBRIDGE_SOURCE_URL", source_url.c_str(), 1);
  std::vector<std::string> argv = {CRBRIDGE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess crbridge(argv);
  const int code = crbridge.Wait(seconds(60));
  return CliRun{code, crbridge.Output()};
}

std::vector<std::filesystem::path> Files(const std::string& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CRBRIDGE_SOURCE_DIR) + "/" + folder)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool IsMysql(const std::filesystem::path& config) {
  std::ifstream in(config);
  for (std::string line; std::getline(in, line);) {
    if (line.find("type: mysql") != std::string::npos) return true;
  }
  return false;
}

TEST(ConfigCheckTest, EveryExampleConfigPassesCheckAgainstTheFixtures) {
  const std::string postgres = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const std::string mariadb = TestDatabases::Get().NewMariaDBDatabase("todo_app.mysql.sql");
  const auto configs = Files("configs");
  ASSERT_GE(configs.size(), 3u);
  for (const auto& config : configs) {
    const bool mysql = IsMysql(config);
    const CliRun run = Crbridge({"check", "--config", config.string()}, mysql ? mariadb : postgres);
    EXPECT_EQ(run.exit_code, 0) << config << "\n" << run.output;
    EXPECT_NE(run.output.find(mysql ? ": ok (MariaDB 10.11" : ": ok (PostgreSQL 15."), std::string::npos)
        << run.output;
  }
}

// Each file in tests/data/broken_configs holds one mistake and, in its first
// line "# expect: LINE:COLUMN: KEY: MESSAGE", the one error it must cause.
TEST(ConfigCheckTest, EveryBrokenConfigFailsWithItsExpectedLine) {
  const std::string postgres = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const auto configs = Files("tests/data/broken_configs");
  ASSERT_GE(configs.size(), 12u);
  for (const auto& config : configs) {
    std::ifstream in(config);
    std::string first;
    std::getline(in, first);
    ASSERT_TRUE(first.starts_with("# expect: ")) << config;
    const CliRun run = Crbridge({"check", "--config", config.string()}, postgres);
    EXPECT_EQ(run.exit_code, 2) << config;
    EXPECT_EQ(run.output, "crbridge: " + config.string() + ":" + first.substr(10) + "\n") << config;
  }
}

// The client schema of the example app, the same from either database.
constexpr const char* kTodoAppSchema = R"(CREATE TABLE IF NOT EXISTS "todo_lists" (
  "id" TEXT NOT NULL,
  "name" TEXT NOT NULL DEFAULT '',
  "created_at" TEXT,
  PRIMARY KEY ("id")
);
SELECT crsql_as_crr('todo_lists');
CREATE TABLE IF NOT EXISTS "todos" (
  "id" TEXT NOT NULL,
  "list_id" TEXT,
  "title" TEXT NOT NULL DEFAULT '',
  "done" INTEGER NOT NULL DEFAULT 0,
  "position" REAL,
  "due" TEXT,
  PRIMARY KEY ("id")
);
SELECT crsql_as_crr('todos');
)";

TEST(ConfigCheckTest, SchemaPrintsTheClientSchemaAndItsVersion) {
  const CliRun postgres = Crbridge({"schema", "--config", std::string(CRBRIDGE_SOURCE_DIR) + "/configs/postgres.yaml"},
                                TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
  EXPECT_EQ(postgres.exit_code, 0) << postgres.output;
  // stdout is the schema; the version line comes last, on stderr.
  EXPECT_TRUE(postgres.output.starts_with(kTodoAppSchema)) << postgres.output;
  EXPECT_NE(postgres.output.find("schema todo_app version -6156894675663864458 "), std::string::npos) << postgres.output;

  const CliRun mariadb = Crbridge({"schema", "--config", std::string(CRBRIDGE_SOURCE_DIR) + "/configs/mysql.yaml"},
                               TestDatabases::Get().NewMariaDBDatabase("todo_app.mysql.sql"));
  EXPECT_EQ(mariadb.exit_code, 0) << mariadb.output;
  EXPECT_TRUE(mariadb.output.starts_with(kTodoAppSchema)) << mariadb.output;
}

}  // namespace
}  // namespace crbridge::testing
