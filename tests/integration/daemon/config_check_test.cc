// `crbridge check` and `crbridge schema` against real databases: every
// example config passes, every broken config fails with its expected line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string_view>

#include "eventually.h"
#include "processes/running_daemon.h"
#include "processes/subprocess.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app.h"
#include "todo_app/todo_app_database.h"

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
  const std::string mariadb = TestDatabases::Get().NewMariaDbDatabase("todo_app.mysql.sql");
  const auto configs = Files("configs");
  ASSERT_GE(configs.size(), 3u);
  for (const auto& config : configs) {
    const bool mysql = IsMysql(config);
    const CliRun run = Crbridge({"check", "--config", config.string()}, mysql ? mariadb : postgres);
    EXPECT_EQ(run.exit_code, 0) << config << "\n" << run.output;
    EXPECT_NE(run.output.find(mysql ? ": ok (MariaDB 10.11" : ": ok (PostgreSQL " + PostgresMajor() + "."), std::string::npos)
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

// Servers that cannot feed capture are refused, one line per setting,
// positioned at the source url.
TEST(ConfigCheckTest, MisconfiguredServersAreReported) {
  const DatabaseServer postgres(ServerKind::kPostgres, "-c wal_level=replica");
  const CliRun pg = Crbridge({"check", "--config", std::string(CRBRIDGE_SOURCE_DIR) + "/configs/postgres.yaml"},
                             CreateDatabase(postgres, 1, "todo_app.postgres.sql"));
  EXPECT_EQ(pg.exit_code, 2) << pg.output;
  EXPECT_NE(pg.output.find("postgres.yaml:11:8: source.url: wal_level is replica; logical replication needs "
                           "wal_level = logical (and a restart)\n"),
            std::string::npos)
      << pg.output;

  const DatabaseServer mariadb(ServerKind::kMariaDb, "--binlog-format=MIXED --binlog-row-image=MINIMAL");
  const CliRun my = Crbridge({"check", "--config", std::string(CRBRIDGE_SOURCE_DIR) + "/configs/mysql.yaml"},
                             CreateDatabase(mariadb, 1, "todo_app.mysql.sql"));
  EXPECT_EQ(my.exit_code, 2) << my.output;
  EXPECT_NE(my.output.find("mysql.yaml:8:8: source.url: binlog_format is MIXED; capture needs binlog_format = ROW\n"),
            std::string::npos)
      << my.output;
  EXPECT_NE(my.output.find("source.url: binlog_row_image is MINIMAL; capture needs binlog_row_image = FULL\n"),
            std::string::npos)
      << my.output;
}

// A plain login role is told each privilege it lacks, with the statement
// that grants it, at the key it concerns; once granted (the publication
// made for it by the tables' owner), `check` says ok and `run` is ready.
TEST(ConfigCheckTest, APlainRoleIsToldEachMissingPrivilege) {
  TodoAppDatabase app(ServerKind::kPostgres);
  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "plain_role");
  const std::string database = app.url.substr(app.url.rfind('/') + 1);
  app.Sql("CREATE ROLE plain_role LOGIN");
  const std::string url = std::regex_replace(app.url, std::regex("//postgres@"), "//plain_role@");
  const bool grants_origins = std::stoi(PostgresMajor()) >= 14;

  const CliRun refused = Crbridge({"check", "--config", config}, url);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  const std::string role = "\"plain_role\"";
  const std::string grant_create = "GRANT CREATE ON DATABASE \"" + database + "\" TO " + role + "\n";
  for (const std::string& expected : {
           "source.url: the role " + role + " may not stream logical replication (it has neither REPLICATION nor "
           "superuser): ALTER ROLE " + role + " WITH REPLICATION\n",
           "metadata_schema: the role " + role + " may not create the metadata schema \"crbridge\": " + grant_create,
           "tables[1].source: the role " + role + " may not read public.todos: GRANT SELECT ON public.todos TO " +
               role + "\n",
           "tables[1].source: the role " + role + " may not merge client writes into public.todos (writable): "
           "GRANT INSERT, UPDATE, DELETE ON public.todos TO " + role + "\n",
           "tables[1].source: the role " + role + " may not name public.todos in the publication \"crbridge\" (only "
           "its owner may): ALTER TABLE public.todos OWNER TO " + role + ", or have the owner make \"crbridge\" with "
           "exactly the mapped tables (CREATE PUBLICATION \"crbridge\" FOR TABLE ...)\n",
           "source.publication: the role " + role + " may not create the publication \"crbridge\": " + grant_create,
           grants_origins ? "source.url: the role " + role + " may not use replication origins, which mark "
                            "crbridge's own writes: GRANT EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) "
                            "TO " + role + "\n"
                          : "source.url: Postgres 13 lets only superusers use replication origins, which mark "
                            "crbridge's own writes: ALTER ROLE " + role + " SUPERUSER",
       }) {
    EXPECT_NE(refused.output.find(expected), std::string::npos) << expected << "\nin:\n" << refused.output;
  }
  if (!grants_origins) return;

  app.Sql("ALTER ROLE plain_role WITH REPLICATION");
  app.Sql("GRANT CREATE ON DATABASE " + database + " TO plain_role");
  app.Sql("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO plain_role");
  app.Sql("GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text) TO plain_role");
  app.Sql("GRANT EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) TO plain_role");
  // A publication that does not publish the tables whole would be changed,
  // which only its owner may do.
  app.Sql("CREATE PUBLICATION crbridge FOR TABLE todo_lists, todos WITH (publish = 'insert, update')");
  const CliRun partial = Crbridge({"check", "--config", config}, url);
  EXPECT_EQ(partial.exit_code, 2) << partial.output;
  EXPECT_NE(partial.output.find("source.publication: the publication \"crbridge\" belongs to another role and does "
                                "not publish exactly the mapped tables whole: ALTER PUBLICATION \"crbridge\" OWNER "
                                "TO " + role + "\n"),
            std::string::npos)
      << partial.output;
  // Row-level security would hide rows from snapshots.
  app.Sql("ALTER TABLE todos ENABLE ROW LEVEL SECURITY");
  const CliRun hidden = Crbridge({"check", "--config", config}, url);
  EXPECT_NE(hidden.output.find("tables[1].source: row-level security on public.todos hides rows from the role " +
                               role + ": ALTER ROLE " + role + " BYPASSRLS\n"),
            std::string::npos)
      << hidden.output;
  app.Sql("ALTER TABLE todos DISABLE ROW LEVEL SECURITY");
  // The tables' owner makes the publication; crbridge leaves it as it is.
  app.Sql("ALTER PUBLICATION crbridge SET (publish = 'insert, update, delete, truncate')");
  const CliRun ok = Crbridge({"check", "--config", config}, url);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find(": ok (PostgreSQL"), std::string::npos) << ok.output;

  RunningDaemon daemon(CRBRIDGE_BINARY, config, url);
  EXPECT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  app.Sql("INSERT INTO todo_lists (id) VALUES ('l1')");
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM crbridge.todo_lists__clock") == "1"; }))
      << daemon.process().Output();
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
                               TestDatabases::Get().NewMariaDbDatabase("todo_app.mysql.sql"));
  EXPECT_EQ(mariadb.exit_code, 0) << mariadb.output;
  EXPECT_TRUE(mariadb.output.starts_with(kTodoAppSchema)) << mariadb.output;
}

