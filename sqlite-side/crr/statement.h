// Statement: an owned, prepared SQLite statement with helpers to bind and
// read crbridge Values. Used by one connection's thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/sql_quote.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"
#include "sqlite_api.h"

namespace crbridge {

class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  static Status Prepare(sqlite3* db, std::string_view sql, Statement* out);

  // Binds 1-based parameter `index`.
  void Bind(int index, const Value& value);
  void BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void BindText(int index, std::string_view text);
  void BindBlob(int index, const void* data, size_t size);

  // Steps once: true with a row, false when done; an error is in *status.
  bool Step(Status* status);
  // Steps to completion, for statements that return no rows.
  Status Run();
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  Value Column(int index) const;
  int64_t ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }
  bool ColumnIsNull(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs SQL text without results (may hold several statements).
Status ExecSql(sqlite3* db, const std::string& sql);

// Reads a value of the current row of `stmt`, or a function argument.
Value ValueFromSqlite(sqlite3_value* value);
// A value as text ("" for NULL).
std::string TextFromSqlite(sqlite3_value* value);
// A 16-byte blob as a site id; nullopt for anything else.
std::optional<SiteId> SiteIdFromValue(const Value& value);

// Makes `value` a SQL function's result.
void ResultValue(sqlite3_context* ctx, const Value& value);

}  // namespace crbridge
