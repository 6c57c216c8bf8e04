#include "mysql_session.h"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/driver.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "crbridge/server/mysql/mysql_url.h"
#include "crbridge/sqlite/packed_pk.h"

namespace crbridge::mysql {
namespace {

// Prepared statements kept per session before TrimStatements forgets them.
constexpr size_t kMaxPrepared = 256;

// Client and server codes of a lost connection: can't connect (2002,
// 2003), server gone away (2006), lost during a query (2013, 2055), server
// shutting down (1053), connection killed (MariaDB 1927), closed for
// inactivity (MySQL 4031).
bool IsConnectionLost(int code) {
  for (const int lost : {2002, 2003, 2006, 2013, 2055, 1053, 1927, 4031}) {
    if (code == lost) return true;
  }
  return false;
}

}  // namespace

MysqlSession::MysqlSession(std::unique_ptr<sql::Connection> conn) : conn_(std::move(conn)) {}

MysqlSession::~MysqlSession() = default;

Status MysqlSession::Connect(const std::string& url, Isolation isolation, std::unique_ptr<MysqlSession>* session) {
  MysqlUrl parsed;
  CRBRIDGE_RETURN_IF_ERROR(ParseMysqlUrl(url, &parsed));
  return CatchErrors([&]() -> Status {
    sql::ConnectOptionsMap options;
    options["hostName"] = sql::SQLString(parsed.host);
    options["port"] = static_cast<int>(parsed.port);
    options["userName"] = sql::SQLString(parsed.user);
    options["password"] = sql::SQLString(parsed.password);
    options["OPT_CONNECT_TIMEOUT"] = 10;
    options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    // A reconnect behind our back would lose the session settings and the
    // transaction; the store connects again itself.
    options["OPT_RECONNECT"] = false;
    if (!parsed.database.empty()) options["schema"] = sql::SQLString(parsed.database);
    std::unique_ptr<MysqlSession> result(
        new MysqlSession(std::unique_ptr<sql::Connection>(sql::mysql::get_driver_instance()->connect(options))));
    result->Execute(
        "SET NAMES utf8mb4, time_zone = '+00:00', sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
        "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'");
    result->Execute(std::string("SET SESSION TRANSACTION ISOLATION LEVEL ") +
                    (isolation == Isolation::kReadCommitted ? "READ COMMITTED" : "REPEATABLE READ"));
    const std::unique_ptr<sql::ResultSet> version = result->Query("SELECT VERSION()");
    if (version->next()) result->server_version_ = ParseServerVersion(std::string(version->getString(1)));
    *session = std::move(result);
    return Status::OK();
  });
}

Status MysqlSession::BinlogStatus(std::string* file, uint64_t* position, std::string* gtid_set) {
  return CatchErrors([&]() -> Status {
    const std::string statement(BinlogStatusStatement(server_version_));
    const std::unique_ptr<sql::ResultSet> status = Query(statement);
    if (!status->next()) return Status::Internal("mysql: " + statement + " is empty: the binary log is off");
    *file = status->getString(1);
    *position = status->getUInt64(2);
    gtid_set->clear();
    if (server_version_.flavor == MysqlFlavor::kMysql) {
      for (const char c : std::string(status->getString(5))) {
        if (!std::isspace(static_cast<unsigned char>(c))) gtid_set->push_back(c);
      }
    }
    return Status::OK();
  });
}

sql::PreparedStatement& MysqlSession::Prepare(const std::string& sql) {
  std::unique_ptr<sql::PreparedStatement>& statement = prepared_[sql];
  if (!statement) statement.reset(conn_->prepareStatement(sql));
  return *statement;
}

void MysqlSession::Execute(const std::string& sql) {
  if (!statement_) statement_.reset(conn_->createStatement());
  statement_->execute(sql);
}

std::unique_ptr<sql::ResultSet> MysqlSession::Query(const std::string& sql) {
  if (!statement_) statement_.reset(conn_->createStatement());
  return std::unique_ptr<sql::ResultSet>(statement_->executeQuery(sql));
}

void MysqlSession::TrimStatements() {
  if (prepared_.size() > kMaxPrepared) prepared_.clear();
}

Status ErrorStatus(const sql::SQLException& e) {
  const int code = e.getErrorCode();
  const std::string message = "mysql: " + std::string(e.what()) + " (error " + std::to_string(code) + ")";
  // Connector/C++ refuses every call on a connection it saw close.
  if (IsConnectionLost(code) || dynamic_cast<const sql::InvalidInstanceException*>(&e) != nullptr) {
    return Status::Unavailable(message);
  }
  // A duplicate key (an app insert took a key found free), a deadlock, a
  // lock wait timeout.
  if (code == 1062 || code == 1213 || code == 1205) return Status::Aborted(message);
  return Status::Internal(message);
}

MysqlBinder& MysqlBinder::Param(const ServerParameter& value) {
  return value.is_null ? Null() : Text(value.text);
}

MysqlBinder& MysqlBinder::Text(const std::string& value) {
  statement_.setString(next_++, value);
  return *this;
}

MysqlBinder& MysqlBinder::Int(int64_t value) {
  statement_.setInt64(next_++, value);
  return *this;
}

MysqlBinder& MysqlBinder::Null() {
  statement_.setNull(next_++, sql::DataType::VARCHAR);
  return *this;
}

MysqlBinder& MysqlBinder::Keys(const std::vector<const std::vector<ServerParameter>*>& keys) {
  for (const std::vector<ServerParameter>* key : keys) {
    for (const ServerParameter& column : *key) Param(column);
  }
  return *this;
}

std::string QuoteName(std::string_view name) {
  std::string out = "`";
  for (const char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string AppTable(const ResolvedTable& t) {
  const TableMapping& m = *t.mapping;
  return (m.source_schema.empty() ? "" : QuoteName(m.source_schema) + ".") + QuoteName(m.source_table);
}

std::string ColumnText(const ResolvedColumn& c, std::string_view alias) {
  const std::string name = (alias.empty() ? "" : std::string(alias) + ".") + QuoteName(c.server.name);
  if (c.type.kind == ValueKind::kBlob) return name;
  std::string type = c.server.type.substr(0, c.server.type.find_first_of("( "));
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (type == "float") return "CAST(CAST(" + name + " AS DOUBLE) AS CHAR)";
  // A BIT column's text is its bytes; its number is what clients see.
  if (type == "bit") return "CAST(CAST(" + name + " AS UNSIGNED) AS CHAR)";
  return "CAST(" + name + " AS CHAR)";
}

std::string KeyColumns(const ResolvedTable& t, std::string_view alias) {
  std::vector<std::string> names;
  for (size_t i = 0; i < t.pk_count; ++i) {
    names.push_back((alias.empty() ? "" : std::string(alias) + ".") + QuoteName(t.columns[i].server.name));
  }
  return Join(names, ", ");
}

std::string KeyIn(const ResolvedTable& t, size_t rows, std::string_view alias) {
  if (t.pk_count == 1) return KeyColumns(t, alias) + " IN (" + Join(std::vector<std::string>(rows, "?"), ",") + ")";
  return "(" + KeyColumns(t, alias) + ") IN (" + Placeholders(rows, t.pk_count) + ")";
}

std::string Placeholders(size_t rows, size_t width) {
  const std::string row = "(" + Join(std::vector<std::string>(width, "?"), ",") + ")";
  return Join(std::vector<std::string>(rows, row), ",");
}

Status ForEachBatch(size_t total, size_t params_per_row, size_t max_rows,
                         const std::function<Status(size_t first, size_t count)>& statement) {
  const size_t per_statement = std::clamp<size_t>(65535 / std::max<size_t>(params_per_row, 1), 1, max_rows);
  for (size_t first = 0; first < total; first += per_statement) {
    CRBRIDGE_RETURN_IF_ERROR(statement(first, std::min(per_statement, total - first)));
  }
  return Status::OK();
}

Status ReadField(const ColumnType& type, const sql::ResultSet& rows, uint32_t index, Value* value) {
  if (rows.isNull(index)) {
    *value = Value::Null();
    return Status::OK();
  }
  const sql::SQLString text = rows.getString(index);
  return FromServerText(type, static_cast<const std::string&>(text), value);
}

Status ReadKey(const ResolvedTable& t, const sql::ResultSet& rows, uint32_t first, std::vector<Value>* key) {
  key->assign(t.pk_count, Value::Null());
  for (size_t i = 0; i < t.pk_count; ++i) {
    CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[i].type, rows, first + static_cast<uint32_t>(i), &(*key)[i]));
  }
  return Status::OK();
}

Status ReadPackedKey(const ResolvedTable& t, const sql::ResultSet& rows, uint32_t first, Blob* key) {
  std::vector<Value> values;
  CRBRIDGE_RETURN_IF_ERROR(ReadKey(t, rows, first, &values));
  return EncodePackedPk(values, key);
}

std::string ClockArrayText(const std::vector<std::optional<int64_t>>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    if (items[i]) out += std::to_string(*items[i]);
  }
  return out;
}

std::vector<std::optional<int64_t>> ParseClockArray(std::string_view text, size_t size) {
  std::vector<std::optional<int64_t>> out(size);
  size_t start = 0;
  for (size_t i = 0; i < size && start <= text.size(); ++i) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view element = text.substr(start, comma - start);
    int64_t value = 0;
    if (!element.empty() &&
        std::from_chars(element.data(), element.data() + element.size(), value).ec == std::errc()) {
      out[i] = value;
    }
    start = comma + 1;
  }
  return out;
}

}  // namespace crbridge::mysql
