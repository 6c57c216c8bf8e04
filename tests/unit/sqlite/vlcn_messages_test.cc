#include "crbridge/sqlite/vlcn_messages.h"

#include <gtest/gtest.h>

#include <map>

#include "golden/golden_file.h"

namespace crbridge {
namespace {

SiteId Filled(uint8_t b) {
  SiteId site;
  site.fill(b);
  return site;
}

SiteId Counting() {
  SiteId site;
  for (int i = 0; i < 16; ++i) site[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  return site;
}

Change TodoChange(std::string cid, Value val, int64_t col_version, int64_t db_version, std::optional<SiteId> site,
                  int64_t cl, int64_t seq) {
  return Change{"todos", {1, 9, 1}, std::move(cid), std::move(val), col_version, db_version, site, cl, seq};
}

// The messages that tests/interop/golden.mjs encodes with the real
// @vlcn.io/ws-common, built here with crbridge's types.
std::map<std::string, Message> GoldenMessages() {
  std::map<std::string, Message> m;
  m["announce_presence"] = AnnouncePresence{
      Counting(), {{Filled(0x11), {5, 3}}, {Filled(0x22), {0, 0}}}, "todo_app", -123456789012345};
  m["announce_presence_empty"] = AnnouncePresence{Filled(0xff), {}, "", 0};
  m["changes_every_value"] = ChangesMessage{
      Counting(),
      {42, 7},
      {TodoChange("-1", Value::Null(), 1, 3, std::nullopt, 1, 0),
       TodoChange("title", Value::Text("h\xc3\xa9llo"), 2, 3, Filled(0x33), 1, 1),
       TodoChange("n", Value::Integer(5), 1, 3, std::nullopt, 1, 63),
       TodoChange("n", Value::Integer(-1), 1, 3, std::nullopt, 1, 64),
       TodoChange("n", Value::Integer(INT64_MAX), 1, 3, std::nullopt, 1, 8191),
       TodoChange("f", Value::Float(1.5), 1, 3, std::nullopt, 1, 8192),
       TodoChange("f", Value::Float(-0.0), 1, 3, std::nullopt, 1, 1000000),
       TodoChange("t", Value::Text(""), 1, 3, std::nullopt, 1, 9007199254740991),
       TodoChange("b", Value::BlobValue({0, 255}), 1, 3, std::nullopt, 2, 2),
       TodoChange("b", Value::BlobValue({}), 9007199254740993, -4, std::nullopt, 3, 3)}};
  m["changes_empty"] = ChangesMessage{Filled(1), {0, 0}, {}};
  m["reject_changes"] = RejectChanges{Filled(0x44), {9, 300}};
  m["start_streaming"] = StartStreaming{{0, 0}, {Filled(0x55)}, false};
  m["start_streaming_local_only"] = StartStreaming{{77, -2}, {Filled(0x55), Counting()}, true};
  m["ping"] = Ping{};
  m["pong"] = Pong{};
  m["err"] = ErrMessage{0, "schema mismatch: expected todo_app"};
  m["err_negative_reqid"] = ErrMessage{-3, "x"};
  return m;
}

TEST(VlcnMessagesTest, EncodesExactlyAsWsCommon) {
  const auto messages = GoldenMessages();
  int checked = 0;
  for (const auto& golden : testing::ReadGolden("vlcn_messages.golden")) {
    const auto it = messages.find(golden.name);
    if (it == messages.end()) continue;  // decode-only cases, below
    EXPECT_EQ(EncodeMessage(it->second), golden.bytes) << golden.name;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(messages.size()));
}

TEST(VlcnMessagesTest, AChangesMessageBuiltFromEncodedChangesIsTheSameMessage) {
  for (const auto& [name, message] : GoldenMessages()) {
    const auto* changes = std::get_if<ChangesMessage>(&message);
    if (!changes) continue;
    EXPECT_EQ(EncodeChangesMessage(changes->sender, changes->since, EncodeChanges(changes->changes)),
              EncodeMessage(message))
        << name;
  }
}

TEST(VlcnMessagesTest, DecodesWhatWsCommonEncodes) {
  const auto messages = GoldenMessages();
  for (const auto& golden : testing::ReadGolden("vlcn_messages.golden")) {
    Message decoded;
    const Status s = DecodeMessage(golden.bytes, &decoded);
    ASSERT_TRUE(s.ok()) << golden.name << ": " << s.ToString();
    if (const auto it = messages.find(golden.name); it != messages.end()) {
      EXPECT_EQ(decoded, it->second) << golden.name;
    }
  }
}

TEST(VlcnMessagesTest, BooleansDecodeAsIntegers) {
  for (const auto& golden : testing::ReadGolden("vlcn_messages.golden")) {
    if (golden.name != "changes_booleans") continue;
    Message decoded;
    ASSERT_TRUE(DecodeMessage(golden.bytes, &decoded).ok());
    const auto& changes = std::get<ChangesMessage>(decoded).changes;
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].val, Value::Integer(1));
    EXPECT_EQ(changes[1].val, Value::Integer(0));
    return;
  }
  FAIL() << "no changes_booleans case in the golden file";
}

TEST(VlcnMessagesTest, EveryTruncationIsAnErrorNamingTheField) {
  for (const auto& golden : testing::ReadGolden("vlcn_messages.golden")) {
    for (size_t length = 0; length < golden.bytes.size(); ++length) {
      Message decoded;
      const Status s = DecodeMessage(std::span(golden.bytes.data(), length), &decoded);
      EXPECT_EQ(s.code(), Status::Code::kCorruption) << golden.name << " cut at " << length;
    }
  }
  Message decoded;
  const Blob cut_in_sender = {0x02, 0x00, 0x01};
  EXPECT_EQ(DecodeMessage(cut_in_sender, &decoded).message(), "truncated message: sender at byte 1");
}

TEST(VlcnMessagesTest, RefusesTagsItDoesNotServe) {
  for (const uint8_t tag : {0, 5, 6, 9, 11, 12, 255}) {
    const Blob frame = {tag, 0, 0, 0};
    Message decoded;
    EXPECT_EQ(DecodeMessage(frame, &decoded).code(), Status::Code::kInvalidArgument) << int{tag};
  }
}

TEST(VlcnMessagesTest, RejectsNumbersBeyondWhatJavaScriptCanHold) {
  // A varuint change count of 2^53: lib0 refuses it, and so do we.
  Blob frame = {0x02};
  frame.resize(1 + 16 + 8 + 1, 0);
  for (uint8_t b : {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10}) frame.push_back(b);
  Message decoded;
  EXPECT_EQ(DecodeMessage(frame, &decoded).code(), Status::Code::kCorruption);
}

TEST(VlcnMessagesTest, CountsLargerThanTheFrameAreRejectedBeforeAllocating) {
  // Announces 2^40 last-seen entries in a 30-byte frame.
  Blob frame = {0x01};
  frame.resize(17, 0xaa);
  for (uint8_t b : {0x80, 0x80, 0x80, 0x80, 0x80, 0x20}) frame.push_back(b);
  frame.resize(30, 0);
  Message decoded;
  const Status s = DecodeMessage(frame, &decoded);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("exceeds the message"), std::string::npos) << s.message();
}

// Every change of the golden messages, and long texts and blobs: a
// message's size is its overhead and its changes' sizes.
TEST(VlcnMessagesTest, EncodedSizesAddUpToTheMessage) {
  Changeset changes = std::get<ChangesMessage>(GoldenMessages()["changes_every_value"]).changes;
  changes.push_back(TodoChange("title", Value::Text(std::string(70000, 'x')), 1, 3, Filled(1), 1, 4));
  changes.push_back(TodoChange("b", Value::BlobValue(Blob(200, 7)), 1, 3, std::nullopt, 1, -70000));
  const ChangesMessage empty{Filled(1), {INT64_MAX, INT64_MIN}, {}};
  const size_t overhead = EncodeMessage(empty).size();
  EXPECT_LE(overhead, kChangesMessageOverhead);
  for (const Change& change : changes) {
    ChangesMessage one = empty;
    one.changes = {change};
    EXPECT_EQ(EncodeMessage(one).size(), overhead + EncodedSize(change)) << change.cid << " " << change.seq;
  }
}

}  // namespace
}  // namespace crbridge
