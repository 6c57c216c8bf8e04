#include "statement.h"

#include <algorithm>

namespace crbridge {

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Status Statement::Prepare(sqlite3* db, std::string_view sql, Statement* out) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    return Status::InvalidArgument(std::string(sqlite3_errmsg(db)) + " in: " + std::string(sql));
  }
  Statement prepared;
  prepared.stmt_ = stmt;
  *out = std::move(prepared);
  return Status::OK();
}

void Statement::Bind(int index, const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kNull:
      sqlite3_bind_null(stmt_, index);
      break;
    case StorageClass::kInteger:
      sqlite3_bind_int64(stmt_, index, value.integer());
      break;
    case StorageClass::kFloat:
      sqlite3_bind_double(stmt_, index, value.real());
      break;
    case StorageClass::kText:
      BindText(index, value.text());
      break;
    case StorageClass::kBlob:
      BindBlob(index, value.blob().data(), value.blob().size());
      break;
  }
}

void Statement::BindText(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void Statement::BindBlob(int index, const void* data, size_t size) {
  // A zero-length blob must stay a blob, not become NULL.
  static const uint8_t kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, size == 0 ? &kEmpty : data, size, SQLITE_TRANSIENT);
}

bool Statement::Step(Status* status) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    *status = Status::IOError(sqlite3_errmsg(sqlite3_db_handle(stmt_)));
  }
  return false;
}

Status Statement::Run() {
  Status status;
  while (Step(&status)) {
  }
  sqlite3_reset(stmt_);
  return status;
}

Value Statement::Column(int index) const { return ValueFromSqlite(sqlite3_column_value(stmt_, index)); }

Value ValueFromSqlite(sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
      return Value::Integer(sqlite3_value_int64(value));
    case SQLITE_FLOAT:
      return Value::Float(sqlite3_value_double(value));
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
      return Value::Text(std::string(text, static_cast<size_t>(sqlite3_value_bytes(value))));
    }
    case SQLITE_BLOB: {
      const auto* data = static_cast<const uint8_t*>(sqlite3_value_blob(value));
      const auto size = static_cast<size_t>(sqlite3_value_bytes(value));
      return Value::BlobValue(data == nullptr ? Blob() : Blob(data, data + size));
    }
    default:
      return Value::Null();
  }
}

Status ExecSql(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    return Status::InvalidArgument(message);
  }
  return Status::OK();
}

void ResultValue(sqlite3_context* ctx, const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kNull:
      sqlite3_result_null(ctx);
      break;
    case StorageClass::kInteger:
      sqlite3_result_int64(ctx, value.integer());
      break;
    case StorageClass::kFloat:
      sqlite3_result_double(ctx, value.real());
      break;
    case StorageClass::kText:
      sqlite3_result_text64(ctx, value.text().data(), value.text().size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    case StorageClass::kBlob:
      sqlite3_result_blob64(ctx, value.blob().data(), value.blob().size(), SQLITE_TRANSIENT);
      break;
  }
}

std::string TextFromSqlite(sqlite3_value* value) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
  return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(sqlite3_value_bytes(value)));
}

std::optional<SiteId> SiteIdFromValue(const Value& value) {
  if (value.storage_class() != StorageClass::kBlob || value.blob().size() != SiteId().size()) return std::nullopt;
  SiteId site;
  std::copy(value.blob().begin(), value.blob().end(), site.begin());
  return site;
}

}  // namespace crbridge
