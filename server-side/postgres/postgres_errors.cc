#include "crbridge/server/postgres/postgres_errors.h"

#include <pqxx/except>

#include <string>

namespace crbridge::postgres {
namespace {

enum class Kind { kConnectionLost, kOutcomeUnknown, kRace, kOther };

Kind KindOfState(std::string_view state) {
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") return Kind::kConnectionLost;
  if (state == "40003") return Kind::kOutcomeUnknown;
  if (state.starts_with("40") || state == "55P03" || state == "23505") return Kind::kRace;
  return Kind::kOther;
}

Kind KindOf(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return Kind::kConnectionLost;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) {
    return Kind::kOutcomeUnknown;
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) return Kind::kRace;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) return KindOfState(sql->sqlstate());
  return Kind::kOther;
}

}  // namespace

Status ErrorStatus(const std::exception& e, std::string_view context, bool connection_open) {
  // libpq's messages end with a newline.
  std::string what = e.what();
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  const std::string prefix = "postgres: " + std::string(context) + ": ";
  Kind kind = KindOf(e);
  if (!connection_open && kind != Kind::kOutcomeUnknown) kind = Kind::kConnectionLost;
  switch (kind) {
    case Kind::kConnectionLost:
      return Status::Unavailable(prefix + what);
    case Kind::kOutcomeUnknown:
      return Status::Unavailable(prefix + "the commit's outcome is unknown: " + what);
    case Kind::kRace:
      return Status::Aborted(prefix + what);
    case Kind::kOther:
      break;
  }
  return Status::Internal(prefix + what);
}

}  // namespace crbridge::postgres
