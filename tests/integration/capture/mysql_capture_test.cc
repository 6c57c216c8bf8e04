// Capture from MariaDB and MySQL (MysqlCapture) against the real servers:
// what only the binary log has (transactions mixing mapped and unmapped
// tables, key changes of many rows, DDL on a mapped table, a purged GTID,
// server settings that keep app writes out of it, missing privileges), and
// MySQL's own: compressed transactions, tagged GTIDs, GTID sets of several
// servers, partial JSON updates, caching_sha2_password's full handshake.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "capture_harness.h"
#include "crbridge/connector/daemon/capture_service.h"
#include "crbridge/server/dialects.h"
#include "peers/sync_peers.h"

namespace crbridge::testing {
namespace {

class MysqlFamilyCaptureTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(MysqlFamilyCaptureTest, AKeyChangeOfManyRowsKillsTheOldKeysAndBearsTheNew) {
  App app(GetParam());
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('a', 'l1', 'first'), ('b', 'l1', 'second'), ('c', 'l2', '')");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(Eventually([&] { return app.Count("todos") == "3"; }));
  app.Sql("UPDATE todos SET id = CONCAT(id, '-moved'), title = 'moved' WHERE list_id = 'l1'");
  EXPECT_TRUE(app.ClockIs("a-moved", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_TRUE(app.ClockIs("b-moved", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_TRUE(app.ClockIs("a", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_TRUE(app.ClockIs("b", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_EQ(app.Clock("c"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  // A key change back to a dead key revives it, born whole again.
  app.Sql("UPDATE todos SET id = 'a' WHERE id = 'a-moved'");
  EXPECT_TRUE(app.ClockIs("a", "3 {2,2,2,2,2} {0,0,0,0,0}")) << app.Clock("a");
  EXPECT_TRUE(app.ClockIs("a-moved", "2 {1,1,1,1,1} {0,0,0,0,0}"));
  EXPECT_STOPS_CLEANLY(capture);
}

TEST_P(MysqlFamilyCaptureTest, ATransactionOfMappedAndUnmappedTablesRecordsItsMappedRowsTogether) {
  App app(GetParam());
  app.Sql("CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, message TEXT)");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "streaming"));
  app.Sql("START TRANSACTION");
  app.Sql("INSERT INTO audit (message) VALUES ('before')");
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t1', 'l1')");
  app.Sql("UPDATE audit SET message = 'between'");
  app.Sql("INSERT INTO todos (id, list_id) VALUES ('t2', 'l1')");
  app.Sql("INSERT INTO audit (message) VALUES ('after')");
  app.Sql("COMMIT");
  // Transactions of unmapped tables only record nothing and stop nothing.
  app.Sql("INSERT INTO audit (message) VALUES ('alone')");
  ASSERT_TRUE(capture.CaughtUp(app, "marker"));
  EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("t2"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  const std::string version = "SELECT __db_version FROM " + app.ClockTable("todos") + " WHERE id = ";
  EXPECT_EQ(app.One(version + "'t1'"), app.One(version + "'t2'")) << "one transaction, one db_version";
  EXPECT_EQ(app.One("SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + app.db.metadata() +
                    "' AND TABLE_NAME LIKE 'audit%'"),
            "0");
  EXPECT_STOPS_CLEANLY(capture);
}

// DDL gives the table a new table id in the binlog, and here moves every
// column: rows are mapped by the column names of the latest table map. The
// table lists its columns, so the one added is not mapped.
TEST_P(MysqlFamilyCaptureTest, AddingAnUnmappedColumnDoesNotBreakCapture) {
  App app(GetParam(), "  - name: todo_lists\n    room_column: id\n  - name: todos\n    room_column: list_id\n"
                                "    columns: [id, list_id, title, done, position, due]\n");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'before')");
  ASSERT_TRUE(app.ClockIs("t1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  app.Sql("ALTER TABLE todos ADD COLUMN priority INT NOT NULL DEFAULT 0 FIRST");
  app.Sql("UPDATE todos SET priority = 5 WHERE id = 't1'");
  app.Sql("UPDATE todos SET title = 'after' WHERE id = 't1'");
  EXPECT_TRUE(app.ClockIs("t1", "1 {1,2,1,1,1} {0,0,0,0,0}"));
  app.Sql("INSERT INTO todos (id, list_id, title, done) VALUES ('t2', 'l1', 'new', 1)");
  EXPECT_TRUE(app.ClockIs("t2", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  // The values recorded are the right columns': a client pulls them.
  Server server(std::make_unique<TodoAppDatabase>(GetParam(), app.db.url),
                "  - name: todo_lists\n    room_column: id\n  - name: todos\n    room_column: list_id\n"
                "    exclude: [internal_note, priority]\n");
  Client client(server);
  { const Status synced = client.Pull(server); ASSERT_TRUE(synced.ok()) << synced.ToString(); }
  EXPECT_EQ(client.Rows("todos", "id, list_id, title, done"), (std::vector<std::string>{"t1|l1|after|0", "t2|l1|new|1"}));
  EXPECT_STOPS_CLEANLY(capture);
}

// The binary log holding the stored GTID state was purged while crbridge
// was stopped: the writes in it are lost to capture, and only a new
// snapshot can bring the clocks back in line.
TEST_P(MysqlFamilyCaptureTest, APurgedGtidAsksForDrop) {
  App app(GetParam());
  Metrics metrics;
  ASSERT_NO_FATAL_FAILURE(CaptureAFirstTodoAndStop(app, metrics));
  app.Sql("UPDATE todos SET title = 'lost' WHERE id = 't1'");
  app.Sql("FLUSH BINARY LOGS");
  const std::string current = app.One(BinlogStatusSql(GetParam()));
  // The server keeps a log until InnoDB's binlog checkpoint has passed it,
  // which happens in the background after the flush.
  ASSERT_TRUE(Eventually([&] {
    app.Sql("PURGE BINARY LOGS TO '" + current + "'");
    return app.db.Rows("SHOW BINARY LOGS").size() == 1;
  }));

  RunningCapture restarted(app, metrics);
  const Status result = ResultOf(restarted);
  EXPECT_EQ(result.code(), Status::Code::kInvalidArgument) << result.ToString();
  EXPECT_NE(result.message().find("no longer holds GTID"), std::string::npos) << result.ToString();
  EXPECT_NE(result.message().find("Run `crbridge drop`"), std::string::npos) << result.ToString();
  EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
}

// A server whose binary log would not carry the app's writes (log_bin off)
// or their column names (binlog_row_metadata not FULL): capture refuses to
// start, and `crbridge run`'s health says why.
TEST_P(MysqlFamilyCaptureTest, ServerSettingsThatHideAppWritesStopCaptureWithEachNamed) {
  const DatabaseServer server(GetParam(), "--skip-log-bin --binlog-row-metadata=MINIMAL");
  TodoAppDatabase db(server);
  MappedApp mapped;
  ASSERT_TRUE(ParseConfig(TodoAppYaml(db), "test.yaml", &mapped.config).ok());
  mapped.config.source.url = db.url;
  ASSERT_TRUE(CheckConfig(mapped.config, *NewSourceDatabase(mapped.config.source), &mapped.check).ok());
  ASSERT_EQ(mapped.check.problems.size(), 2u);
  const std::string log_bin = "log_bin is off; capture reads the binary log (log_bin = ON)";
  const std::string metadata = "binlog_row_metadata is MINIMAL; capture needs binlog_row_metadata = FULL";

  Metrics metrics;
  RunningCapture capture(mapped, metrics);
  const Status result = ResultOf(capture);
  EXPECT_EQ(result.code(), Status::Code::kInvalidArgument) << result.ToString();
  EXPECT_NE(result.message().find(log_bin), std::string::npos) << result.ToString();
  EXPECT_NE(result.message().find(metadata), std::string::npos) << result.ToString();

  Health health;
  CaptureService service(mapped.config, CaptureOptions{}, health, metrics);
  service.Start();
  EXPECT_TRUE(Eventually([&] { return health.ToJson().find(log_bin) != std::string::npos; })) << health.ToJson();
  EXPECT_NE(health.ToJson().find(metadata), std::string::npos) << health.ToJson();
  EXPECT_FALSE(health.Ready());
  service.Stop();
}

// A table map names each text column's character set in a list over the
// text columns; MySQL leaves GEOMETRY columns out of it, MariaDB does not.
// A latin1 column after a geometry column (not mapped, still in the table
// map) keeps its character set: 'café' arrives as 'café', not rejected.
TEST_P(MysqlFamilyCaptureTest, ACharacterSetAfterAGeometryColumnIsTheColumnsOwn) {
  App app(GetParam());
  app.Sql("CREATE TABLE places (id INT PRIMARY KEY, spot POINT, name VARCHAR(20) CHARACTER SET latin1, "
          "note VARCHAR(20)) DEFAULT CHARSET utf8mb4");
  app.Remap(std::string(kTodoAppTables) + "  - name: places\n    exclude: [spot]\n");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "m1"));
  app.Sql("INSERT INTO places VALUES (1, ST_GeomFromText('POINT(1 2)'), 'caf\xc3\xa9', 'na\xc3\xafve')");
  EXPECT_TRUE(Eventually([&] { return app.Clock("places", "1") != "none"; })) << app.Clock("places", "1");
  EXPECT_EQ(app.One("SELECT count(*) FROM " + app.db.metadata() + ".rejected_rows"), "0");
  EXPECT_STOPS_CLEANLY(capture);
}

// XA transactions: one committed in one phase is captured like any other.
// One prepared to commit later has its rows in one group of the binary log
// and its XA COMMIT (or XA ROLLBACK) in another: when it wrote mapped
// tables capture stops, naming it, rather than record rows that may be
// rolled back or lose rows that commit; one that wrote only unmapped
// tables passes.
TEST_P(MysqlFamilyCaptureTest, XaTransactionsAreCapturedOrRefusedNeverLost) {
  App app(GetParam());
  app.Sql("CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, message TEXT)");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "m1"));
  const auto xa = [&](const std::string& id, const std::string& insert, const std::vector<std::string>& end) {
    app.Sql("XA START '" + id + "'");
    app.Sql(insert);
    app.Sql("XA END '" + id + "'");
    for (const std::string& statement : end) app.Sql(statement);
  };
  xa("one", "INSERT INTO todos (id, list_id) VALUES ('x1', 'l1')", {"XA COMMIT 'one' ONE PHASE"});
  EXPECT_TRUE(app.ClockIs("x1", "1 {1,1,1,1,1} {0,0,0,0,0}"));
  xa("audit", "INSERT INTO audit (message) VALUES ('x')", {"XA PREPARE 'audit'", "XA COMMIT 'audit'"});
  ASSERT_TRUE(capture.CaughtUp(app, "m2"));
  xa("two", "INSERT INTO todos (id, list_id) VALUES ('x2', 'l1')", {"XA PREPARE 'two'", "XA COMMIT 'two'"});
  const Status result = ResultOf(capture);
  EXPECT_EQ(result.code(), Status::Code::kInvalidArgument) << result.ToString();
  EXPECT_NE(result.message().find("an XA transaction wrote mapped tables"), std::string::npos) << result.ToString();
  EXPECT_EQ(app.Clock("x2"), "none");
}

// A user without the privileges capture needs is told which: check names
// each (MariaDB calls REPLICATION CLIENT BINLOG MONITOR; MySQL's snapshot
// needs RELOAD).
TEST_P(MysqlFamilyCaptureTest, CheckNamesThePrivilegesTheUserLacks) {
  App app(GetParam());
  const std::string user = "reader_" + std::to_string(static_cast<int>(GetParam()));
  app.Sql("CREATE USER IF NOT EXISTS '" + user + "'@'%' IDENTIFIED BY 'secret'");
  app.Sql("GRANT SELECT ON *.* TO '" + user + "'@'%'");
  SourceConfig source = app.mapped->config.source;
  source.url = "mysql://" + user + ":secret@" + app.db.url.substr(app.db.url.find('@') + 1);
  std::vector<std::string> problems;
  const Status checked = NewSourceDatabase(source)->CheckSettings(&problems);
  ASSERT_TRUE(checked.ok()) << checked.ToString();
  std::vector<std::string> expected = {
      "the user lacks the REPLICATION SLAVE privilege, which capture needs (GRANT REPLICATION SLAVE ON *.* TO the "
      "user)"};
  if (GetParam() == ServerKind::kMySql) {
    expected.push_back("the user lacks the REPLICATION CLIENT privilege, which capture needs (GRANT REPLICATION "
                       "CLIENT ON *.* TO the user)");
    expected.push_back("the user lacks the RELOAD privilege, which capture needs (GRANT RELOAD ON *.* TO the user)");
  } else {
    expected.push_back("the user lacks the BINLOG MONITOR privilege, which capture needs (GRANT BINLOG MONITOR ON "
                       "*.* TO the user)");
  }
  EXPECT_EQ(problems, expected);
  app.Sql("GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD ON *.* TO '" + user + "'@'%'");
  problems.clear();
  ASSERT_TRUE(NewSourceDatabase(source)->CheckSettings(&problems).ok());
  EXPECT_EQ(problems, std::vector<std::string>{});
}

// What the binary log holds now: its current file's events, as SHOW
// BINLOG EVENTS names their types ("Transaction_payload", "Gtid_tagged_log_event").
std::vector<std::string> CurrentBinlogEventTypes(App& app) {
  const std::string file = *app.db.Rows(BinlogStatusSql(app.db.kind()))[0][0];
  std::vector<std::string> types;
  for (const auto& row : app.db.Rows("SHOW BINLOG EVENTS IN '" + file + "'")) types.push_back(row[2].value_or(""));
  return types;
}

bool Holds(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Any MySQL session may compress its transactions (binlog_transaction_
// compression, 8.0.20+): each arrives as one zstd TRANSACTION_PAYLOAD
// event holding its row events. Capture reads the rows inside and resumes
// after the whole transaction: an insert read again after a restart would
// set t1's title back and bump its clock twice.
TEST(MysqlCaptureTest, CompressedTransactionsAreCapturedAndResumedAfter) {
  App app(ServerKind::kMySql);
  app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t0', 'l1', 'before')");
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(capture.CaughtUp(app, "m1"));
    app.Sql("SET SESSION binlog_transaction_compression = ON");
    app.Transaction({"INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'one'), ('t2', 'l1', 'two')",
                     "UPDATE todos SET title = 'changed' WHERE id = 't0'", "DELETE FROM todos WHERE id = 't2'"});
    EXPECT_TRUE(app.ClockIs("t2", "2 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
    EXPECT_EQ(app.Clock("t0"), "1 {1,2,1,1,1} {0,0,0,0,0}");
    EXPECT_TRUE(Holds(CurrentBinlogEventTypes(app), "Transaction_payload")) << "the test wrote no compressed event";
    EXPECT_STOPS_CLEANLY(capture);
  }
  app.Sql("UPDATE todos SET title = 'while away' WHERE id = 't1'");
  RunningCapture restarted(app, metrics);
  ASSERT_TRUE(restarted.CaughtUp(app, "m2"));
  EXPECT_EQ(app.Clock("t1"), "1 {1,2,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("t0"), "1 {1,2,1,1,1} {0,0,0,0,0}");
  EXPECT_STOPS_CLEANLY(restarted);
}

// A GTID set names every server whose transactions a server applied (after
// failovers, many), and MySQL 8.3+ tags GTIDs (uuid:tag:n). Capture keeps
// them all in its resume state and streams again from exactly that set:
// nothing is read twice (t1 and t2 would be bumped twice), nothing skipped.
TEST(MysqlCaptureTest, TaggedGtidsAndGtidsOfOtherServersResumeExactly) {
  App app(ServerKind::kMySql);
  const std::string other = "11111111-2222-3333-4444-555555555555";
  const std::string third = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  Metrics metrics;
  {
    RunningCapture capture(app, metrics);
    ASSERT_TRUE(capture.CaughtUp(app, "m1"));
    app.Sql("SET gtid_next = 'AUTOMATIC:crbridge_test'");
    app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t1', 'l1', 'tagged')");
    app.Sql("SET gtid_next = '" + other + ":7'");
    app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t2', 'l1', 'from another server')");
    app.Sql("SET gtid_next = '" + other + ":mytag:3'");
    app.Sql("INSERT INTO todos (id, list_id, title) VALUES ('t3', 'l1', 'tagged, from another server')");
    app.Sql("SET gtid_next = 'AUTOMATIC'");
    EXPECT_TRUE(app.ClockIs("t3", "1 {1,1,1,1,1} {0,0,0,0,0}"));
    EXPECT_EQ(app.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0}");
    EXPECT_EQ(app.Clock("t2"), "1 {1,1,1,1,1} {0,0,0,0,0}");
    const std::vector<std::string> types = CurrentBinlogEventTypes(app);
    std::string listed;
    for (const std::string& type : types) listed += type + " ";
    EXPECT_TRUE(Holds(types, "Gtid_tagged_log_event")) << "the test wrote no tagged GTID: " << listed;
    EXPECT_STOPS_CLEANLY(capture);
  }
  const std::string resume = app.One("SELECT resume FROM " + app.db.metadata() + ".capture");
  EXPECT_NE(resume.find(other + ":7:mytag:3"), std::string::npos) << resume;
  EXPECT_NE(resume.find(":crbridge_test:1"), std::string::npos) << resume;

  app.Sql("SET gtid_next = '" + third + ":1'");
  app.Sql("UPDATE todos SET title = 'moved on' WHERE id = 't2'");
  app.Sql("SET gtid_next = 'AUTOMATIC'");
  app.Sql("UPDATE todos SET title = 'again' WHERE id = 't1'");
  RunningCapture restarted(app, metrics);
  ASSERT_TRUE(restarted.CaughtUp(app, "m2"));
  EXPECT_EQ(app.Clock("t1"), "1 {1,2,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("t2"), "1 {1,2,1,1,1} {0,0,0,0,0}");
  EXPECT_EQ(app.Clock("t3"), "1 {1,1,1,1,1} {0,0,0,0,0}");
  EXPECT_STOPS_CLEANLY(restarted);
}

// MySQL's default authentication, caching_sha2_password, needs a full
// handshake when the server has not cached the user (after a restart or
// FLUSH PRIVILEGES): over TLS, or, as here without it, with the server's
// RSA key. Every connection capture makes gets through.
TEST(MysqlCaptureTest, CachingSha2UsersGetThroughTheFullHandshake) {
  App app(ServerKind::kMySql);
  EXPECT_EQ(app.One("SELECT plugin FROM mysql.user WHERE user = 'crbridge'"), "caching_sha2_password");
  app.Sql("FLUSH PRIVILEGES");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "m1"));
  EXPECT_STOPS_CLEANLY(capture);
}

// binlog_row_value_options=PARTIAL_JSON (any session may set it) logs a
// JSON update as a diff, not the row: capture stops, naming the setting,
// rather than record a row it does not have.
TEST(MysqlCaptureTest, PartialJsonUpdatesStopCaptureNamingTheSetting) {
  App app(ServerKind::kMySql);
  app.Sql("CREATE TABLE docs (id INT PRIMARY KEY, body JSON)");
  app.Sql("INSERT INTO docs VALUES (1, '{\"a\": 1, \"b\": \"some text to keep\"}')");
  app.Remap(std::string(kTodoAppTables) + "  - name: docs\n");
  Metrics metrics;
  RunningCapture capture(app, metrics);
  ASSERT_TRUE(capture.CaughtUp(app, "m1"));
  app.Sql("SET SESSION binlog_row_value_options = 'PARTIAL_JSON'");
  app.Sql("UPDATE docs SET body = JSON_SET(body, '$.a', 2) WHERE id = 1");
  const Status result = ResultOf(capture);
  EXPECT_EQ(result.code(), Status::Code::kInvalidArgument) << result.ToString();
  EXPECT_NE(result.message().find("binlog_row_value_options=PARTIAL_JSON"), std::string::npos) << result.ToString();
}

INSTANTIATE_TEST_SUITE_P(MysqlFamily, MysqlFamilyCaptureTest, ::testing::Values(ServerKind::kMariaDb, ServerKind::kMySql),
                         [](const ::testing::TestParamInfo<ServerKind>& param) { return ServerKindName(param.param); });

}  // namespace
}  // namespace crbridge::testing
