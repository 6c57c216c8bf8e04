// The bounds of client clocks and the server's clock steps
// (server-side/core: clock_bounds.h), at the boundary.
#include "crbridge/server/core/clock_bounds.h"

#include <gtest/gtest.h>

#include <limits>

namespace crbridge {
namespace {

constexpr int64_t kLargest = std::numeric_limits<int64_t>::max();

Change TitleChange(int64_t col_version, int64_t db_version, int64_t cl) {
  return Change{"todos", {}, "title", Value::Text("x"), col_version, db_version, std::nullopt, cl, 0};
}

TEST(ClockBoundsTest, ClientClocksUpToTwoToTheSixtySecondAreTaken) {
  EXPECT_EQ(kMaxClientClock, int64_t{4611686018427387904});
  EXPECT_TRUE(CheckClientClocks(TitleChange(kMaxClientClock, kMaxClientClock, kMaxClientClock)).ok());
  EXPECT_TRUE(CheckClientClocks(TitleChange(0, 0, 1)).ok());
}

TEST(ClockBoundsTest, OneMoreIsRefusedNamingTheTableColumnAndRule) {
  const Status col_version = CheckClientClocks(TitleChange(kMaxClientClock + 1, 1, 1));
  EXPECT_EQ(col_version.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(col_version.message(),
            "a change to todos.title has col_version 4611686018427387905; clocks from clients must be between 0 and "
            "2^62 (4611686018427387904), so that no clock can overflow");
  const Status cl = CheckClientClocks(TitleChange(1, 1, kMaxClientClock + 1));
  EXPECT_NE(cl.message().find("todos.title has causal length 4611686018427387905"), std::string::npos) << cl.message();
  const Status db_version = CheckClientClocks(TitleChange(1, kLargest, 1));
  EXPECT_NE(db_version.message().find("has db_version 9223372036854775807"), std::string::npos) << db_version.message();
  Change sentinel = TitleChange(1, 1, kLargest);
  sentinel.cid = kSentinelColumn;
  sentinel.val = Value::Null();
  EXPECT_NE(CheckClientClocks(sentinel).message().find("todos.(row sentinel) has causal length"), std::string::npos);
  // Below the range, as before.
  EXPECT_EQ(CheckClientClocks(TitleChange(-1, 1, 1)).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckClientClocks(TitleChange(1, -1, 1)).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(CheckClientClocks(TitleChange(1, 1, 0)).code(), Status::Code::kInvalidArgument);
}

// A clock stored before the bound (at the largest integer) stays there
// rather than wrap to a negative number that loses every comparison.
TEST(ClockBoundsTest, TheServersClockStepsNeverWrap) {
  size_t saturated = 0;
  EXPECT_EQ(NextClock(kMaxClientClock, &saturated), kMaxClientClock + 1);
  EXPECT_EQ(NextClock(kLargest - 1, &saturated), kLargest);
  EXPECT_EQ(saturated, 0u);
  EXPECT_EQ(NextClock(kLargest, &saturated), kLargest);
  EXPECT_EQ(saturated, 1u);
}

}  // namespace
}  // namespace crbridge
