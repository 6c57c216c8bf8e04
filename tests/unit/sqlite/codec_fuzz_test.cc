// Random and damaged input to both decoders: no crash, no read outside the
// input (run under ASan), and whatever decodes re-encodes to a message that
// decodes to the same thing.
#include <gtest/gtest.h>

#include <random>

#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/vlcn_messages.h"
#include "golden/golden_file.h"

namespace crbridge {
namespace {

constexpr int kCasesPerDecoder = 120000;

// Exact-size heap copies, so that ASan catches any read past the end.
std::unique_ptr<uint8_t[]> ExactCopy(const Blob& bytes) {
  auto copy = std::make_unique<uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), copy.get());
  return copy;
}

// A golden frame with a few bytes flipped, cut short, or extended.
Blob Damage(const Blob& original, std::mt19937_64& random) {
  Blob bytes = original;
  switch (random() % 4) {
    case 0:
      for (int i = 0, n = 1 + static_cast<int>(random() % 4); i < n && !bytes.empty(); ++i) {
        bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
      }
      break;
    case 1:
      bytes.resize(bytes.empty() ? 0 : random() % bytes.size());
      break;
    case 2:
      for (int i = 0, n = 1 + static_cast<int>(random() % 8); i < n; ++i) bytes.push_back(static_cast<uint8_t>(random()));
      break;
    default:
      if (!bytes.empty()) bytes[random() % bytes.size()] ^= static_cast<uint8_t>(1u << (random() % 8));
  }
  return bytes;
}

Blob RandomBytes(std::mt19937_64& random) {
  Blob bytes(random() % 64);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(random());
  return bytes;
}

TEST(CodecFuzzTest, MessageDecoderSurvivesRandomAndDamagedFrames) {
  std::mt19937_64 random(20261124);
  const auto golden = testing::ReadGolden("vlcn_messages.golden");
  int decoded_ok = 0;
  for (int i = 0; i < kCasesPerDecoder; ++i) {
    Blob frame = i % 3 == 0 ? RandomBytes(random) : Damage(golden[random() % golden.size()].bytes, random);
    if (i % 3 == 0 && !frame.empty()) frame[0] = static_cast<uint8_t>(1 + random() % 10);  // a plausible tag
    const auto copy = ExactCopy(frame);
    Message message;
    if (!DecodeMessage(std::span(copy.get(), frame.size()), &message).ok()) continue;
    ++decoded_ok;
    // Compared as bytes: values may be NaN, which never equals itself.
    const Blob encoded = EncodeMessage(message);
    Message again;
    ASSERT_TRUE(DecodeMessage(encoded, &again).ok());
    ASSERT_EQ(EncodeMessage(again), encoded);
  }
  // Damaged frames still decode often enough for the round trip to be exercised.
  EXPECT_GT(decoded_ok, kCasesPerDecoder / 20);
}

TEST(CodecFuzzTest, PackedPkDecoderSurvivesRandomAndDamagedKeys) {
  std::mt19937_64 random(42);
  const auto golden = testing::ReadGolden("packed_pk.golden");
  int decoded_ok = 0;
  for (int i = 0; i < kCasesPerDecoder; ++i) {
    Blob key = i % 3 == 0 ? RandomBytes(random) : Damage(golden[random() % golden.size()].bytes, random);
    const auto copy = ExactCopy(key);
    std::vector<Value> columns;
    if (!DecodePackedPk(std::span(copy.get(), key.size()), &columns).ok()) continue;
    ++decoded_ok;
    Blob reencoded;
    ASSERT_TRUE(EncodePackedPk(columns, &reencoded).ok());
    std::vector<Value> again;
    ASSERT_TRUE(DecodePackedPk(reencoded, &again).ok());
    ASSERT_EQ(again.size(), columns.size());
    for (size_t c = 0; c < columns.size(); ++c) ASSERT_EQ(CompareForMerge(again[c], columns[c]), std::strong_ordering::equal);
  }
  EXPECT_GT(decoded_ok, kCasesPerDecoder / 20);
}

}  // namespace
}  // namespace crbridge
