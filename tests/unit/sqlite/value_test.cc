#include "crbridge/sqlite/value.h"

#include <gtest/gtest.h>

#include <cmath>

namespace crbridge {
namespace {

// Each value is less than every value after it in cr-sqlite's order.
TEST(ValueTest, MergeOrderIsStorageClassThenValue) {
  const Value ascending[] = {
      Value::Null(),
      Value::BlobValue({}),
      Value::BlobValue({0x00}),
      Value::BlobValue({0x00, 0x00}),
      Value::BlobValue({0xff}),
      Value::Text(""),
      Value::Text("A"),
      Value::Text("a"),
      Value::Text("ab"),
      Value::Text("\xc3\xa9"),
      Value::Float(-1e300),
      Value::Float(-0.5),
      Value::Float(5.5),
      Value::Float(1e300),
      Value::Integer(INT64_MIN),
      Value::Integer(-1),
      Value::Integer(0),
      Value::Integer(5),
      Value::Integer(INT64_MAX),
  };
  for (size_t i = 0; i < std::size(ascending); ++i) {
    EXPECT_EQ(CompareForMerge(ascending[i], ascending[i]), std::strong_ordering::equal) << ascending[i].ToSql();
    for (size_t j = i + 1; j < std::size(ascending); ++j) {
      EXPECT_EQ(CompareForMerge(ascending[i], ascending[j]), std::strong_ordering::less)
          << ascending[i].ToSql() << " < " << ascending[j].ToSql();
      EXPECT_EQ(CompareForMerge(ascending[j], ascending[i]), std::strong_ordering::greater);
    }
  }
}

TEST(ValueTest, IntegerFiveBeatsFloatFiveAndAHalf) {
  EXPECT_TRUE(CompareForMerge(Value::Integer(5), Value::Float(5.5)) > 0);
  EXPECT_TRUE(CompareForMerge(Value::Float(0.0), Value::Text("zzz")) > 0);
}

TEST(ValueTest, NanSortsBelowNumbersSoTheOrderStaysTotal) {
  const Value nan = Value::Float(std::nan(""));
  EXPECT_TRUE(CompareForMerge(nan, Value::Float(-1e308)) < 0);
  EXPECT_EQ(CompareForMerge(nan, nan), std::strong_ordering::equal);
}

TEST(ValueTest, SqlLiterals) {
  EXPECT_EQ(Value::Null().ToSql(), "NULL");
  EXPECT_EQ(Value::Integer(-42).ToSql(), "-42");
  EXPECT_EQ(Value::Float(1.5).ToSql(), "1.5");
  EXPECT_EQ(Value::Text("it's").ToSql(), "'it''s'");
  EXPECT_EQ(Value::BlobValue({0x01, 0xff}).ToSql(), "X'01FF'");
}

}  // namespace
}  // namespace crbridge
