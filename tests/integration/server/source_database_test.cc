// SourceDatabase::Probe against the real servers, an address where nothing
// listens, and one that accepts connections but never answers.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <thread>

#include "crbridge/server/core/source_database.h"
#include "crbridge/server/dialects.h"
#include "databases/test_databases.h"

namespace crbridge {
namespace {

using std::chrono::milliseconds;
using testing::PostgresMajor;
using testing::TestDatabases;

// A TCP listener that never accepts: the kernel completes the handshake,
// then the client waits for a greeting that never comes.
class SilentServer {
 public:
  SilentServer() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {}
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

// A port on 127.0.0.1 with nothing listening.
uint16_t ClosedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::unique_ptr<SourceDatabase> Database(SourceType type, const std::string& url) {
  return NewSourceDatabase(SourceConfig{type, url});
}

TEST(SourceDatabaseProbeTest, PostgresReportsItsVersion) {
  ServerInfo info;
  const Status s = Database(SourceType::kPostgres, TestDatabases::Get().Postgres().url())
                       ->Probe(milliseconds(5000), std::stop_token(), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.product, "PostgreSQL");
  EXPECT_TRUE(info.version.starts_with(PostgresMajor() + ".")) << info.version;
}

TEST(SourceDatabaseProbeTest, MariaDbReportsItsVersion) {
  ServerInfo info;
  const Status s = Database(SourceType::kMysql, TestDatabases::Get().MariaDB().url())
                       ->Probe(milliseconds(5000), std::stop_token(), &info);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(info.product, "MariaDB");
  EXPECT_TRUE(info.version.starts_with("10.11.")) << info.version;
}

TEST(SourceDatabaseProbeTest, WrongCredentialsAreUnavailableWithTheServersReason) {
  const auto& postgres = TestDatabases::Get().Postgres();
  ServerInfo info;
  Status s = Database(SourceType::kPostgres,
                      "postgresql://postgres@127.0.0.1:" + std::to_string(postgres.port()) + "/no_such_db")
                 ->Probe(milliseconds(5000), std::stop_token(), &info);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("no_such_db"), std::string::npos) << s.message();

  const auto& mariadb = TestDatabases::Get().MariaDB();
  s = Database(SourceType::kMysql, "mysql://crbridge:wrong@127.0.0.1:" + std::to_string(mariadb.port()) + "/")
          ->Probe(milliseconds(5000), std::stop_token(), &info);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("Access denied"), std::string::npos) << s.message();
}

TEST(SourceDatabaseProbeTest, NothingListeningIsUnavailable) {
  const uint16_t port = ClosedPort();
  ServerInfo info;
  EXPECT_EQ(Database(SourceType::kPostgres, "postgresql://x@127.0.0.1:" + std::to_string(port) + "/db")
                ->Probe(milliseconds(5000), std::stop_token(), &info)
                .code(),
            Status::Code::kUnavailable);
  EXPECT_EQ(Database(SourceType::kMysql, "mysql://x@127.0.0.1:" + std::to_string(port) + "/")
                ->Probe(milliseconds(5000), std::stop_token(), &info)
                .code(),
            Status::Code::kUnavailable);
}

TEST(SourceDatabaseProbeTest, MalformedMysqlUrlIsInvalidArgument) {
  ServerInfo info;
  EXPECT_EQ(Database(SourceType::kMysql, "mysql://u@:0/")->Probe(milliseconds(100), std::stop_token(), &info).code(),
            Status::Code::kInvalidArgument);
}

class SilentServerTest : public ::testing::TestWithParam<SourceType> {
 protected:
  std::string Url(uint16_t port) const {
    return (GetParam() == SourceType::kPostgres ? "postgresql://x@127.0.0.1:" : "mysql://x@127.0.0.1:") +
           std::to_string(port) + "/db";
  }
};

TEST_P(SilentServerTest, TimesOutAsUnavailable) {
  SilentServer server;
  ServerInfo info;
  const Status s = Database(GetParam(), Url(server.port()))->Probe(milliseconds(300), std::stop_token(), &info);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
}

TEST_P(SilentServerTest, StopRequestCancelsAConnectInProgress) {
  SilentServer server;
  std::stop_source stop;
  Status result;
  std::thread prober([&] {
    ServerInfo info;
    result = Database(GetParam(), Url(server.port()))->Probe(milliseconds(60000), stop.get_token(), &info);
  });
  std::this_thread::sleep_for(milliseconds(200));
  stop.request_stop();
  prober.join();  // hangs (and the test times out) if the probe ignores the stop request
  EXPECT_EQ(result.code(), Status::Code::kCancelled) << result.ToString();
}

INSTANTIATE_TEST_SUITE_P(Dialects, SilentServerTest, ::testing::Values(SourceType::kPostgres, SourceType::kMysql),
                         [](const auto& param_info) { return std::string(SourceTypeName(param_info.param)); });

}  // namespace
}  // namespace crbridge
