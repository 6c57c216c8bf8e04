#include "crbridge/server/mysql/mysql_database.h"

#include <cppconn/connection.h>
#include <cppconn/driver.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql.h>
#include <mysql_driver.h>

#include <memory>

#include "crbridge/server/mysql/mysql_flavor.h"
#include "crbridge/server/mysql/mysql_url.h"
#include "crbridge/server/core/socket_wait.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

struct MysqlDeleter {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
struct MysqlResultDeleter {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};

Status MysqlError(MYSQL* mysql) {
  return Status::Unavailable("mysql: " + std::string(mysql_error(mysql)) + " (error " +
                             std::to_string(mysql_errno(mysql)) + ")");
}

// Drives one step of Connector/C's non-blocking API to completion: `status`
// is what the *_start call returned, `resume` calls the matching *_cont.
template <typename Resume>
Status Finish(MYSQL* mysql, int status, Resume resume, std::chrono::steady_clock::time_point deadline,
              const std::stop_token& stop) {
  while (status != 0) {
    const SocketReady want = (status & MYSQL_WAIT_WRITE) ? SocketReady::kWrite : SocketReady::kRead;
    if (Status s = WaitForSocket(mysql_get_socket(mysql), want, deadline, stop, "mysql"); !s.ok()) return s;
    status = resume(want == SocketReady::kWrite ? MYSQL_WAIT_WRITE : MYSQL_WAIT_READ);
  }
  return Status::OK();
}

Status SqlError(const sql::SQLException& e) {
  return Status::Unavailable("mysql: " + std::string(e.what()) + " (error " + std::to_string(e.getErrorCode()) + ")");
}

}  // namespace

MysqlDatabase::MysqlDatabase(std::string url) : url_(std::move(url)) {}

MysqlDatabase::~MysqlDatabase() = default;

Status MysqlDatabase::Connection(sql::Connection** conn) {
  if (conn_ && !conn_->isClosed()) {
    *conn = conn_.get();
    return Status::OK();
  }
  MysqlUrl url;
  CRBRIDGE_RETURN_IF_ERROR(ParseMysqlUrl(url_, &url));
  try {
    sql::ConnectOptionsMap options;
    options["hostName"] = sql::SQLString(url.host);
    options["port"] = static_cast<int>(url.port);
    options["userName"] = sql::SQLString(url.user);
    options["password"] = sql::SQLString(url.password);
    options["OPT_CONNECT_TIMEOUT"] = 10;
    if (!url.database.empty()) options["schema"] = sql::SQLString(url.database);
    conn_.reset(sql::mysql::get_driver_instance()->connect(options));
    *conn = conn_.get();
    return Status::OK();
  } catch (const sql::SQLException& e) {
    conn_.reset();
    return SqlError(e);
  }
}

Status MysqlDatabase::ReadTable(const std::string& schema, const std::string& table, ServerTable* out, bool* found) {
  sql::Connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  try {
    // COLUMN_DEFAULT is NULL only for columns without a default (MariaDB
    // reports the string 'NULL' for a nullable column's implicit default).
    // MariaDB quotes literal defaults as SQL does ('' for an empty string);
    // MySQL gives their bare text, and marks expressions DEFAULT_GENERATED.
    // MySQL gives binary defaults as hex cut at the first zero byte: they
    // are left to the server (clients get no default for them).
    std::unique_ptr<sql::PreparedStatement> select(conn->prepareStatement(
        "SELECT c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE = 'NO', "
        "       c.COLUMN_DEFAULT IS NOT NULL OR c.EXTRA LIKE '%auto_increment%' OR c.EXTRA LIKE '%GENERATED%', "
        "       COALESCE(k.ORDINAL_POSITION, 0), DATABASE(), "
        "       CASE WHEN VERSION() NOT LIKE '%MariaDB%' AND c.DATA_TYPE IN ('binary', 'varbinary') THEN '' "
        "            WHEN VERSION() NOT LIKE '%MariaDB%' AND c.COLUMN_DEFAULT IS NOT NULL "
        "                 AND c.EXTRA NOT LIKE '%DEFAULT_GENERATED%' "
        "            THEN CONCAT('''', REPLACE(c.COLUMN_DEFAULT, '''', ''''''), '''') "
        "            ELSE COALESCE(c.COLUMN_DEFAULT, '') END "
        "FROM information_schema.COLUMNS c "
        "LEFT JOIN information_schema.KEY_COLUMN_USAGE k ON k.TABLE_SCHEMA = c.TABLE_SCHEMA "
        "  AND k.TABLE_NAME = c.TABLE_NAME AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY' "
        "WHERE c.TABLE_SCHEMA = COALESCE(NULLIF(?, ''), DATABASE()) AND c.TABLE_NAME = ? "
        "ORDER BY c.ORDINAL_POSITION"));
    select->setString(1, schema);
    select->setString(2, table);
    std::unique_ptr<sql::ResultSet> rows(select->executeQuery());
    *out = ServerTable{schema, table, {}};
    while (rows->next()) {
      if (out->schema.empty()) out->schema = rows->getString(6);
      out->columns.push_back(ServerColumn{rows->getString(1), rows->getString(2), false, rows->getBoolean(3),
                                          rows->getBoolean(4), rows->getInt(5), rows->getString(7)});
    }
    *found = !out->columns.empty();
    return Status::OK();
  } catch (const sql::SQLException& e) {
    conn_.reset();
    return SqlError(e);
  }
}