TEST(ConfigCheckTest, SchemaForARoomChecksTheRoomCanMatchEveryRoomColumn) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const std::string config = std::string(CRBRIDGE_SOURCE_DIR) + "/configs/postgres.yaml";
  const CliRun text_room = Crbridge({"schema", "--config", config, "--room", "list-1"}, url);
  EXPECT_EQ(text_room.exit_code, 0) << text_room.output;
  EXPECT_TRUE(text_room.output.starts_with(kTodoAppSchema)) << text_room.output;

  // A room column of another type: the room id must read as one of its values.
  const std::string path = ::testing::TempDir() + "/boolean_room.yaml";
  std::ofstream(path) << "source:\n  type: postgres\n  url: ${CRBRIDGE_SOURCE_URL}\nschema_name: s\ntables:\n"
                         "  - name: todos\n    columns: [id, list_id, title, done]\n    room_column: done\n";
  EXPECT_EQ(Crbridge({"schema", "--config", path, "--room", "t"}, url).exit_code, 0);
  const CliRun refused = Crbridge({"schema", "--config", path, "--room", "list-1"}, url);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.output, "crbridge: room \"list-1\" can never match todos.done (boolean)\n");
}

// `check` against a database crbridge already runs on tells what the next
// start changes in the shadow store, and refuses (at the config key, with
// what to do) what a start would refuse, before anything is touched.
class MappingChangesCheckTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(MappingChangesCheckTest, CheckTellsWhatTheNextStartChangesAndRefusesWhatItCannot) {
  TodoAppDatabase database(GetParam());
  OpenAppStore(*MapTodoApp(database, "  - name: todos\n    room_column: list_id\n    columns: [id, list_id, title]\n"),
               ShadowStore::Marking::kNone);
  const auto Check = [&](const std::string& tables) {
    std::string yaml = TodoAppYaml(database, tables);
    for (const std::string_view unused : {"postgresql://unused", "mysql://unused@localhost/x"}) {
      if (const size_t at = yaml.find(unused); at != std::string::npos) {
        yaml.replace(at, unused.size(), "${CRBRIDGE_SOURCE_URL}");
      }
    }
    const std::string path = ::testing::TempDir() + "/mapping_changes.yaml";
    std::ofstream(path) << yaml;
    return Crbridge({"check", "--config", path}, database.url);
  };

