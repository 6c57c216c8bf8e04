// One case per row of postgres::ErrorStatus's table (postgres_errors.h),
// each throwing the exception libpqxx throws for it.
#include "crbridge/server/postgres/postgres_errors.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <pqxx/except>
#include <stdexcept>
#include <string>

namespace crbridge::postgres {
namespace {

struct Case {
  const char* name;
  std::function<void()> thrower;
  Status::Code code;
};

// An error the server reported with `state`, as libpqxx 7 throws them all
// (libpqxx 6 throws class 40 as transaction_rollback, covered below).
std::function<void()> State(const char* state) {
  return [state] { throw pqxx::sql_error("server said no", "SELECT 1", state); };
}

template <typename Error>
std::function<void()> Throw() {
  return [] { throw Error("server said no"); };
}

template <typename Error>
std::function<void()> ThrowSql(const char* state) {
  return [state] { throw Error("server said no", "SELECT 1", state); };
}

// Failures name the row, not its bytes.
void PrintTo(const Case& row, std::ostream* out) { *out << row.name; }

using Code = Status::Code;

const Case kCases[] = {
    {"BrokenConnection", Throw<pqxx::broken_connection>(), Code::kUnavailable},
    {"ConnectionFailure08006", State("08006"), Code::kUnavailable},
    {"ConnectionDoesNotExist08003", State("08003"), Code::kUnavailable},
    {"AdminShutdown57P01", State("57P01"), Code::kUnavailable},
    {"CrashShutdown57P02", State("57P02"), Code::kUnavailable},
    {"CannotConnectNow57P03", State("57P03"), Code::kUnavailable},
    {"InDoubt", Throw<pqxx::in_doubt_error>(), Code::kUnavailable},
    {"StatementCompletionUnknown", Throw<pqxx::statement_completion_unknown>(), Code::kUnavailable},
    {"StatementCompletionUnknown40003", State("40003"), Code::kUnavailable},
    {"TransactionRollback", Throw<pqxx::transaction_rollback>(), Code::kAborted},
    {"SerializationFailure", Throw<pqxx::serialization_failure>(), Code::kAborted},
    {"DeadlockDetected", Throw<pqxx::deadlock_detected>(), Code::kAborted},
    {"SerializationFailure40001", State("40001"), Code::kAborted},
    {"Deadlock40P01", State("40P01"), Code::kAborted},
    {"LockNotAvailable55P03", State("55P03"), Code::kAborted},
    {"UniqueViolation23505", ThrowSql<pqxx::unique_violation>("23505"), Code::kAborted},
    {"UndefinedTable42P01", ThrowSql<pqxx::undefined_table>("42P01"), Code::kInternal},
    {"UndefinedColumn42703", ThrowSql<pqxx::undefined_column>("42703"), Code::kInternal},
    {"InsufficientPrivilege42501", ThrowSql<pqxx::insufficient_privilege>("42501"), Code::kInternal},
    {"StringTooLong22001", ThrowSql<pqxx::data_exception>("22001"), Code::kInternal},
    {"NotNullViolation23502", ThrowSql<pqxx::not_null_violation>("23502"), Code::kInternal},
    {"ForeignKeyViolation23503", ThrowSql<pqxx::foreign_key_violation>("23503"), Code::kInternal},
    {"ObjectInUse55006", State("55006"), Code::kInternal},
    {"NoSqlState", ThrowSql<pqxx::sql_error>(nullptr), Code::kInternal},
    {"ConversionError", Throw<pqxx::conversion_error>(), Code::kInternal},
    {"NotLibpqxx", Throw<std::runtime_error>(), Code::kInternal},
};

Status Mapped(const std::function<void()>& thrower, bool connection_open = true) {
  try {
    thrower();
  } catch (const std::exception& e) {
    return ErrorStatus(e, "reading the clock", connection_open);
  }
  return Status::OK();
}

class PostgresErrorsTest : public testing::TestWithParam<Case> {};

TEST_P(PostgresErrorsTest, MapsToItsCode) {
  const Status s = Mapped(GetParam().thrower);
  EXPECT_EQ(CodeName(s.code()), CodeName(GetParam().code)) << s.ToString();
}

TEST_P(PostgresErrorsTest, MessageSaysWhatFailed) {
  const std::string message = Mapped(GetParam().thrower).message();
  EXPECT_EQ(message.rfind("postgres: reading the clock: ", 0), 0u) << message;
  EXPECT_NE(message.find("server said no"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Table, PostgresErrorsTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& row) { return std::string(row.param.name); });

// A server going down can surface as an error of a statement.
TEST(PostgresErrorsClosedTest, AnyErrorOnAClosedConnectionIsUnavailable) {
  EXPECT_EQ(Mapped(ThrowSql<pqxx::undefined_table>("42P01"), false).code(), Code::kUnavailable);
  EXPECT_EQ(Mapped(Throw<std::runtime_error>(), false).code(), Code::kUnavailable);
}

TEST(PostgresErrorsClosedTest, InDoubtSaysTheOutcomeIsUnknown) {
  const Status s = Mapped(Throw<pqxx::in_doubt_error>(), false);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("the commit's outcome is unknown"), std::string::npos) << s.message();
}

TEST(PostgresErrorsCatchTest, CatchErrorsMapsWhatTheBodyThrows) {
  EXPECT_TRUE(CatchErrors("x", [] { return Status::OK(); }).ok());
  EXPECT_EQ(CatchErrors("x", [] { return Status::NotFound("kept"); }).code(), Code::kNotFound);
  EXPECT_EQ(CatchErrors("x", []() -> Status { throw pqxx::deadlock_detected("d"); }).code(), Code::kAborted);
}

TEST(PostgresErrorsCatchTest, TrailingNewlineIsDropped) {
  EXPECT_EQ(CatchErrors("connecting", []() -> Status { throw pqxx::broken_connection("refused\n"); }).message(),
            "postgres: connecting: refused");
}

}  // namespace
}  // namespace crbridge::postgres
