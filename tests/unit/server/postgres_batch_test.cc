// The text forms of crbridge's batched Postgres statements
// (server-side/postgres/postgres_batch.h): integer arrays both ways, and text
// arrays that must survive quotes, backslashes and NULLs.
#include "postgres_batch.h"

#include <gtest/gtest.h>

namespace crbridge {
using namespace crbridge::postgres;  // the dialect under test
namespace {

TEST(PostgresBatchTest, IntegerArraysRoundTrip) {
  const std::vector<std::optional<int64_t>> values = {1, std::nullopt, -3, INT64_MAX};
  EXPECT_EQ(ClockArrayText(values), "{1,NULL,-3,9223372036854775807}");
  EXPECT_EQ(ParseClockArray(ClockArrayText(values), 4), values);
}

TEST(PostgresBatchTest, MissingElementsOfAnArrayReadAsNull) {
  // An empty array (clocks from before a column was kept) and a short one
  // (a column added to the mapping) are unknown, not zero.
  EXPECT_EQ(ParseClockArray("{}", 2), (std::vector<std::optional<int64_t>>{std::nullopt, std::nullopt}));
  EXPECT_EQ(ParseClockArray("{7}", 2), (std::vector<std::optional<int64_t>>{7, std::nullopt}));
}

TEST(PostgresBatchTest, TextArraysQuoteWhatPostgresWouldMisread) {
  const ServerParameter plain{false, "a,b"}, quoted{false, "say \"hi\" \\ bye"}, null{true, ""}, empty{false, ""};
  EXPECT_EQ(TextArray({&plain, &quoted, &null, &empty}), R"({"a,b","say \"hi\" \\ bye",NULL,""})");
}

}  // namespace
}  // namespace crbridge
