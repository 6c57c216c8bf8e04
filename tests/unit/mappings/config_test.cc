#include "crbridge/mappings/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace crbridge {
namespace {

constexpr const char* kMinimal =
    "source:\n"
    "  type: postgres\n"
    "  url: postgresql://app@127.0.0.1:5432/app\n"
    "schema_name: todo_app\n"
    "tables:\n"
    "  - name: todos\n";

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  Config config;
  ASSERT_TRUE(ParseConfig(kMinimal, "crbridge.yaml", &config).ok());
  EXPECT_EQ(config.file, "crbridge.yaml");
  EXPECT_EQ(config.source.type, SourceType::kPostgres);
  EXPECT_EQ(config.source.url, "postgresql://app@127.0.0.1:5432/app");
  EXPECT_EQ(config.server.listen_host, "127.0.0.1");
  EXPECT_EQ(config.server.listen_port, 8080);
  EXPECT_EQ(config.server.path, "/sync");
  EXPECT_EQ(config.source.slot, "crbridge");
  EXPECT_EQ(config.source.publication, "crbridge");
  EXPECT_EQ(config.metadata_schema, "crbridge");
  EXPECT_EQ(config.auth.mode, AuthMode::kNone);
  EXPECT_FALSE(config.kafka.has_value());
  ASSERT_EQ(config.tables.size(), 1u);
  EXPECT_EQ(config.tables[0].name, "todos");
  EXPECT_EQ(config.tables[0].QualifiedSource(), "public.todos");
  EXPECT_TRUE(config.tables[0].writable);
  EXPECT_FALSE(config.tables[0].room_column.has_value());
  EXPECT_EQ(config.log.level, LogLevel::kInfo);
}

TEST(ConfigTest, ReadsEveryKey) {
  Config config;
  const Status s = ParseConfig(
      "source:\n"
      "  type: mysql\n"
      "  url: mysql://app:pw@db:3306/app\n"
      "  server_id: 77\n"
      "metadata_schema: shadow\n"
      "server:\n"
      "  listen: \"[::1]:9090\"\n"
      "  path: /v1/sync\n"
      "schema_name: notes\n"
      "auth:\n"
      "  mode: jwt\n"
      "  jwt: { algorithm: HS512, secret_env: NOTES_SECRET, rooms_claim: spaces }\n"
      "tables:\n"
      "  - name: notes\n"
      "    source: notes_db.note\n"
      "    room_column: space_id\n"
      "    writable: false\n"
      "    columns: [id, space_id, { name: body, source: text }]\n"
      "  - name: tags\n"
      "    exclude: [secret]\n"
      "kafka:\n"
      "  brokers: k1:9092,k2:9092\n"
      "log:\n"
      "  level: debug\n",
      "c.yaml", &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.source.type, SourceType::kMysql);
  EXPECT_EQ(config.source.server_id, 77u);
  EXPECT_EQ(config.metadata_schema, "shadow");
  EXPECT_EQ(config.server.listen_host, "::1");
  EXPECT_EQ(config.server.listen_port, 9090);
  EXPECT_EQ(config.server.path, "/v1/sync");
  EXPECT_EQ(config.schema_name, "notes");
  EXPECT_EQ(config.auth.mode, AuthMode::kJwt);
  EXPECT_EQ(config.auth.jwt.algorithm, "HS512");
  EXPECT_EQ(config.auth.jwt.secret_env, "NOTES_SECRET");
  EXPECT_EQ(config.auth.jwt.rooms_claim, "spaces");
  ASSERT_EQ(config.tables.size(), 2u);
  EXPECT_EQ(config.tables[0].QualifiedSource(), "notes_db.note");
  EXPECT_EQ(config.tables[0].room_column, "space_id");
  EXPECT_FALSE(config.tables[0].writable);
  ASSERT_EQ(config.tables[0].columns.size(), 3u);
  EXPECT_EQ(config.tables[0].columns[2].name, "body");
  EXPECT_EQ(config.tables[0].columns[2].source, "text");
  EXPECT_EQ(config.tables[1].QualifiedSource(), "tags");
  EXPECT_EQ(config.tables[1].exclude, std::vector<std::string>{"secret"});
  ASSERT_TRUE(config.kafka.has_value());
  EXPECT_EQ(config.kafka->brokers, "k1:9092,k2:9092");
  EXPECT_EQ(config.kafka->topic, "crbridge.changes");
  EXPECT_EQ(config.log.level, LogLevel::kDebug);
}