namespace {

// A global privilege, and the other name a server may show it by.
struct Privilege {
  std::string name;
  std::string other_name;
};

// The privileges of `wanted` that `grants` (SHOW GRANTS FOR CURRENT_USER)
// give not on *.*; none when a role is granted, whose privileges it does
// not show.
std::vector<std::string> MissingPrivileges(const std::vector<std::string>& grants, const std::vector<Privilege>& wanted) {
  std::vector<std::string> missing;
  for (const std::string& grant : grants) {
    if (grant.find(" ON ") == std::string::npos) return {};  // GRANT `role` TO ...
  }
  const auto granted = [&](const std::string& privilege) {
    for (const std::string& grant : grants) {
      if (grant.find(" ON *.* TO ") == std::string::npos) continue;
      if (grant.find("ALL PRIVILEGES") != std::string::npos || grant.find(privilege + ",") != std::string::npos ||
          grant.find(privilege + " ON") != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  for (const Privilege& privilege : wanted) {
    if (!granted(privilege.name) && (privilege.other_name.empty() || !granted(privilege.other_name))) {
      missing.push_back(privilege.name);
    }
  }
  return missing;
}

}  // namespace

// MySQL's and MariaDB's grants are not read yet: a missing one shows when
// capture or a merge is refused.
Status MysqlDatabase::CheckPrivileges(const Config&, const std::vector<ResolvedTable>&, std::vector<Status>*) {
  return Status::OK();
}

Status MysqlDatabase::CheckSettings(std::vector<std::string>* problems) {
  sql::Connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  try {
    std::unique_ptr<sql::Statement> statement(conn->createStatement());
    std::unique_ptr<sql::ResultSet> row(statement->executeQuery(
        "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, VERSION()"));
    row->next();
    if (row->getString(1) != "1") problems->push_back("log_bin is off; capture reads the binary log (log_bin = ON)");
    const std::pair<std::string, std::string> wanted[] = {
        {"binlog_format", "ROW"}, {"binlog_row_image", "FULL"}, {"binlog_row_metadata", "FULL"}};
    for (size_t i = 0; i < std::size(wanted); ++i) {
      const std::string actual = row->getString(static_cast<uint32_t>(i + 2));
      if (actual != wanted[i].second) {
        problems->push_back(wanted[i].first + " is " + actual + "; capture needs " + wanted[i].first + " = " +
                            wanted[i].second);
      }
    }
    const MysqlServerVersion version = ParseServerVersion(std::string(row->getString(5)));
    // Capture streams as a replica; on MySQL its snapshot starts under a
    // brief global read lock.
    std::vector<Privilege> privileges = {{"REPLICATION SLAVE", ""}, {"REPLICATION CLIENT", ""}};
    if (version.flavor == MysqlFlavor::kMysql) {
      // Without GTIDs capture cannot resume; diffs of JSON values are not rows.
      row.reset(statement->executeQuery("SELECT @@gtid_mode, @@binlog_row_value_options"));
      row->next();
      if (row->getString(1) != "ON") {
        problems->push_back("gtid_mode is " + std::string(row->getString(1)) +
                            "; capture resumes by GTID (gtid_mode = ON, enforce_gtid_consistency = ON)");
      }
      if (!std::string(row->getString(2)).empty()) {
        problems->push_back("binlog_row_value_options is " + std::string(row->getString(2)) +
                            "; capture needs whole rows (binlog_row_value_options = '')");
      }
      privileges.push_back({"RELOAD", ""});
    } else {
      // MariaDB 10.5 renamed REPLICATION CLIENT.
      privileges[1] = {"BINLOG MONITOR", "REPLICATION CLIENT"};
    }
    std::vector<std::string> grants;
    row.reset(statement->executeQuery("SHOW GRANTS FOR CURRENT_USER()"));
    while (row->next()) grants.push_back(row->getString(1));
    for (const std::string& missing : MissingPrivileges(grants, privileges)) {
      problems->push_back("the user lacks the " + missing + " privilege, which capture needs (GRANT " + missing +
                          " ON *.* TO the user)");
    }
    return Status::OK();
  } catch (const sql::SQLException& e) {
    conn_.reset();
    return SqlError(e);
  }
}

Status MysqlDatabase::RejectedRows(const std::string& metadata_schema, std::vector<RejectedRow>* rows) {
  sql::Connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  try {
    std::unique_ptr<sql::Statement> statement(conn->createStatement());
    return ReadRejectedRows(
        [&](const std::string& sql) { return std::unique_ptr<sql::ResultSet>(statement->executeQuery(sql)); },
        metadata_schema, rows);
  } catch (const sql::SQLException& e) {
    conn_.reset();
    return SqlError(e);
  }
}

Status MysqlDatabase::RecordedTables(const std::string& metadata_schema, std::vector<RecordedTable>* tables) {
  tables->clear();
  sql::Connection* conn = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Connection(&conn));
  try {
    std::unique_ptr<sql::Statement> statement(conn->createStatement());
    return ReadRecordedTables(
        [&](const std::string& sql) { return std::unique_ptr<sql::ResultSet>(statement->executeQuery(sql)); },
        metadata_schema, tables);
  } catch (const sql::SQLException& e) {
    conn_.reset();
    return SqlError(e);
  }
}

Status MysqlDatabase::Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) {
  MysqlUrl url;
  if (Status s = ParseMysqlUrl(url_, &url); !s.ok()) return s;
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  std::unique_ptr<MYSQL, MysqlDeleter> mysql(mysql_init(nullptr));
  if (mysql == nullptr) return Status::Internal("mysql_init failed");
  mysql_options(mysql.get(), MYSQL_OPT_NONBLOCK, nullptr);
  MYSQL* connected = nullptr;
  int status = mysql_real_connect_start(&connected, mysql.get(), url.host.c_str(), url.user.c_str(),
                                        url.password.c_str(), url.database.empty() ? nullptr : url.database.c_str(),
                                        url.port, nullptr, 0);
  auto resume_connect = [&](int event) { return mysql_real_connect_cont(&connected, mysql.get(), event); };
  if (Status s = Finish(mysql.get(), status, resume_connect, deadline, stop); !s.ok()) return s;
  if (connected == nullptr) return MysqlError(mysql.get());

  int query_error = 0;
  status = mysql_real_query_start(&query_error, mysql.get(), "SELECT VERSION()", 16);
  auto resume_query = [&](int event) { return mysql_real_query_cont(&query_error, mysql.get(), event); };
  if (Status s = Finish(mysql.get(), status, resume_query, deadline, stop); !s.ok()) return s;
  if (query_error != 0) return MysqlError(mysql.get());

  MYSQL_RES* raw_result = nullptr;
  status = mysql_store_result_start(&raw_result, mysql.get());
  auto resume_store = [&](int event) { return mysql_store_result_cont(&raw_result, mysql.get(), event); };
  if (Status s = Finish(mysql.get(), status, resume_store, deadline, stop); !s.ok()) return s;
  std::unique_ptr<MYSQL_RES, MysqlResultDeleter> result(raw_result);
  if (result == nullptr) return MysqlError(mysql.get());
  MYSQL_ROW row = mysql_fetch_row(result.get());
  if (row == nullptr || row[0] == nullptr) return Status::Unavailable("mysql: SELECT VERSION() returned no row");
  info->version = row[0];
  info->product = info->version.find("MariaDB") != std::string::npos ? "MariaDB" : "MySQL";
  return Status::OK();
}

}  // namespace crbridge::mysql
