// RoomFeed: a room's pulls served from memory to clients at any position,
// each without its own columns and a message's bytes at a time, and a
// window bounded in changes and bytes beyond which a client is told to
// pull on its own.
#include "crbridge/connector/sync/room_feed.h"

#include <gtest/gtest.h>

#include "crbridge/sqlite/vlcn_messages.h"

namespace crbridge {
namespace {

SiteId Site(uint8_t n) {
  SiteId site{};
  site.fill(n);
  return site;
}

Change ColumnChange(int64_t db_version, int64_t seq, uint8_t site, const std::string& cid = "title") {
  return Change{"todos", Blob{1, 9, 1}, cid, Value::Text("x"), 1, db_version, Site(site), 1, seq};
}

Change Sentinel(int64_t db_version, int64_t seq) {
  return Change{"todos", Blob{1, 9, 2}, kSentinelColumn, Value::Null(), 2, db_version, Site(0), 2, seq};
}

// Large enough for anything in these tests.
constexpr size_t kAnyBytes = 1 << 20;

std::vector<std::pair<int64_t, int64_t>> Positions(const Changeset& changes) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const Change& c : changes) out.emplace_back(c.db_version, c.seq);
  return out;
}

Changeset Decoded(const EncodedChanges& encoded) {
  if (!encoded.bytes) return {};
  Message message;
  EXPECT_TRUE(DecodeMessage(EncodeChangesMessage(Site(0), {}, *encoded.bytes), &message).ok());
  return std::get<ChangesMessage>(message).changes;
}

// RoomFeed::Next, with the message's changes decoded.
RoomFeed::Read Next(RoomFeed& feed, const PullPosition& after, const SiteId& client, const ChangeFilter& filter,
                    size_t max_bytes, Changeset* changes, PullPosition* through) {
  EncodedChanges encoded;
  const RoomFeed::Read read = feed.Next(after, client, filter, max_bytes, &encoded, through);
  *changes = Decoded(encoded);
  EXPECT_EQ(encoded.count, changes->size());
  if (!changes->empty()) {
    EXPECT_EQ(encoded.last_version, changes->back().db_version);
  }
  return read;
}

TEST(ChangesForTest, LeavesOutTheClientsColumnsAndNumbersEachVersionAgain) {
  const Changeset changes = {ColumnChange(5, 0, 1, "title"), ColumnChange(5, 1, 2, "done"), ColumnChange(5, 2, 1, "list_id"),
                             Sentinel(6, 0), ColumnChange(7, 0, 2), ColumnChange(8, 0, 1)};
  const Changeset for_site_2 = ChangesFor(changes, Site(2), {});
  EXPECT_EQ(Positions(for_site_2), (std::vector<std::pair<int64_t, int64_t>>{{5, 0}, {5, 1}, {6, 0}, {8, 0}}));
  EXPECT_EQ(for_site_2[1].cid, "list_id");
  // The sentinel is the server's, whoever asks.
  const Changeset for_site_0 = ChangesFor(changes, Site(0), {});
  EXPECT_EQ(Positions(for_site_0), (std::vector<std::pair<int64_t, int64_t>>{{5, 0}, {5, 1}, {5, 2}, {6, 0}, {7, 0}, {8, 0}}));
}

TEST(ChangesForTest, LeavesOutWhatTheFilterDoesAndNumbersWhatIsLeft) {
  const Changeset changes = {ColumnChange(5, 0, 1, "title"), ColumnChange(5, 1, 1, "priority"),
                             ColumnChange(5, 2, 1, "done"), ColumnChange(6, 0, 1, "priority")};
  const Changeset kept = ChangesFor(changes, Site(2), [](const Change& c) { return c.cid != "priority"; });
  EXPECT_EQ(Positions(kept), (std::vector<std::pair<int64_t, int64_t>>{{5, 0}, {5, 1}}));
  EXPECT_EQ(kept[1].cid, "done");
}

