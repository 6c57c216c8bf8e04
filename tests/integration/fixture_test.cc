// The database fixtures give tests real servers configured for capture:
// Postgres with logical decoding, MariaDB with a full row binlog.
#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>
#include <mysql_driver.h>

#include <memory>
#include <pqxx/pqxx>

#include "crbridge/server/mysql/mysql_url.h"
#include "databases/test_databases.h"

namespace crbridge::testing {
using namespace crbridge::mysql;  // the dialect under test
namespace {

std::unique_ptr<sql::Connection> ConnectMariaDb(const std::string& url_text) {
  MysqlUrl url;
  EXPECT_TRUE(ParseMysqlUrl(url_text, &url).ok());
  std::unique_ptr<sql::Connection> conn(sql::mysql::get_driver_instance()->connect(
      "tcp://" + url.host + ":" + std::to_string(url.port), url.user, url.password));
  if (!url.database.empty()) conn->setSchema(url.database);
  return conn;
}

std::string QueryOne(sql::Connection& conn, const std::string& query) {
  std::unique_ptr<sql::Statement> statement(conn.createStatement());
  std::unique_ptr<sql::ResultSet> rows(statement->executeQuery(query));
  EXPECT_TRUE(rows->next()) << query;
  return rows->getString(1);
}

TEST(PostgresFixtureTest, IsVersion15WithLogicalDecoding) {
  pqxx::connection conn(TestDatabases::Get().Postgres().url());
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SHOW server_version_num")[0].as<int>() / 10000, 15);
  EXPECT_EQ(tx.exec1("SHOW wal_level")[0].as<std::string>(), "logical");
  EXPECT_GE(tx.exec1("SHOW max_replication_slots")[0].as<int>(), 10);
  EXPECT_GE(tx.exec1("SHOW max_wal_senders")[0].as<int>(), 10);
  EXPECT_TRUE(tx.exec1("SELECT rolsuper AND rolreplication FROM pg_roles WHERE rolname = current_user")[0].as<bool>());
}

TEST(PostgresFixtureTest, DecodesAnInsertThroughAPgoutputSlot) {
  const std::string url = TestDatabases::Get().NewPostgresDatabase();
  pqxx::connection conn(url);
  pqxx::nontransaction db(conn);
  db.exec0("CREATE TABLE todos (id bigint PRIMARY KEY, title text)");
  db.exec0("CREATE PUBLICATION fixture_pub FOR TABLE todos");
  db.exec("SELECT pg_create_logical_replication_slot('fixture_slot', 'pgoutput')");
  db.exec0("INSERT INTO todos VALUES (1, 'buy milk')");
  const pqxx::result changes = db.exec(
      "SELECT count(*) FROM pg_logical_slot_get_binary_changes('fixture_slot', NULL, NULL, "
      "'proto_version', '1', 'publication_names', 'fixture_pub') WHERE get_byte(data, 0) = ascii('I')");
  EXPECT_EQ(changes[0][0].as<int>(), 1);
  db.exec("SELECT pg_drop_replication_slot('fixture_slot')");
}

TEST(PostgresFixtureTest, NewDatabasesAreSeparate) {
  const std::string first = TestDatabases::Get().NewPostgresDatabase();
  const std::string second = TestDatabases::Get().NewPostgresDatabase();
  ASSERT_NE(first, second);
  pqxx::connection a(first);
  pqxx::nontransaction(a).exec0("CREATE TABLE only_in_first (id int)");
  pqxx::connection b(second);
  EXPECT_EQ(pqxx::nontransaction(b).exec1("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'")[0].as<int>(),
            0);
}

TEST(MariaDbFixtureTest, IsVersion10_11WithAFullRowBinlog) {
  auto conn = ConnectMariaDb(TestDatabases::Get().MariaDB().url());
  EXPECT_TRUE(QueryOne(*conn, "SELECT VERSION()").starts_with("10.11.")) << QueryOne(*conn, "SELECT VERSION()");
  EXPECT_EQ(QueryOne(*conn, "SELECT @@log_bin"), "1");
  EXPECT_EQ(QueryOne(*conn, "SELECT @@binlog_format"), "ROW");
  EXPECT_EQ(QueryOne(*conn, "SELECT @@binlog_row_image"), "FULL");
  EXPECT_EQ(QueryOne(*conn, "SELECT @@binlog_row_metadata"), "FULL");
  EXPECT_NE(QueryOne(*conn, "SELECT @@server_id"), "0");
}

TEST(MariaDbFixtureTest, RowWritesReachTheBinlogAsRowEvents) {
  auto conn = ConnectMariaDb(TestDatabases::Get().NewMariaDbDatabase());
  std::unique_ptr<sql::Statement> statement(conn->createStatement());
  const std::string file = [&] {
    std::unique_ptr<sql::ResultSet> status(statement->executeQuery("SHOW MASTER STATUS"));
    EXPECT_TRUE(status->next());
    return std::string(status->getString("File"));
  }();
  statement->execute("CREATE TABLE todos (id BIGINT PRIMARY KEY, title VARCHAR(100))");
  statement->execute("INSERT INTO todos VALUES (1, 'buy milk')");
  std::unique_ptr<sql::ResultSet> events(statement->executeQuery("SHOW BINLOG EVENTS IN '" + file + "'"));
  int write_rows = 0;
  while (events->next()) {
    if (std::string(events->getString("Event_type")).starts_with("Write_rows")) ++write_rows;
  }
  EXPECT_EQ(write_rows, 1);
}

}  // namespace
}  // namespace crbridge::testing