TEST(ConfigTest, ExpandsEnvironmentVariablesInValues) {
  setenv("CRBRIDGE_TEST_URL", "postgresql://from-env@127.0.0.1/app", 1);
  unsetenv("CRBRIDGE_TEST_LISTEN");
  Config config;
  const Status s = ParseConfig(
      "source:\n"
      "  type: postgres\n"
      "  url: ${CRBRIDGE_TEST_URL}\n"
      "server:\n"
      "  listen: ${CRBRIDGE_TEST_LISTEN:-127.0.0.1:0}\n"
      "schema_name: s\n"
      "tables: [{ name: t }]\n",
      "c.yaml", &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.source.url, "postgresql://from-env@127.0.0.1/app");
  EXPECT_EQ(config.server.listen_port, 0);
}

// Each bad config and the exact message it must produce: file, line and
// column of the offending value (1-based), key path, what is wrong.
struct BadConfig {
  const char* yaml;
  const char* message;
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, NamesFileLineColumnAndKey) {
  unsetenv("CRBRIDGE_TEST_UNSET");
  Config config;
  const Status s = ParseConfig(GetParam().yaml, "crbridge.yaml", &config);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), GetParam().message);
}

// Prefix of a valid file; cases add to it or stand alone.
#define VALID_SOURCE "source:\n  type: postgres\n  url: postgresql://x\n"
#define VALID_REST "schema_name: s\ntables:\n  - name: todos\n"

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadConfig{"source: [unclosed\n", "crbridge.yaml:2:1: YAML syntax error: end of sequence flow not found"},
        BadConfig{"source:\n  type: postgres\n   url: x\n",
                  "crbridge.yaml:3:7: YAML syntax error: illegal map value"},
        BadConfig{"", "crbridge.yaml: the file is empty; it needs at least a source section"},
        BadConfig{"- a\n- b\n", "crbridge.yaml:1:1: expected a mapping of keys to values"},
        BadConfig{"server:\n  listen: 127.0.0.1:1\n", "crbridge.yaml:1:1: source: required key is missing"},
        BadConfig{"source:\n  url: postgresql://x\n", "crbridge.yaml:2:3: source.type: required key is missing"},
        BadConfig{"source:\n  type: oracle\n  url: x\n",
                  "crbridge.yaml:2:9: source.type: expected postgres or mysql, got \"oracle\""},
        BadConfig{"source:\n  type: mysql\n  url: postgresql://x\n",
                  "crbridge.yaml:3:8: source.url: a mysql source needs a mysql://... url"},
        BadConfig{"source:\n  type: postgres\n  url: ${CRBRIDGE_TEST_UNSET}\n",
                  "crbridge.yaml:3:8: source.url: environment variable CRBRIDGE_TEST_UNSET is not set"},
        BadConfig{"source:\n  type: postgres\n  url: [a, b]\n",
                  "crbridge.yaml:3:8: source.url: expected a single value"},
        BadConfig{"source: postgres\n", "crbridge.yaml:1:9: source: expected a mapping of keys to values"},
        BadConfig{VALID_SOURCE "  slot_name: s\n" VALID_REST,
                  "crbridge.yaml:4:3: source.slot_name: unknown key; did you mean slot?"},
        BadConfig{VALID_SOURCE "sever:\n  listen: x\n" VALID_REST,
                  "crbridge.yaml:4:1: sever: unknown key; did you mean server?"},
        BadConfig{VALID_SOURCE "server:\n  listen: localhost\n" VALID_REST,
                  "crbridge.yaml:5:11: server.listen: expected host:port with a port from 0 to 65535, got "
                  "\"localhost\""},
        BadConfig{VALID_SOURCE "server:\n  path: sync\n" VALID_REST,
                  "crbridge.yaml:5:9: server.path: must start with /, got \"sync\""},
        BadConfig{VALID_SOURCE VALID_REST "log:\n  level: verbose\n",
                  "crbridge.yaml:8:10: log.level: expected debug, info, warn or error, got \"verbose\""},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: crsql_x\n",
                  "crbridge.yaml:6:11: tables[0].name: names starting with crsql_ belong to cr-sqlite"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - todos\n",
                  "crbridge.yaml:6:5: tables[0]: expected a table: a mapping with at least a name"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: t\n    columns: [a, a]\n",
                  "crbridge.yaml:7:18: tables[0].columns[1]: column a is listed twice"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: t\n    columns: [{ name: a, src: b }]\n",
                  "crbridge.yaml:7:26: tables[0].columns[0].src: unknown key; did you mean source?"},
        BadConfig{VALID_SOURCE "metadata_schema: \"x y\"\n" VALID_REST,
                  "crbridge.yaml:4:18: metadata_schema: \"x y\" is not a plain SQL identifier (letters, digits, _ and $)"},
        BadConfig{VALID_SOURCE VALID_REST "auth:\n  mode: jwt\n  jwt: { algorithm: RS256 }\n",
                  "crbridge.yaml:9:21: auth.jwt.algorithm: expected HS256, HS384 or HS512, got \"RS256\""},
        BadConfig{VALID_SOURCE VALID_REST "kafka:\n  topic: t\n",
                  "crbridge.yaml:8:3: kafka.brokers: required key is missing"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: t\n    room_column: a\n"
                  "    room_via: { column: l, table: u }\n  - name: u\n",
                  "crbridge.yaml:8:15: tables[0].room_via: a table has at most one of room_column, room_members and "
                  "room_via"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: t\n    room_members: { table: m, room: r }\n",
                  "crbridge.yaml:7:19: tables[0].room_members.key: required key is missing"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: t\n    room_via: { column: l, table: lists }\n",
                  "crbridge.yaml:7:35: tables[0].room_via.table: room_via names lists, which is not a mapped table"},
        BadConfig{VALID_SOURCE "schema_name: s\ntables:\n  - name: a\n    room_via: { column: x, table: b }\n"
                  "  - name: b\n    room_via: { column: y, table: a }\n",
                  "crbridge.yaml:7:35: tables[0].room_via.table: room_via chains loop: a -> b -> a"}));

