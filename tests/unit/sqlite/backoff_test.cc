#include "crbridge/sqlite/backoff.h"

#include <gtest/gtest.h>

namespace crbridge {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesWithJitterUpToTheCap) {
  Backoff backoff(milliseconds(100), milliseconds(1000));
  const milliseconds expected_max[] = {milliseconds(100), milliseconds(200), milliseconds(400),
                                       milliseconds(800), milliseconds(1000), milliseconds(1000)};
  for (const milliseconds max : expected_max) {
    const milliseconds delay = backoff.Next();
    EXPECT_GE(delay, max / 2);
    EXPECT_LE(delay, max);
  }
}

TEST(BackoffTest, ResetStartsOver) {
  Backoff backoff(milliseconds(100), milliseconds(10000));
  for (int i = 0; i < 5; ++i) backoff.Next();
  backoff.Reset();
  EXPECT_LE(backoff.Next(), milliseconds(100));
}

}  // namespace
}  // namespace crbridge
