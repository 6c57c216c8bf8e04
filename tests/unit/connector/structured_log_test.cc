#include "crbridge/connector/ops/structured_log.h"

#include <gtest/gtest.h>

namespace crbridge::log {
namespace {

TEST(StructuredLogTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(QuoteValue("plain"), "plain");
  EXPECT_EQ(QuoteValue("127.0.0.1:8080"), "127.0.0.1:8080");
  EXPECT_EQ(QuoteValue(""), "\"\"");
  EXPECT_EQ(QuoteValue("two words"), "\"two words\"");
  EXPECT_EQ(QuoteValue("a=b"), "\"a=b\"");
  EXPECT_EQ(QuoteValue("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(QuoteValue("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(QuoteValue("line\nbreak\ttab\x01"), "\"line\\nbreak\\ttab\\x01\"");
}

// Values clients and servers send reach the log: raw bytes never do.
TEST(StructuredLogTest, BytesThatAreNotPrintableUtf8AreEscaped) {
  EXPECT_EQ(QuoteValue("h\xc3\xa9llo"), "h\xc3\xa9llo");
  EXPECT_EQ(QuoteValue(std::string("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(QuoteValue("bad\xff\xfe"), "\"bad\\xff\\xfe\"");
  EXPECT_EQ(QuoteValue("del\x7f"), "\"del\\x7f\"");
  static constexpr char kRaw[] = "todos.title: 'x\xff\0y'";
  const std::string record = FormatRecord("sync", "changes refused", {{"error", std::string(kRaw, sizeof kRaw - 1)}});
  EXPECT_EQ(record, "component=sync msg=\"changes refused\" error=\"todos.title: 'x\\xff\\x00y'\"");
}

TEST(StructuredLogTest, RecordHasComponentMessageAndFieldsInOrder) {
  EXPECT_EQ(FormatRecord("http", "listening", {{"address", "127.0.0.1:8080"}, {"clients", 3}}),
            "component=http msg=listening address=127.0.0.1:8080 clients=3");
  EXPECT_EQ(FormatRecord("source", "database unreachable", {{"error", "connection refused"}}),
            "component=source msg=\"database unreachable\" error=\"connection refused\"");
}

}  // namespace
}  // namespace crbridge::log
