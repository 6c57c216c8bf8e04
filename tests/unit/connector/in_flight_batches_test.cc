// InFlightBatches: the Kafka sink deletes the change log only through
// batches Kafka acknowledged whole and in order, however the deliveries of
// several batches in flight interleave.
#include "crbridge/connector/kafka/in_flight_batches.h"

#include <gtest/gtest.h>

namespace crbridge {
namespace {

TEST(InFlightBatchesTest, TheLogLeavesOnlyThroughBatchesAcknowledgedWholeInOrder) {
  InFlightBatches batches;
  EXPECT_EQ(batches.ReadAfter({7, 2}).db_version, 7) << "nothing in flight: read after what was deleted";
  InFlightBatches::Batch* first = batches.Add(2, {10, 1});
  InFlightBatches::Batch* second = batches.Add(1, {11, 0});
  EXPECT_EQ(batches.ReadAfter({7, 2}).db_version, 11) << "the next batch reads after the newest produced";

  // Kafka acknowledges the second batch whole before the first.
  InFlightBatches::Delivered(second, true, "");
  InFlightBatches::Delivered(first, true, "");
  EXPECT_FALSE(batches.TakeAcknowledged()) << "the oldest batch still waits for an event";
  InFlightBatches::Delivered(first, true, "");
  const std::optional<InFlightBatches::Batch> taken = batches.TakeAcknowledged();
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->last.db_version, 10);
  EXPECT_EQ(taken->events, 2u);
  ASSERT_EQ(batches.size(), 1u);
  const std::optional<InFlightBatches::Batch> next = batches.TakeAcknowledged();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->last.db_version, 11);
  EXPECT_TRUE(batches.empty());
}

TEST(InFlightBatchesTest, ABatchWithAFailedEventIsNeverTaken) {
  InFlightBatches batches;
  InFlightBatches::Batch* batch = batches.Add(2, {3, 0});
  InFlightBatches::Delivered(batch, false, "Broker: Message size too large");
  InFlightBatches::Delivered(batch, true, "");
  EXPECT_TRUE(batches.oldest().Done());
  EXPECT_EQ(batches.oldest().failed, 1u);
  EXPECT_EQ(batches.oldest().last_error, "Broker: Message size too large");
  EXPECT_FALSE(batches.TakeAcknowledged());
  EXPECT_EQ(batches.size(), 1u);
}

TEST(InFlightBatchesTest, ABatchKeepsItsAddressWhileOthersComeAndGo) {
  InFlightBatches batches;
  InFlightBatches::Batch* first = batches.Add(1, {1, 0});
  InFlightBatches::Batch* kept = batches.Add(1, {2, 0});
  for (int i = 0; i < 100; ++i) batches.Add(1, {3 + i, 0});
  InFlightBatches::Delivered(first, true, "");
  ASSERT_TRUE(batches.TakeAcknowledged());
  InFlightBatches::Delivered(kept, true, "");
  const std::optional<InFlightBatches::Batch> taken = batches.TakeAcknowledged();
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->last.db_version, 2);
}

}  // namespace
}  // namespace crbridge
