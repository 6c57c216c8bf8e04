// The schema `crbridge schema` prints, applied in the real cr-sqlite client
// the way vlcn apps apply theirs (automigrateTo): the client announces the
// schema name and version crbridge expects, and its tables are CRRs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "peers/crsqlite_peer.h"
#include "processes/subprocess.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
namespace {

TEST(ClientSchemaInteropTest, RealClientAnnouncesTheNameAndVersionCrbridgeExpects) {
  for (const auto& [config, url] : std::vector<std::pair<std::string, std::string>>{
           {"postgres.yaml", TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql")},
           {"postgres-jwt-kafka.yaml", TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql")},
           {"mysql.yaml", TestDatabases::Get().NewMariaDbDatabase("todo_app.mysql.sql")}}) {
    setenv("CRBRIDGE_SOURCE_URL", url.c_str(), 1);
    Subprocess crbridge({CRBRIDGE_BINARY, "schema", "--config", std::string(CRBRIDGE_SOURCE_DIR) + "/configs/" + config},
                        Subprocess::Options{.pipe_stdin = false, .separate_stderr = true});
    ASSERT_EQ(crbridge.Wait(std::chrono::seconds(60)), 0) << crbridge.Errors();
    std::smatch expected;
    const std::string summary = crbridge.Errors();
    ASSERT_TRUE(std::regex_search(summary, expected, std::regex(R"(schema (\S+) version (-?\d+))"))) << summary;

    CrSqlitePeer client;
    const auto [name, version] = client.Automigrate(expected[1], crbridge.Output());
    EXPECT_EQ(name, expected[1].str()) << config;
    EXPECT_EQ(version, std::stoll(expected[2])) << config;
    const auto crrs = client.Query(
        "SELECT typeof(count(*)), count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE '%__crsql_clock'");
    EXPECT_EQ(crrs[0][0], Value::Integer(2)) << config;
  }
}

}  // namespace
}  // namespace crbridge::testing
