// The crbridge binary, as a user runs it: `run` with the example configs
// against real databases (capture across a database crash and across
// kill -9 of crbridge, on Postgres and MariaDB), `check` (of mappings and
// server settings), `drop`, `version` and `--help`.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <functional>
#include <iterator>
#include <pqxx/pqxx>

#include "processes/http_get.h"
#include "processes/running_daemon.h"
#include "processes/subprocess.h"
#include "databases/test_databases.h"
#include "todo_app/todo_app_database.h"

namespace crbridge::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ConfigPath(const std::string& name) { return std::string(CRBRIDGE_SOURCE_DIR) + "/configs/" + name; }

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

void ExpectEveryLineIsStructured(const std::string& output) {
  std::istringstream lines(output);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(std::regex_match(line, std::regex(R"(ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) component=\S+ msg=.*)")))
        << line;
  }
  EXPECT_GT(count, 0);
}

void ExpectCleanShutdown(RunningDaemon& daemon, int signal_number) {
  daemon.process().Signal(signal_number);
  EXPECT_EQ(daemon.process().Wait(seconds(30)), 0) << daemon.process().Output();
  EXPECT_NE(daemon.process().Output().find("msg=stopped"), std::string::npos);
  ExpectEveryLineIsStructured(daemon.process().Output());
}

