// The golden events of tests/data/binlog/ (captured from the MariaDB
// fixture by binlog_golden_test, see binlog_golden.h) decode byte for byte
// to the rows the server printed, without a server.
#include <gtest/gtest.h>

#include <fstream>

#include "golden/binlog_golden.h"
#include "golden/golden_file.h"

namespace crbridge::testing {
namespace {

std::vector<std::string> GoldenEvents() {
  std::vector<std::string> events;
  for (const GoldenCase& golden : ReadGolden("binlog/every_type.golden")) {
    events.emplace_back(golden.bytes.begin(), golden.bytes.end());
  }
  return events;
}

TEST(BinlogGoldenEventsTest, EveryTypeDecodesToTheServersValues) {
  std::ifstream in(std::string(CRBRIDGE_SOURCE_DIR) + "/tests/data/binlog/every_type.expected");
  ASSERT_TRUE(in) << "cannot read tests/data/binlog/every_type.expected";
  std::vector<std::string> expected;
  for (std::string line; std::getline(in, line);) expected.push_back(line);
  const std::vector<std::string> decoded = RenderBinlogRows(GoldenEvents());
  ASSERT_EQ(decoded.size(), expected.size());
  for (size_t i = 0; i < decoded.size(); ++i) EXPECT_EQ(decoded[i], expected[i]) << "line " << i + 1;
}

TEST(BinlogGoldenEventsTest, EveryEventDecodes) {
  for (const std::string& bytes : GoldenEvents()) {
    BinlogEvent event;
    const Status s = DecodeBinlogEvent(bytes, BinlogChecksum::kCrc32, &event);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

// MariaDB 10.11 writes the empty GTID list that opens a server's first
// binlog file with 2 zero bytes after the count (was Corruption).
TEST(BinlogGoldenEventsTest, PaddedEmptyGtidListDecodes) {
  int padded = 0;
  for (const std::string& bytes : GoldenEvents()) {
    BinlogEvent event;
    ASSERT_TRUE(DecodeBinlogEvent(bytes, BinlogChecksum::kCrc32, &event).ok());
    const auto* list = std::get_if<BinlogMariaDbGtidList>(&event.data);
    if (list == nullptr || bytes.size() != kBinlogEventHeaderSize + 4 + 2 + kBinlogChecksumSize) continue;
    EXPECT_TRUE(list->positions.empty());
    ++padded;
  }
  EXPECT_EQ(padded, 1);
}

}  // namespace
}  // namespace crbridge::testing