// Issue 17: the three kinds of rooms.
TEST(ConfigTest, ReadsRoomsByMembershipAndByReference) {
  Config config;
  const Status parsed = ParseConfig(VALID_SOURCE "schema_name: s\ntables:\n"
                                    "  - name: lists\n    room_members: { table: app.list_members, key: list_id, room: user_id }\n"
                                    "  - name: todos\n    room_via: { column: list_id, table: lists }\n"
                                    "  - name: comments\n    room_via: { column: todo_id, table: todos }\n",
                                    "crbridge.yaml", &config);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  ASSERT_TRUE(config.tables[0].room_members.has_value());
  EXPECT_EQ(config.tables[0].room_members->source_schema, "app");
  EXPECT_EQ(config.tables[0].room_members->source_table, "list_members");
  EXPECT_EQ(config.tables[0].room_members->key, "list_id");
  EXPECT_EQ(config.tables[0].room_members->room, "user_id");
  ASSERT_TRUE(config.tables[2].room_via.has_value());
  EXPECT_EQ(config.tables[2].room_via->column, "todo_id");
  EXPECT_EQ(config.tables[2].room_via->table, "todos");
  EXPECT_FALSE(config.tables[1].room_column.has_value());
}

TEST(ConfigTest, LaterErrorsPointAtTheKeyOrItsNearestParent) {
  Config config;
  ASSERT_TRUE(ParseConfig(kMinimal, "crbridge.yaml", &config).ok());
  EXPECT_EQ(config.ErrorAt("tables[0].name", "x").message(), "crbridge.yaml:6:11: tables[0].name: x");
  EXPECT_EQ(config.ErrorAt("tables[0].room_column", "no such column").message(),
            "crbridge.yaml:6:5: tables[0].room_column: no such column");
}

TEST(ConfigTest, MissingFileIsAnIOErrorNamingIt) {
  Config config;
  const Status s = LoadConfigFile("/nonexistent/crbridge.yaml", &config);
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_EQ(s.message(), "/nonexistent/crbridge.yaml: cannot open: No such file or directory");
}

// configs/ holds one example per scenario; every one of them must load.
TEST(ConfigTest, EveryExampleConfigLoads) {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CRBRIDGE_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    Config config;
    const Status s = LoadConfigFile(entry.path().string(), &config);
    EXPECT_TRUE(s.ok()) << s.ToString();
    ++loaded;
  }
  EXPECT_GE(loaded, 2);
}

}  // namespace
}  // namespace crbridge