TEST(DaemonTest, PostgresSourceIsReadyAndShutsDownOnSigterm) {
  RunningDaemon daemon(CRBRIDGE_BINARY, ConfigPath("postgres.yaml"),
                       TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql"));
  ASSERT_NE(daemon.port(), 0);
  EXPECT_NE(daemon.process().Output().find("msg=\"mappings checked\""), std::string::npos) << daemon.process().Output();

  const HttpResult health = daemon.Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.content_type, "application/json");

  const HttpResult ready = daemon.WaitForStatus("/readyz", 200);
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("\"status\":\"ok\""), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("PostgreSQL " + PostgresMajor() + "."), std::string::npos) << ready.body;

  const HttpResult metrics = daemon.Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(metrics.content_type.starts_with("text/plain; version=0.0.4")) << metrics.content_type;
  EXPECT_NE(metrics.body.find("\ncrbridge_source_up 1\n"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("crbridge_build_info{version=\"" CRBRIDGE_VERSION "\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("crbridge_http_requests_total{code=\"200\",path=\"/healthz\"} 1"), std::string::npos)
      << metrics.body;

  EXPECT_EQ(daemon.Get("/no-such-page").status, 404);
  ExpectCleanShutdown(daemon, SIGTERM);
}

std::string Query(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  const pqxx::row row = pqxx::nontransaction(conn).exec1(sql);
  return row[0].is_null() ? "NULL" : row[0].as<std::string>();
}

bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 600; ++i) {
    try {
      if (done()) return true;
    } catch (const std::exception&) {
      // not yet: the database restarting, or capture not set up
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

class DaemonCaptureTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(DaemonCaptureTest, CapturesAppWritesAndReconnectsWhenTheDatabaseRestarts) {
  const DatabaseServer server(GetParam());
  TodoAppDatabase app(server);
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l1', 'before start')");
  RunningDaemon daemon(CRBRIDGE_BINARY, app.Config(CRBRIDGE_SOURCE_DIR, "restarts"), app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  EXPECT_NE(daemon.process().Output().find("component=snapshot msg=done table=todo_lists rows=1"), std::string::npos);
  const std::string clocks = "SELECT count(*) FROM " + app.metadata() + ".todos__clock";
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  ASSERT_TRUE(Eventually([&] { return app.One(clocks) == "1"; }));
  // Counted once recorded: the clock may be seen a moment before.
  EXPECT_TRUE(Eventually(
      [&] { return daemon.Get("/metrics").body.find("crbridge_capture_transactions_total 1") != std::string::npos; }));

  server.CrashRestart();
  ASSERT_TRUE(daemon.process().WaitForOutput("msg=\"lost the database; reconnecting\"", seconds(30)))
      << daemon.process().Output();
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  TodoAppDatabase restarted(GetParam(), app.url);
  restarted.Sql("INSERT INTO todos (id, list_id) VALUES ('t2', 'l1')");
  EXPECT_TRUE(Eventually([&] { return restarted.One(clocks) == "2"; }));
  const std::string metrics = daemon.Get("/metrics").body;
  EXPECT_NE(metrics.find("crbridge_capture_lag_bytes "), std::string::npos);
  EXPECT_NE(metrics.find("crbridge_snapshot_rows_total{table=\"todo_lists\"} 1"), std::string::npos) << metrics;
  ExpectCleanShutdown(daemon, SIGTERM);
}

// P7 for capture: crbridge killed while app writes stream in; after a
// restart every write is recorded exactly once (each title change is one
// col_version, none lost, none counted twice). On MariaDB the stream
// resumes at the GTID state stored with the clocks.
TEST_P(DaemonCaptureTest, AKillNineLosesNoAppWriteAndCountsNoneTwice) {
  TodoAppDatabase app(GetParam());
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'title 0')");
  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "killed");
  int updates = 0;
  for (int life = 0; life < 3; ++life) {
    RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
    ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
    for (int i = 0; i < 200; ++i) app.Sql("UPDATE todos SET title = 'title " + std::to_string(++updates) + "'");
    daemon.process().Signal(SIGKILL);
    daemon.process().Wait(seconds(30));
  }
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  app.Sql("INSERT INTO todo_lists (id) VALUES ('caught up')");
  ASSERT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM " + app.metadata() + ".todo_lists__clock") == "1"; }));
  // title is the second value column; the snapshot gave it version 1.
  EXPECT_EQ(app.ColumnVersion("todos", "t1", 2), std::to_string(1 + updates));
  ExpectCleanShutdown(daemon, SIGTERM);
}

// Issue 16, item 1: a mapped table renamed away is said loudly (readiness,
// the log, a metric) until it is back, the other tables keep flowing, and
// what the app wrote to it meanwhile reaches the clocks then.
TEST_P(DaemonCaptureTest, AMappedTableRenamedAwayIsNotReadyUntilItIsBack) {
  TodoAppDatabase app(GetParam());
  RunningDaemon daemon(CRBRIDGE_BINARY, app.Config(CRBRIDGE_SOURCE_DIR, "renamed"), app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  const bool postgres = GetParam() == ServerKind::kPostgres;
  const auto rename = [&](const std::string& from, const std::string& to) {
    app.Sql(postgres ? "ALTER TABLE " + from + " RENAME TO " + to : "RENAME TABLE " + from + " TO " + to);
  };
  rename("todos", "todos_away");
  const HttpResult away = daemon.WaitForStatus("/readyz", 503);
  EXPECT_EQ(away.status, 503) << daemon.process().Output();
  EXPECT_NE(away.body.find("todos ("), std::string::npos) << away.body;
  EXPECT_NE(away.body.find("no table has this name"), std::string::npos) << away.body;
  EXPECT_NE(daemon.Get("/metrics").body.find("crbridge_capture_table_away{table=\"todos\"} 1"), std::string::npos);
  EXPECT_NE(daemon.process().Output().find("msg=\"a mapped table is away"), std::string::npos);
  app.Sql("INSERT INTO todos_away (id, list_id) VALUES ('t1', 'l1')");
  // The other tables keep flowing meanwhile.
  app.Sql("INSERT INTO todo_lists (id, name) VALUES ('l9', 'while todos is away')");
  EXPECT_TRUE(Eventually([&] {
    return app.One("SELECT count(*) FROM " + app.metadata() + ".todo_lists__clock WHERE id = 'l9'") == "1";
  })) << daemon.process().Output();

  rename("todos_away", "todos");
  EXPECT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  EXPECT_TRUE(Eventually([&] { return app.One("SELECT count(*) FROM " + app.metadata() + ".todos__clock") == "1"; }));
  EXPECT_NE(daemon.Get("/metrics").body.find("crbridge_capture_table_away{table=\"todos\"} 0"), std::string::npos);
  EXPECT_NE(daemon.process().Output().find("msg=\"a mapped table is back\" table=todos"), std::string::npos);
  ExpectCleanShutdown(daemon, SIGTERM);
}

INSTANTIATE_TEST_SUITE_P(BothDatabases, DaemonCaptureTest,
                         AllServerKinds(),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

TEST(CliTest, DropAsksForConfirmationThenRemovesWhatCrbridgeCreated) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  const std::string config = PostgresConfigWithSlot(CRBRIDGE_SOURCE_DIR, "dropped");
  {
    RunningDaemon daemon(CRBRIDGE_BINARY, config, url);
    ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
    ExpectCleanShutdown(daemon, SIGTERM);
  }
  setenv("CRBRIDGE_SOURCE_URL", url.c_str(), 1);
  Subprocess unconfirmed({CRBRIDGE_BINARY, "drop", "--config", config});
  EXPECT_EQ(unconfirmed.Wait(seconds(30)), 2);
  EXPECT_NE(unconfirmed.Output().find("Run again with --yes"), std::string::npos) << unconfirmed.Output();
  EXPECT_EQ(Query(url, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dropped'"), "1");

  Subprocess confirmed({CRBRIDGE_BINARY, "drop", "--config", config, "--yes"});
  EXPECT_EQ(confirmed.Wait(seconds(30)), 0) << confirmed.Output();
  EXPECT_EQ(Query(url, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dropped'"), "0");
  EXPECT_EQ(Query(url, "SELECT count(*) FROM pg_namespace WHERE nspname = 'crbridge'"), "0");
  EXPECT_EQ(Query(url, "SELECT count(*) FROM pg_publication"), "0");
}

// MariaDB keeps nothing for a replica once it disconnects: drop removes
// the metadata database, and the app's database stays as it was.
TEST(CliTest, DropOnMariaDbRemovesTheMetadataDatabaseOnly) {
  TodoAppDatabase app(ServerKind::kMariaDb);
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "dropped");
  {
    RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
    ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
    ExpectCleanShutdown(daemon, SIGTERM);
  }
  const std::string metadata_exists =
      "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" + app.metadata() + "'";
  ASSERT_EQ(app.One(metadata_exists), "1");
  setenv("CRBRIDGE_SOURCE_URL", app.url.c_str(), 1);
  Subprocess unconfirmed({CRBRIDGE_BINARY, "drop", "--config", config});
  EXPECT_EQ(unconfirmed.Wait(seconds(30)), 2);
  EXPECT_NE(unconfirmed.Output().find("this drops the database " + app.metadata() + "; "), std::string::npos)
      << unconfirmed.Output();
  EXPECT_EQ(app.One(metadata_exists), "1");

  Subprocess confirmed({CRBRIDGE_BINARY, "drop", "--config", config, "--yes"});
  EXPECT_EQ(confirmed.Wait(seconds(30)), 0) << confirmed.Output();
  EXPECT_EQ(app.One(metadata_exists), "0");
  EXPECT_EQ(app.One("SELECT count(*) FROM todos"), "1") << "the app's data stays";

  // Started again, crbridge takes a new snapshot.
  RunningDaemon daemon(CRBRIDGE_BINARY, config, app.url);
  ASSERT_EQ(daemon.WaitForStatus("/readyz", 200).status, 200) << daemon.process().Output();
  EXPECT_TRUE(Eventually([&] { return app.ColumnVersion("todos", "t1", 2) == "1"; }));
  ExpectCleanShutdown(daemon, SIGTERM);
}

// A server whose binary log would not carry the app's writes: `check` and
// `run` name each setting to change, at the source url.
TEST(CliTest, MariaDbWithoutTheRowBinlogIsRefusedByCheckAndRun) {
  const DatabaseServer server(ServerKind::kMariaDb, "--skip-log-bin --binlog-row-metadata=NO_LOG");
  TodoAppDatabase app(server);
  const std::string config = app.Config(CRBRIDGE_SOURCE_DIR, "misconfigured");
  const std::string log_bin = "source.url: log_bin is off; capture reads the binary log (log_bin = ON)";
  const std::string metadata = "source.url: binlog_row_metadata is NO_LOG; capture needs binlog_row_metadata = FULL";
  setenv("CRBRIDGE_SOURCE_URL", app.url.c_str(), 1);
  Subprocess check({CRBRIDGE_BINARY, "check", "--config", config});
  EXPECT_EQ(check.Wait(seconds(30)), 2);
  EXPECT_NE(check.Output().find(log_bin + "\n"), std::string::npos) << check.Output();
  EXPECT_NE(check.Output().find(metadata + "\n"), std::string::npos) << check.Output();

  Subprocess run({CRBRIDGE_BINARY, "run", "--config", config});
  EXPECT_EQ(run.Wait(seconds(30)), 2);
  EXPECT_NE(run.Output().find(log_bin), std::string::npos) << run.Output();
  EXPECT_NE(run.Output().find(metadata), std::string::npos) << run.Output();
}

TEST(DaemonTest, MariaDbSourceIsReady) {
  RunningDaemon daemon(CRBRIDGE_BINARY, ConfigPath("mysql.yaml"), TestDatabases::Get().NewMariaDbDatabase("todo_app.mysql.sql"));
  const HttpResult ready = daemon.WaitForStatus("/readyz", 200);
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("MariaDB 10.11."), std::string::npos) << ready.body;
  ExpectCleanShutdown(daemon, SIGINT);
}

TEST(DaemonTest, UnreachableSourceIsLiveButNotReady) {
  boost::asio::io_context io;
  const uint16_t closed_port = [&] {
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
  }();
  RunningDaemon daemon(CRBRIDGE_BINARY, ConfigPath("postgres.yaml"), "postgresql://x@127.0.0.1:" + std::to_string(closed_port) + "/db");
  ASSERT_TRUE(daemon.process().WaitForOutput("msg=\"source database unreachable\"", seconds(30)));
  EXPECT_EQ(daemon.Get("/healthz").status, 200);
  const HttpResult ready = daemon.Get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("\"status\":\"unavailable\""), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("Connection refused"), std::string::npos) << ready.body;
  EXPECT_NE(daemon.Get("/metrics").body.find("\ncrbridge_source_up 0\n"), std::string::npos);
  ExpectCleanShutdown(daemon, SIGTERM);
}

TEST(DaemonTest, InvalidMappingsStopStartUpWithTheirProblems) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  setenv("CRBRIDGE_SOURCE_URL", url.c_str(), 1);
  const std::string config = std::string(CRBRIDGE_SOURCE_DIR) + "/tests/data/broken_configs/01-room-column-typo.yaml";
  Subprocess crbridge({CRBRIDGE_BINARY, "run", "--config", config});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 2);
  EXPECT_NE(crbridge.Output().find("tables[1].room_column: column \\\"lst_id\\\" does not exist in public.todos"),
            std::string::npos)
      << crbridge.Output();
}

TEST(DaemonTest, ListenAddressInUseFailsWithTheAddress) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string address = "127.0.0.1:" + std::to_string(taken.local_endpoint().port());
  const std::string config = WriteTempFile("taken.yaml",
                                           "source:\n  type: postgres\n  url: postgresql://x@127.0.0.1:1/db\n"
                                           "server:\n  listen: " + address + "\nschema_name: s\ntables: [{ name: t }]\n");
  Subprocess crbridge({CRBRIDGE_BINARY, "run", "--config", config});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 1);
  EXPECT_NE(crbridge.Output().find("listen on " + address + ": Address already in use"), std::string::npos)
      << crbridge.Output();
}

