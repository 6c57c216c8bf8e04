// MysqlSession: one connection of crbridge's MySQL/MariaDB shadow store
// through MySQL Connector/C++, set up as the type mapping reads values
// (mappings/type_mapping.h), with its prepared statements cached by SQL
// text; and the building blocks of the store's statements: names quoted
// with backticks, columns read as the text FromServerText takes, rows of
// placeholders for multi-row statements. Internal to server-side. Not
// thread-safe; Connector/C++ reports errors by throwing sql::SQLException,
// which ErrorStatus turns into a Status.
#pragma once

#include <cppconn/exception.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/mysql/mysql_flavor.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace sql {
class Connection;
class PreparedStatement;
class ResultSet;
class Statement;
}  // namespace sql

namespace crbridge::mysql {

class MysqlSession {
 public:
  enum class Isolation { kReadCommitted, kRepeatableRead };

  // Connects to the mysql:// `url` and sets the session up: utf8mb4, UTC
  // (TIMESTAMP columns read and write in UTC), strict SQL mode (a value a
  // column cannot hold fails the write instead of being cut), and
  // `isolation` for its transactions. Unavailable when the server cannot be
  // reached; InvalidArgument for a bad url.
  static Status Connect(const std::string& url, Isolation isolation, std::unique_ptr<MysqlSession>* session);
  ~MysqlSession();
  MysqlSession(const MysqlSession&) = delete;
  MysqlSession& operator=(const MysqlSession&) = delete;

  // The statement of `sql`, prepared once per session. Throws
  // sql::SQLException, as the three below do.
  sql::PreparedStatement& Prepare(const std::string& sql);
  // Runs a statement without parameters or results.
  void Execute(const std::string& sql);
  // Runs a query without parameters.
  std::unique_ptr<sql::ResultSet> Query(const std::string& sql);
  // Forgets the prepared statements when they have grown many (they are
  // shaped by batch sizes). Between transactions only: statements and
  // their results must outlive their use.
  void TrimStatements();

  // The server's kind and version, read when connecting.
  const MysqlServerVersion& server_version() const { return server_version_; }

  // The binary log's current file and position (BinlogStatusStatement);
  // on MySQL also the executed GTID set, whitespace removed ("" on
  // MariaDB). Internal when the binary log is off.
  Status BinlogStatus(std::string* file, uint64_t* position, std::string* gtid_set);

 private:
  explicit MysqlSession(std::unique_ptr<sql::Connection> conn);

  std::unique_ptr<sql::Connection> conn_;
  std::unique_ptr<sql::Statement> statement_;
  std::map<std::string, std::unique_ptr<sql::PreparedStatement>> prepared_;
  MysqlServerVersion server_version_;
};

// The Status of a Connector/C++ error: Unavailable when the connection is
// lost (the session is then unusable), Aborted when the transaction lost a
// race with another (a duplicate key, a deadlock, a lock wait timeout),
// Internal otherwise.
Status ErrorStatus(const sql::SQLException& e);

// Runs `body`, a function returning Status, turning what it throws into
// its Status.
template <typename Body>
Status CatchErrors(Body&& body) {
  try {
    return body();
  } catch (const sql::SQLException& e) {
    return ErrorStatus(e);
  }
}

// Binds a statement's parameters in order.
class MysqlBinder {
 public:
  explicit MysqlBinder(sql::PreparedStatement& statement) : statement_(statement) {}

  // NULL, or the text (raw bytes for blobs: type_mapping.h).
  MysqlBinder& Param(const ServerParameter& value);
  MysqlBinder& Text(const std::string& value);
  MysqlBinder& Int(int64_t value);
  MysqlBinder& Null();
  // The key columns of each of `keys`, in order.
  MysqlBinder& Keys(const std::vector<const std::vector<ServerParameter>*>& keys);

 private:
  sql::PreparedStatement& statement_;
  unsigned int next_ = 1;
};

// `name` quoted with backticks (doubled inside).
std::string QuoteName(std::string_view name);
std::string Join(const std::vector<std::string>& items, std::string_view separator);
// The app table of `t`, quoted (qualified when the mapping names a database;
// the session's default database otherwise).
std::string AppTable(const ResolvedTable& t);

// Column `c` of the table aliased `alias` ("" for none) as a select item
// that reads as the text FromServerText takes. Connector/C++ formats
// prepared statements' binary results itself (doubles with six decimals,
// every time fraction with six digits), so values are cast to CHAR and
// arrive as the server prints them; binary strings come as their bytes;
// FLOAT is widened to DOUBLE first, which is the value the binlog carries.
std::string ColumnText(const ResolvedColumn& c, std::string_view alias);
// The key columns of `t` under `alias`, quoted: "t.`a`, t.`b`".
std::string KeyColumns(const ResolvedTable& t, std::string_view alias);
// A condition matching `rows` keys bound in order (MysqlBinder::Keys):
// "`a` IN (?,?)", or "(`a`,`b`) IN ((?,?),(?,?))" for composite keys, on
// the key columns of the table aliased `alias` ("" for none).
std::string KeyIn(const ResolvedTable& t, size_t rows, std::string_view alias = "");
// "(?,?),(?,?)": `rows` rows of `width` placeholders.
std::string Placeholders(size_t rows, size_t width);
// Rows per multi-row statement: larger batches gain little.
inline constexpr size_t kBatchRows = 1000;

// Calls `statement` with consecutive batches [first, first + count) of
// `total` rows, each as many rows as one statement of `params_per_row`
// parameters a row takes (the protocol allows 65,535), `max_rows` at most.
Status ForEachBatch(size_t total, size_t params_per_row, size_t max_rows,
                         const std::function<Status(size_t first, size_t count)>& statement);

// Elements [first, first + count) of `items`.
template <typename T>
std::vector<T> Slice(const std::vector<T>& items, size_t first, size_t count) {
  return std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(first),
                        items.begin() + static_cast<std::ptrdiff_t>(first + count));
}

// The canonical value of result column `index` (1-based), read as text.
Status ReadField(const ColumnType& type, const sql::ResultSet& rows, uint32_t index, Value* value);
// The key columns of `t` starting at result column `first`, canonical.
Status ReadKey(const ResolvedTable& t, const sql::ResultSet& rows, uint32_t first, std::vector<Value>* key);
// The same, packed (packed_pk.h).
Status ReadPackedKey(const ResolvedTable& t, const sql::ResultSet& rows, uint32_t first, Blob* key);

// A clock's per-column integers as stored: "1,,3" (empty for NULL), and
// back; missing trailing elements (a column added to the mapping) read as
// NULL.
std::string ClockArrayText(const std::vector<std::optional<int64_t>>& items);
std::vector<std::optional<int64_t>> ParseClockArray(std::string_view text, size_t size);

}  // namespace crbridge::mysql
