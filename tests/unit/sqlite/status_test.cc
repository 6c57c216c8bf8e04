#include "crbridge/sqlite/status.h"

#include <gtest/gtest.h>

namespace crbridge {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorsCarryCodeAndMessage) {
  const Status s = Status::Corruption("truncated varint");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "truncated varint");
  EXPECT_EQ(s.ToString(), "Corruption: truncated varint");
  EXPECT_EQ(Status::Unavailable("x").ToString(), "Unavailable: x");
  EXPECT_EQ(Status::Cancelled("x").code(), Status::Code::kCancelled);
  EXPECT_EQ(Status::PermissionDenied("x").ToString(), "Permission denied: x");
}

}  // namespace
}  // namespace crbridge