TEST(CliTest, CheckOfflineAcceptsAValidFile) {
  setenv("CRBRIDGE_SOURCE_URL", "postgresql://app@127.0.0.1:1/app", 1);
  setenv("CRBRIDGE_LISTEN", "127.0.0.1:8080", 1);
  Subprocess crbridge({CRBRIDGE_BINARY, "check", "--offline", "--config", ConfigPath("postgres.yaml")});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 0);
  EXPECT_NE(crbridge.Output().find("postgres.yaml: ok (the file only"), std::string::npos) << crbridge.Output();
}

TEST(CliTest, CheckWithAnUnreachableDatabaseExits1) {
  setenv("CRBRIDGE_SOURCE_URL", "postgresql://app@127.0.0.1:1/app", 1);
  Subprocess crbridge({CRBRIDGE_BINARY, "check", "--config", ConfigPath("postgres.yaml")});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 1);
  EXPECT_NE(crbridge.Output().find("cannot check against the database"), std::string::npos) << crbridge.Output();
}

TEST(CliTest, CheckOnAMissingFileExits2NamingIt) {
  Subprocess crbridge({CRBRIDGE_BINARY, "check", "--config", "/nonexistent/crbridge.yaml"});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 2);
  EXPECT_EQ(crbridge.Output(), "crbridge: /nonexistent/crbridge.yaml: cannot open: No such file or directory\n");
}

