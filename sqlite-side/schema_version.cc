#include "crbridge/sqlite/schema_version.h"

#include <cstdint>
#include <string>

namespace crbridge {
namespace {

// UTF-16 code units of UTF-8 text, as JavaScript's charCodeAt sees them.
// Invalid bytes count as U+FFFD, as TextDecoder would make them.
std::u16string Utf16(std::string_view text) {
  std::u16string out;
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<uint8_t>(text[i]);
    const int length = byte < 0x80 ? 1 : (byte >> 5) == 6 ? 2 : (byte >> 4) == 14 ? 3 : (byte >> 3) == 30 ? 4 : 0;
    uint32_t cp = 0xfffd;
    if (length == 1) {
      cp = byte;
    } else if (length > 1 && i + static_cast<size_t>(length) <= text.size()) {
      cp = byte & (0x7f >> length);
      for (int k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<uint8_t>(text[i + static_cast<size_t>(k)]) & 0x3f);
    }
    i += length == 0 ? 1 : static_cast<size_t>(length);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xd800 + (cp >> 10));
      out += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

// Math.imul: 32-bit multiplication, wrapping.
uint32_t Imul(uint32_t a, uint32_t b) { return a * b; }

}  // namespace

int64_t SchemaVersion(std::string_view schema_text) {
  uint32_t h1 = 0xdeadbeef;
  uint32_t h2 = 0x41c6ce57;
  for (const char16_t unit : Utf16(schema_text)) {
    h1 = Imul(h1 ^ unit, 2654435761u);
    h2 = Imul(h2 ^ unit, 1597334677u);
  }
  h1 = Imul(h1 ^ (h1 >> 16), 2246822507u);
  h1 ^= Imul(h2 ^ (h2 >> 13), 3266489909u);
  h2 = Imul(h2 ^ (h2 >> 16), 2246822507u);
  h2 ^= Imul(h1 ^ (h1 >> 13), 3266489909u);
  // 2^32 * h2 + h1 with both halves signed, as the BigInt arithmetic does,
  // wrapped to 64 bits as the wire's i64 carries it.
  const auto high = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(h2)));
  const auto low = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(h1)));
  return static_cast<int64_t>((high << 32) + low);
}

}  // namespace crbridge
