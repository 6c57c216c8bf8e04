// A batch's rows appended to a Postgres table (InsertRows,
// server-side/postgres/postgres_batch.h) arrive as they were given, whichever
// way they travel: INSERT for a small batch, COPY for a large one, whose text
// format must escape what it would otherwise read as its own syntax.
#include "postgres_batch.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "databases/test_databases.h"

namespace crbridge::testing {
using namespace crbridge::postgres;  // the dialect under test
namespace {

// Values COPY's text format gives a meaning of its own (separators, escapes,
// the NULL marker) and arrays of them, with NULLs, in every row.
struct AwkwardRow {
  ServerParameter id, text, bytes, numbers, missing;
};

AwkwardRow RowNumbered(int n) {
  return AwkwardRow{{false, std::to_string(n)},
                    {false, "tab\there\nnew line\r\\N back\\slash \"quoted\" é " + std::to_string(n)},
                    {false, "\\x00095c0a" + std::string(n % 2 == 0 ? "ff" : "")},
                    {false, "{1,NULL," + std::to_string(-n) + "}"},
                    {true, ""}};
}

class PostgresBatchTest : public ::testing::Test {
 protected:
  PostgresBatchTest() : conn_(TestDatabases::Get().NewPostgresDatabase()) {
    pqxx::nontransaction(conn_).exec0(
        "CREATE TABLE \"odd table\" (id bigint PRIMARY KEY, \"a text\" text, b bytea, c bigint[], d text)");
  }

  pqxx::connection conn_;
};

class PostgresBatchSizeTest : public PostgresBatchTest, public ::testing::WithParamInterface<int> {};

TEST_P(PostgresBatchSizeTest, RowsArriveAsGiven) {
  const int rows = GetParam();
  std::vector<AwkwardRow> given;
  for (int n = 1; n <= rows; ++n) given.push_back(RowNumbered(n));
  BatchColumns batch;
  for (const char* type : {"bigint", "text", "bytea", "bigint[]", "text"}) batch.Add(type);
  for (const AwkwardRow& row : given) {
    size_t c = 0;
    for (const ServerParameter* field : {&row.id, &row.text, &row.bytes, &row.numbers, &row.missing}) {
      batch.values[c++].push_back(field);
    }
  }
  pqxx::work tx(conn_);
  InsertRows(tx, "\"public\".\"odd table\"", {"id", "\"a text\"", "b", "c", "d"}, batch);
  tx.commit();

  pqxx::nontransaction read(conn_);
  const pqxx::result stored =
      read.exec("SELECT id, \"a text\", b::text, c::text, d IS NULL FROM \"odd table\" ORDER BY id");
  ASSERT_EQ(stored.size(), given.size());
  for (size_t r = 0; r < given.size(); ++r) {
    const AwkwardRow& row = given[r];
    EXPECT_EQ(stored[r][0].as<std::string>(), row.id.text);
    EXPECT_EQ(stored[r][1].as<std::string>(), row.text.text);
    EXPECT_EQ(stored[r][2].as<std::string>(), row.bytes.text);
    EXPECT_EQ(stored[r][3].as<std::string>(), row.numbers.text);
    EXPECT_TRUE(stored[r][4].as<bool>()) << "row " << r;
  }
}

// A few rows go by INSERT, many by COPY.
INSTANTIATE_TEST_SUITE_P(Sizes, PostgresBatchSizeTest, ::testing::Values(1, 63, 64, 1000));

TEST_F(PostgresBatchTest, AFailedCopyFailsTheTransaction) {
  BatchColumns batch;
  batch.Add("bigint");
  const ServerParameter same{false, "7"};
  for (int n = 0; n < 100; ++n) batch.values[0].push_back(&same);
  pqxx::work tx(conn_);
  EXPECT_THROW(InsertRows(tx, "\"odd table\"", {"id"}, batch), pqxx::unique_violation);
}

}  // namespace
}  // namespace crbridge::testing
