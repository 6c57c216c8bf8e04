// UnpublishedPosition: what capture recorded holds the replication slot
// back until a read of the change log that began after it has ended, and
// no longer.
#include "crbridge/connector/kafka/unpublished_position.h"

#include <gtest/gtest.h>

namespace crbridge {
namespace {

TEST(UnpublishedPositionTest, ARecordedBatchHoldsUntilAReadBegunAfterItEnds) {
  UnpublishedPosition unpublished;
  EXPECT_EQ(unpublished.Get(), std::nullopt);
  unpublished.BeginRead();  // began before the batch committed: cannot see it
  unpublished.Recorded(500);
  unpublished.EndRead(std::nullopt);
  EXPECT_EQ(unpublished.Get(), 500) << "the read that found the log empty began before the batch";
  unpublished.BeginRead();
  EXPECT_EQ(unpublished.Get(), 500) << "while the read runs";
  unpublished.EndRead(500);
  EXPECT_EQ(unpublished.Get(), 500) << "the log holds it now";
  unpublished.BeginRead();
  unpublished.EndRead(std::nullopt);
  EXPECT_EQ(unpublished.Get(), std::nullopt) << "Kafka has it all";
}

TEST(UnpublishedPositionTest, TheOldestOfTheLogAndOfWhatWasRecordedSinceIsHeld) {
  UnpublishedPosition unpublished;
  unpublished.BeginRead();
  unpublished.EndRead(300);
  unpublished.Recorded(700);
  unpublished.Recorded(600);
  EXPECT_EQ(unpublished.Get(), 300);
  unpublished.BeginRead();
  unpublished.EndRead(std::nullopt);
  EXPECT_EQ(unpublished.Get(), std::nullopt);
  unpublished.Recorded(900);
  unpublished.BeginRead();
  unpublished.Recorded(800);  // after the read began: held past its end
  unpublished.EndRead(900);
  EXPECT_EQ(unpublished.Get(), 800);
}

}  // namespace
}  // namespace crbridge