TEST(CliTest, CheckOnAYamlSyntaxErrorExits2WithFileAndLine) {
  const std::string path = WriteTempFile("syntax.yaml", "source:\n  type: postgres\n   url: x\n");
  Subprocess crbridge({CRBRIDGE_BINARY, "check", "--config", path});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 2);
  EXPECT_EQ(crbridge.Output(), "crbridge: " + path + ":3:7: YAML syntax error: illegal map value\n");
}

TEST(CliTest, RunOnAnInvalidConfigExits2WithTheKey) {
  const std::string path = WriteTempFile(
      "invalid.yaml", "source:\n  type: postgres\n  url: postgresql://x\nlog:\n  level: loud\nschema_name: s\ntables: [{ name: t }]\n");
  Subprocess crbridge({CRBRIDGE_BINARY, "run", "--config", path});
  EXPECT_EQ(crbridge.Wait(seconds(30)), 2);
  EXPECT_NE(crbridge.Output().find(path + ":5:10: log.level: expected debug, info, warn or error"), std::string::npos)
      << crbridge.Output();
}

TEST(CliTest, VersionAndHelp) {
  Subprocess version({CRBRIDGE_BINARY, "version"});
  EXPECT_EQ(version.Wait(seconds(30)), 0);
  EXPECT_EQ(version.Output(), "crbridge " CRBRIDGE_VERSION "\n");

  Subprocess help({CRBRIDGE_BINARY, "--help"});
  EXPECT_EQ(help.Wait(seconds(30)), 0);
  for (const char* subcommand : {"run", "check", "version"}) {
    EXPECT_NE(help.Output().find(subcommand), std::string::npos) << help.Output();
  }

  Subprocess unknown({CRBRIDGE_BINARY, "frobnicate"});
  EXPECT_EQ(unknown.Wait(seconds(30)), 2);
}

}  // namespace
}  // namespace crbridge::testing