  const CliRun grown = Check(kTodoAppTables);
  EXPECT_EQ(grown.exit_code, 0) << grown.output;
  EXPECT_NE(grown.output.find("\nnext start: todo_lists: new table: it gets its clock table and is read whole"),
            std::string::npos)
      << grown.output;
  EXPECT_NE(grown.output.find("\nnext start: todos: new column(s) done, position, due: their clocks start empty"),
            std::string::npos)
      << grown.output;

  const CliRun moved = Check("  - name: todos\n    room_column: title\n    columns: [id, list_id, title]\n");
  EXPECT_EQ(moved.exit_code, 0) << moved.output;
  EXPECT_NE(moved.output.find("\nnext start: todos: rooms now by room_column: title (were by room_column: list_id): "
                              "the table is read whole again; rows whose room changed leave"),
            std::string::npos)
      << moved.output;

  const CliRun everywhere = Check("  - name: todos\n    columns: [id, list_id, title]\n");
  EXPECT_EQ(everywhere.exit_code, 2) << everywhere.output;
  EXPECT_TRUE(everywhere.output.starts_with("crbridge: " + ::testing::TempDir() + "/mapping_changes.yaml:"))
      << everywhere.output;
  EXPECT_NE(everywhere.output.find(": tables[0]: the rooms of table todos changed from \"room_column: list_id\" to "
                                   "\"every room\"; "),
            std::string::npos)
      << everywhere.output;
  EXPECT_EQ(everywhere.output.find("next start"), std::string::npos) << "nothing is planned past a refusal";

  const CliRun same = Check("  - name: todos\n    room_column: list_id\n    columns: [id, list_id, title]\n");
  EXPECT_EQ(same.exit_code, 0) << same.output;
  EXPECT_EQ(same.output.find("next start"), std::string::npos) << same.output;
}

INSTANTIATE_TEST_SUITE_P(Databases, MappingChangesCheckTest,
                         AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
