#include "crbridge/connector/mysql/mysql_gtid_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace crbridge::mysql {
namespace {

MysqlGtidSet Parsed(const std::string& text) {
  MysqlGtidSet set;
  const Status parsed = MysqlGtidSet::Parse(text, &set);
  EXPECT_TRUE(parsed.ok()) << parsed.ToString();
  return set;
}

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += digits[static_cast<uint8_t>(c) >> 4];
    out += digits[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

const char* const kA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const char* const kB = "de278ad0-2106-11e4-9f8e-6edd0ca20947";
constexpr MysqlGtidSet::Uuid kAUuid = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                       0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};

TEST(MysqlGtidSetTest, PrintsAsMysqlDoes) {
  EXPECT_EQ(Parsed("").ToString(), "");
  // As SHOW BINARY LOG STATUS prints it: a newline after each comma.
  EXPECT_EQ(Parsed(std::string(kB) + ":1-5,\n" + kA + ":1-3:7").ToString(), std::string(kA) + ":1-3:7," + kB + ":1-5");
  // Ranges that overlap or touch are one; a uuid named twice is one.
  EXPECT_EQ(Parsed(std::string(kA) + ":4-6:1-3:9," + kA + ":8:20:7").ToString(), std::string(kA) + ":1-9:20");
  // Tags (MySQL 8.3+) apply to the ranges after them; untagged ranges first.
  EXPECT_EQ(Parsed(std::string(kB) + ":1-2:mytag:1-10:12-14:16:18-20").ToString(),
            std::string(kB) + ":1-2:mytag:1-10:12-14:16:18-20");
  EXPECT_EQ(Parsed(std::string(kB) + ":mytag:5," + kB + ":1-2").ToString(), std::string(kB) + ":1-2:mytag:5");
  EXPECT_EQ(Parsed(std::string(kA) + ":Upper_Tag:3").ToString(), std::string(kA) + ":upper_tag:3");
}

TEST(MysqlGtidSetTest, AddingJoinsRanges) {
  MysqlGtidSet set = Parsed(std::string(kA) + ":1-3:5");
  set.Add(kAUuid, "", 4);
  EXPECT_EQ(set.ToString(), std::string(kA) + ":1-5");
  set.Add(kAUuid, "", 7);
  set.Add(kAUuid, "t", 1);
  set.Add(kAUuid, "", 3);  // already in
  EXPECT_EQ(set.ToString(), std::string(kA) + ":1-5:7:t:1");
  EXPECT_TRUE(set.Contains(kAUuid, "", 5));
  EXPECT_FALSE(set.Contains(kAUuid, "", 6));
  EXPECT_TRUE(set.Contains(kAUuid, "t", 1));
  EXPECT_FALSE(set.Contains(kAUuid, "u", 1));
}

TEST(MysqlGtidSetTest, RefusesWhatIsNotAGtidSet) {
  MysqlGtidSet set;
  const std::string a = kA;
  for (const std::string& text : std::vector<std::string>{"0-1-97", "3e11fa47:1", a + ":0", a + ":5-3", a + ":1-x",
                                                          a + ":9tag:1", a + ":1,"}) {
    const Status parsed = MysqlGtidSet::Parse(text, &set);
    EXPECT_EQ(parsed.code(), Status::Code::kInvalidArgument) << text;
  }
}

// COM_BINLOG_DUMP_GTID's bytes, checked against a capture of MySQL 8.4's
// own replica protocol (go-mysql's TestMysqlGTIDSet, from Wireshark).
TEST(MysqlGtidSetTest, EncodesAsTheDumpCommandCarriesIt) {
  const std::string uuid = "de278ad0210611e49f8e6edd0ca20947";
  const auto u64 = [](uint64_t value) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += Hex(std::string(1, static_cast<char>((value >> (8 * i)) & 0xff)));
    return out;
  };
  EXPECT_EQ(Hex(Parsed(std::string(kB) + ":1-2:mytag:1-10:12-14:16:18-20").Encode()),
            "0102000000000001" + uuid + "00" + u64(1) + u64(1) + u64(3) + uuid + "0a" + Hex("mytag") + u64(4) +
                u64(1) + u64(11) + u64(12) + u64(15) + u64(16) + u64(17) + u64(18) + u64(21));
  // Without tags, the count alone and no tag bytes.
  EXPECT_EQ(Hex(Parsed(std::string(kB) + ":1-2").Encode()), u64(1) + uuid + u64(1) + u64(1) + u64(3));
  EXPECT_EQ(Hex(Parsed("").Encode()), u64(0));
}

}  // namespace
}  // namespace crbridge::mysql