TEST(RoomFeedTest, ServesEachPullFromAnyPositionInIt) {
  RoomFeed feed(10, 100, kAnyBytes);
  Changeset changes;
  PullPosition through;
  EXPECT_EQ(Next(feed, 10, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kAhead);
  EXPECT_EQ(Next(feed, 4, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kBehind);

  feed.Append(14, {ColumnChange(11, 0, 1), ColumnChange(13, 0, 2), ColumnChange(13, 1, 1)});
  feed.Append(20, {});  // versions of other rooms only
  feed.Append(25, {ColumnChange(22, 0, 1)});
  EXPECT_EQ(feed.head(), 25);

  ASSERT_EQ(Next(feed, 10, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Positions(changes), (std::vector<std::pair<int64_t, int64_t>>{{11, 0}, {13, 0}, {13, 1}}));
  EXPECT_EQ(through, 14);
  // A client whose own pull ended inside a feed pull gets the rest of it.
  ASSERT_EQ(Next(feed, 11, Site(2), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Positions(changes), (std::vector<std::pair<int64_t, int64_t>>{{13, 0}}));
  EXPECT_EQ(changes[0].site_id, Site(1));
  EXPECT_EQ(through, 14);
  ASSERT_EQ(Next(feed, 14, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_TRUE(changes.empty());
  EXPECT_EQ(through, 20);
  ASSERT_EQ(Next(feed, 20, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Positions(changes), (std::vector<std::pair<int64_t, int64_t>>{{22, 0}}));
  EXPECT_EQ(Next(feed, 25, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kAhead);
  EXPECT_EQ(Next(feed, 30, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kAhead);
}

TEST(RoomFeedTest, ClientsThatGetTheSameMessageShareItsBytes) {
  RoomFeed feed(10, 100, kAnyBytes);
  feed.Append(14, {ColumnChange(11, 0, 1), ColumnChange(13, 0, 2, "done"), ColumnChange(13, 0, 2, "title")});
  const size_t held = feed.held_bytes();
  EncodedChanges a, b, writer, filtered;
  PullPosition through;
  ASSERT_EQ(feed.Next(10, Site(8), {}, kAnyBytes, &a, &through), RoomFeed::Read::kServed);
  ASSERT_EQ(feed.Next(10, Site(9), {}, kAnyBytes, &b, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(a.bytes.get(), b.bytes.get()) << "encoded once";
  EXPECT_EQ(*a.bytes, EncodeChanges(ChangesFor(Decoded(a), Site(8), {})));
  EXPECT_EQ(feed.held_bytes(), held + a.bytes->size()) << "the shared bytes count against the bound";
  // A client that wrote some of it, or filters some out, gets its own.
  ASSERT_EQ(feed.Next(10, Site(2), {}, kAnyBytes, &writer, &through), RoomFeed::Read::kServed);
  EXPECT_NE(writer.bytes.get(), a.bytes.get());
  EXPECT_EQ(Positions(Decoded(writer)), (std::vector<std::pair<int64_t, int64_t>>{{11, 0}}));
  const ChangeFilter no_done = [](const Change& c) { return c.cid != "done"; };
  ASSERT_EQ(feed.Next(10, Site(8), no_done, kAnyBytes, &filtered, &through), RoomFeed::Read::kServed);
  EXPECT_NE(filtered.bytes.get(), a.bytes.get());
  EXPECT_EQ(Decoded(filtered).size(), 2u);
  EXPECT_EQ(feed.held_bytes(), held + a.bytes->size()) << "what one client gets is not kept";
}

TEST(RoomFeedTest, KeepsAFewOfAPullsMessagesEncoded) {
  RoomFeed feed(0, 1000, kAnyBytes);
  Changeset changes;
  for (int64_t seq = 0; seq < 20; ++seq) changes.push_back(ColumnChange(1, seq, 1));
  feed.Append(1, changes);
  // Clients standing at 20 places inside the pull (after pulls of their own).
  std::vector<EncodedChanges> first(20), second(20);
  PullPosition through;
  for (int64_t seq = 0; seq < 20; ++seq) {
    ASSERT_EQ(feed.Next(PullPosition(1, seq - 1), Site(8), {}, kAnyBytes, &first[static_cast<size_t>(seq)], &through),
              RoomFeed::Read::kServed);
  }
  const size_t held = feed.held_bytes();
  for (int64_t seq = 0; seq < 20; ++seq) {
    ASSERT_EQ(feed.Next(PullPosition(1, seq - 1), Site(9), {}, kAnyBytes, &second[static_cast<size_t>(seq)], &through),
              RoomFeed::Read::kServed);
  }
  size_t shared = 0;
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(*first[i].bytes, *second[i].bytes);
    if (first[i].bytes.get() == second[i].bytes.get()) ++shared;
  }
  EXPECT_EQ(shared, 16u);
  EXPECT_EQ(feed.held_bytes(), held);
}

TEST(RoomFeedTest, APullThatEndsAtTheHeadChangesNothing) {
  RoomFeed feed(10, 100, kAnyBytes);
  feed.Append(10, {ColumnChange(9, 0, 1)});
  EXPECT_EQ(feed.head(), 10);
  EXPECT_EQ(feed.held_changes(), 0u);
}

TEST(RoomFeedTest, KeepsItsNewestPullsWithinTheBound) {
  RoomFeed feed(0, 3, kAnyBytes);
  feed.Append(1, {ColumnChange(1, 0, 1), ColumnChange(1, 1, 1)});
  feed.Append(2, {ColumnChange(2, 0, 1), ColumnChange(2, 1, 1)});
  EXPECT_EQ(feed.held_changes(), 2u);
  Changeset changes;
  PullPosition through;
  EXPECT_EQ(Next(feed, 0, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kBehind);
  EXPECT_EQ(Next(feed, 1, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(through, 2);
  // One pull larger than the bound is still held: the clients at the head need it.
  feed.Append(3, {ColumnChange(3, 0, 1), ColumnChange(3, 1, 1), ColumnChange(3, 2, 1), ColumnChange(3, 3, 1)});
  EXPECT_EQ(feed.held_changes(), 4u);
  EXPECT_EQ(Next(feed, 2, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(changes.size(), 4u);
  EXPECT_EQ(Next(feed, 1, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kBehind);
}

Change LargeChange(int64_t db_version, int64_t seq, const std::string& cid, size_t bytes) {
  // The value is set apart: GCC 12's release build warns wrongly on the
  // temporary inside the braces.
  Change change{"todos", Blob{1, 9, static_cast<uint8_t>(seq)}, cid, Value::Null(), 1, db_version, Site(1), 1, seq};
  change.val = Value::Text(std::string(bytes, 'x'));
  return change;
}

TEST(ChangesInMessageTest, TakesWholeRowsUpToTheBytesAndAtLeastOne) {
  // Three rows of version 5 (two changes each), one of version 6.
  const Changeset changes = {LargeChange(5, 0, "title", 400), LargeChange(5, 0, "done", 400),
                             LargeChange(5, 1, "title", 400), LargeChange(5, 1, "done", 400),
                             LargeChange(5, 2, "title", 400), LargeChange(5, 2, "done", 400),
                             LargeChange(6, 0, "title", 400)};
  size_t row = kChangesMessageOverhead;
  for (int i = 0; i < 2; ++i) row += EncodedSize(changes[static_cast<size_t>(i)]);
  EXPECT_EQ(ChangesInMessage(changes, row), 2u);
  EXPECT_EQ(ChangesInMessage(changes, row * 2 - kChangesMessageOverhead), 4u);
  EXPECT_EQ(ChangesInMessage(changes, row * 2 - kChangesMessageOverhead - 1), 2u) << "never half a row";
  EXPECT_EQ(ChangesInMessage(changes, 100), 2u) << "a row larger than the bound goes alone";
  EXPECT_EQ(ChangesInMessage(changes, kAnyBytes), changes.size());
  EXPECT_EQ(ChangesInMessage({}, 100), 0u);
}

TEST(RoomFeedTest, ServesAMessageAtATimeAndGoesOnInsideAVersion) {
  RoomFeed feed(4, 100, kAnyBytes);
  feed.Append(6, {LargeChange(5, 0, "title", 1000), LargeChange(5, 1, "title", 1000), LargeChange(5, 2, "title", 1000),
                  LargeChange(6, 0, "title", 10)});
  Changeset changes;
  PullPosition through;
  // Two rows of 1,000 bytes do not go in 2,000 bytes.
  ASSERT_EQ(Next(feed, 4, Site(9), {}, 2000, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Positions(changes), (std::vector<std::pair<int64_t, int64_t>>{{5, 0}}));
  EXPECT_EQ(through, PullPosition(5, 0));
  ASSERT_EQ(Next(feed, PullPosition(5, 0), Site(9), {}, 2200, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Positions(changes), (std::vector<std::pair<int64_t, int64_t>>{{5, 0}, {5, 1}})) << "numbered again";
  EXPECT_EQ(changes[0].val.text().size(), 1000u);
  EXPECT_EQ(through, PullPosition(5, 2));
  ASSERT_EQ(Next(feed, PullPosition(5, 2), Site(9), {}, 2200, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Positions(changes), (std::vector<std::pair<int64_t, int64_t>>{{6, 0}}));
  EXPECT_EQ(through, PullPosition(6));
  EXPECT_EQ(Next(feed, 6, Site(9), {}, 2200, &changes, &through), RoomFeed::Read::kAhead);
}

TEST(RoomFeedTest, KeepsItsNewestPullsWithinTheBoundInBytes) {
  RoomFeed feed(0, 100, 3000);
  feed.Append(1, {LargeChange(1, 0, "title", 1000)});
  feed.Append(2, {LargeChange(2, 0, "title", 1000)});
  EXPECT_GT(feed.held_bytes(), 2000u);
  feed.Append(3, {LargeChange(3, 0, "title", 1000)});
  EXPECT_LE(feed.held_bytes(), 3000u);
  Changeset changes;
  PullPosition through;
  EXPECT_EQ(Next(feed, 0, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kBehind);
  EXPECT_EQ(Next(feed, 1, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  // One pull larger than the bound is still held.
  feed.Append(4, {LargeChange(4, 0, "title", 5000)});
  EXPECT_GT(feed.held_bytes(), 5000u);
  EXPECT_EQ(Next(feed, 3, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kServed);
  EXPECT_EQ(Next(feed, 2, Site(9), {}, kAnyBytes, &changes, &through), RoomFeed::Read::kBehind);
}

}  // namespace
}  // namespace crbridge
