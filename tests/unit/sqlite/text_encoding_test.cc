// UTF-8 checks and text made safe to show (text_encoding.h): what logs,
// error messages and /readyz print of values clients and servers send.
#include "crbridge/sqlite/text_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace crbridge {
namespace {

TEST(TextEncodingTest, Utf8IsCheckedStrictly) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("plain"));
  EXPECT_TRUE(IsUtf8("h\xc3\xa9llo \xf0\x9f\x8e\x89"));
  EXPECT_TRUE(IsUtf8(std::string("a\0b", 3)));  // NUL is UTF-8; servers may still refuse it
  EXPECT_FALSE(IsUtf8("\xff"));
  EXPECT_FALSE(IsUtf8("\xc3"));              // cut short
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(TextEncodingTest, UnprintableBytesAreEscapedAndTheRestKept) {
  EXPECT_EQ(EscapeUnprintable("plain h\xc3\xa9llo \xf0\x9f\x8e\x89"), "plain h\xc3\xa9llo \xf0\x9f\x8e\x89");
  EXPECT_EQ(EscapeUnprintable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeUnprintable("bad \xff\xfe end"), "bad \\xff\\xfe end");
  EXPECT_EQ(EscapeUnprintable("cut \xc3"), "cut \\xc3");
  EXPECT_EQ(EscapeUnprintable("line\nbreak\ttab\r\x7f"), "line\\nbreak\\ttab\\r\\x7f");
  EXPECT_EQ(EscapeUnprintable("c1 \xc2\x85"), "c1 \\xc2\\x85");  // U+0085, a control character
  EXPECT_EQ(EscapeUnprintable("back\\slash"), "back\\\\slash");
  // Whatever the input, the output is printable UTF-8.
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  const std::string escaped = EscapeUnprintable(every_byte);
  EXPECT_TRUE(IsUtf8(escaped));
  for (const char c : escaped) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

}  // namespace
}  // namespace crbridge
