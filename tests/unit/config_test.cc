#include "crbridge/mappings/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace crbridge {
namespace {

constexpr const char* kMinimal =
    "source:\n"
    "  type: postgres\n"
    "  url: postgresql://app@127.0.0.1:5432/app\n";

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  Config config;
  ASSERT_TRUE(ParseConfig(kMinimal, "crbridge.yaml", &config).ok());
  EXPECT_EQ(config.file, "crbridge.yaml");
  EXPECT_EQ(config.source.type, SourceType::kPostgres);
  EXPECT_EQ(config.source.url, "postgresql://app@127.0.0.1:5432/app");
  EXPECT_EQ(config.server.listen_host, "127.0.0.1");
  EXPECT_EQ(config.server.listen_port, 8080);
  EXPECT_EQ(config.log.level, LogLevel::kInfo);
}

TEST(ConfigTest, ReadsEveryKey) {
  Config config;
  const Status s = ParseConfig(
      "source:\n"
      "  type: mysql\n"
      "  url: mysql://app:pw@db:3306/app\n"
      "server:\n"
      "  listen: \"[::1]:9090\"\n"
      "log:\n"
      "  level: debug\n",
      "c.yaml", &config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.source.type, SourceType::kMysql);
  EXPECT_EQ(config.server.listen_host, "::1");
  EXPECT_EQ(config.server.listen_port, 9090);
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
      "  listen: ${CRBRIDGE_TEST_LISTEN:-127.0.0.1:0}\n",
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
        BadConfig{"source:\n  type: postgres\n  url: postgresql://x\n  slot_name: s\n",
                  "crbridge.yaml:4:3: source.slot_name: unknown key"},
        BadConfig{"source:\n  type: postgres\n  url: postgresql://x\nsever:\n  listen: x\n",
                  "crbridge.yaml:4:1: sever: unknown key"},
        BadConfig{"source:\n  type: postgres\n  url: postgresql://x\nserver:\n  listen: localhost\n",
                  "crbridge.yaml:5:11: server.listen: expected host:port with a port from 0 to 65535, got "
                  "\"localhost\""},
        BadConfig{"source:\n  type: postgres\n  url: postgresql://x\nserver:\n  listen: 127.0.0.1:70000\n",
                  "crbridge.yaml:5:11: server.listen: expected host:port with a port from 0 to 65535, got "
                  "\"127.0.0.1:70000\""},
        BadConfig{"source:\n  type: postgres\n  url: postgresql://x\nlog:\n  level: verbose\n",
                  "crbridge.yaml:5:10: log.level: expected debug, info, warn or error, got \"verbose\""}));

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
