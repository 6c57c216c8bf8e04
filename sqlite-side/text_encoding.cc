#include "crbridge/sqlite/text_encoding.h"

#include <algorithm>

namespace crbridge {

std::string EncodeBase64(std::span<const uint8_t> bytes, bool padded) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const uint8_t c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += kAlphabet[(bits >> count) & 63];
    }
  }
  if (count > 0) out += kAlphabet[(bits << (6 - count)) & 63];
  while (padded && out.size() % 4 != 0) out += '=';
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '+') value = 62;
    if (c == '/') value = 63;
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  if (count >= 6) return std::nullopt;  // a dangling sextet: not base64
  return out;
}

std::string EncodeHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

namespace {

// The length of the well-formed UTF-8 sequence at the start of `text` and
// its code point; 0 when the bytes there are not one.
size_t Utf8SequenceAt(std::string_view text, char32_t* code) {
  const auto lead = static_cast<uint8_t>(text[0]);
  size_t length = 0;
  if (lead < 0x80) {
    *code = lead;
    return 1;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, *code = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, *code = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, *code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto next = static_cast<uint8_t>(text[k]);
    if ((next & 0xc0) != 0x80) return 0;
    *code = (*code << 6) | (next & 0x3f);
  }
  constexpr char32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (*code < kSmallest[length] || *code > 0x10ffff || (*code >= 0xd800 && *code <= 0xdfff)) return 0;
  return length;
}

}  // namespace

bool IsUtf8(std::string_view text) {
  while (!text.empty()) {
    char32_t code = 0;
    const size_t length = Utf8SequenceAt(text, &code);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

std::string EscapeUnprintable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t code = 0;
    size_t length = Utf8SequenceAt(text, &code);
    if (length == 1 && (code == '\\' || code == '\n' || code == '\r' || code == '\t')) {
      out += code == '\\' ? "\\\\" : code == '\n' ? "\\n" : code == '\r' ? "\\r" : "\\t";
    } else if (length > 0 && code >= 0x20 && code != 0x7f && !(code >= 0x80 && code < 0xa0)) {
      out.append(text.substr(0, length));
    } else {
      // A control character's bytes, or one byte of what is not UTF-8.
      length = std::max<size_t>(length, 1);
      for (size_t k = 0; k < length; ++k) {
        const auto byte = static_cast<uint8_t>(text[k]);
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 15];
      }
    }
    text.remove_prefix(length);
  }
  return out;
}

}  // namespace crbridge
