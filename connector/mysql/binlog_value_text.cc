#include "binlog_value_text.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "crbridge/sqlite/text_encoding.h"

namespace crbridge::mysql {
namespace {

// The latin1 collations of MySQL and MariaDB (MariaDB's NO PAD ones too).
bool IsLatin1(uint32_t charset) {
  switch (charset) {
    case 5: case 8: case 15: case 31: case 47: case 48: case 49: case 94: case 1032: case 1071:
      return true;
    default:
      return false;
  }
}

// cp1252's 0x80-0x9f; MySQL maps its five undefined bytes to the C1
// controls of the same value.
constexpr char16_t kCp1252High[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};

void AppendUtf8(char32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xe0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

// glibc's inet_ntop prints as MariaDB does: the longest run of zero groups
// (the first of equal runs) as "::", IPv4-mapped and -compatible tails
// dotted.
Status AddressText(int family, size_t size, const char* type, std::string_view bytes, std::string* text) {
  if (bytes.size() != size) {
    return Status::Corruption(std::string("an ") + type + " of " + std::to_string(bytes.size()) + " bytes");
  }
  char buffer[INET6_ADDRSTRLEN];
  if (inet_ntop(family, bytes.data(), buffer, sizeof buffer) == nullptr) {
    return Status::Corruption(std::string("an ") + type);
  }
  text->assign(buffer);
  return Status::OK();
}

}  // namespace

std::string FloatText(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", static_cast<double>(static_cast<float>(value)));
  return text;
}

std::string DoubleText(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

Status ToUtf8(std::optional<uint32_t> charset, std::string_view data, std::string* utf8) {
  if (charset && IsLatin1(*charset)) {
    utf8->clear();
    for (const char c : data) {
      const auto byte = static_cast<uint8_t>(c);
      AppendUtf8(byte >= 0x80 && byte < 0xa0 ? kCp1252High[byte - 0x80] : byte, utf8);
    }
    return Status::OK();
  }
  if (!IsUtf8(data)) {
    return Status::InvalidArgument("text in charset " + (charset ? std::to_string(*charset) : std::string("unknown")) +
                                   " that crbridge does not convert (use utf8mb4, utf8mb3, ascii or latin1)");
  }
  utf8->assign(data);
  return Status::OK();
}

Status UuidText(std::string_view record, std::string* text) {
  if (record.size() != 16) return Status::Corruption("a UUID of " + std::to_string(record.size()) + " bytes");
  // MariaDB's Type_handler_uuid: a record whose byte 6 has the top bit set
  // and byte 8 a non-zero value of the right sign was swapped on write:
  // segments time-low, time-mid, time-high, clock and node are stored in
  // reverse order. The arithmetic on signed chars is the server's own.
  const auto at = [&](size_t i) { return static_cast<signed char>(record[i]); };
  const bool swapped = (at(6) & -at(8) & 0x80) != 0;
  std::string memory(record);
  if (swapped) {
    struct Segment {
      size_t memory_pos, record_pos, length;
    };
    constexpr Segment kSegments[] = {{0, 12, 4}, {4, 10, 2}, {6, 8, 2}, {8, 6, 2}, {10, 0, 6}};
    for (const Segment& s : kSegments) memory.replace(s.memory_pos, s.length, record.substr(s.record_pos, s.length));
  }
  text->clear();
  char hex[3];
  for (size_t i = 0; i < memory.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text->push_back('-');
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(static_cast<uint8_t>(memory[i])));
    text->append(hex);
  }
  return Status::OK();
}

Status Inet6Text(std::string_view bytes, std::string* text) { return AddressText(AF_INET6, 16, "INET6", bytes, text); }

Status Inet4Text(std::string_view bytes, std::string* text) { return AddressText(AF_INET, 4, "INET4", bytes, text); }

}  // namespace crbridge::mysql
