#include "crbridge/server/mysql/binlog_position.h"

#include <gtest/gtest.h>

namespace crbridge {
using namespace crbridge::mysql;  // the dialect under test
namespace {

TEST(BinlogPositionTest, FileNumberHighPositionLow) {
  int64_t offset = 0;
  ASSERT_TRUE(EncodeBinlogOffset({"mysql-bin.000123", 4567}, &offset).ok());
  EXPECT_EQ(offset, (int64_t{123} << 32) | 4567);
  BinlogPosition back;
  ASSERT_TRUE(DecodeBinlogOffset("mysql-bin", offset, &back).ok());
  EXPECT_EQ(back.file, "mysql-bin.000123");
  EXPECT_EQ(back.position, 4567u);
}

TEST(BinlogPositionTest, OffsetsGrowAcrossFiles) {
  int64_t end_of_first = 0, start_of_next = 0;
  ASSERT_TRUE(EncodeBinlogOffset({"log.000001", 0xffffffffu}, &end_of_first).ok());
  ASSERT_TRUE(EncodeBinlogOffset({"log.000002", 4}, &start_of_next).ok());
  EXPECT_LT(end_of_first, start_of_next);
}

TEST(BinlogPositionTest, RoundTripsPastSixDigitsAndDottedBaseNames) {
  for (const char* file : {"a.b-bin.000001", "mysql-bin.999999", "mysql-bin.1000000", "x.2147483647"}) {
    const BinlogPosition position{file, 4};
    int64_t offset = 0;
    ASSERT_TRUE(EncodeBinlogOffset(position, &offset).ok()) << file;
    EXPECT_GT(offset, 0);
    const std::string name(file);
    BinlogPosition back;
    ASSERT_TRUE(DecodeBinlogOffset(name.substr(0, name.rfind('.')), offset, &back).ok());
    EXPECT_EQ(back.file, file);
    EXPECT_EQ(back.position, 4u);
  }
}

TEST(BinlogPositionTest, RefusesWhatDoesNotFit) {
  int64_t offset = 0;
  for (const BinlogPosition& bad : {BinlogPosition{"mysql-bin", 4}, BinlogPosition{"mysql-bin.", 4},
                                    BinlogPosition{"mysql-bin.00x1", 4}, BinlogPosition{"mysql-bin.-1", 4},
                                    BinlogPosition{"mysql-bin.2147483648", 4},
                                    BinlogPosition{"mysql-bin.000001", uint64_t{1} << 32}}) {
    EXPECT_EQ(EncodeBinlogOffset(bad, &offset).code(), Status::Code::kInvalidArgument) << bad.file;
  }
  BinlogPosition position;
  EXPECT_EQ(DecodeBinlogOffset("mysql-bin", -1, &position).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace crbridge
