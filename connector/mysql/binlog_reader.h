// BinlogReader: bounds-checked reads of the MySQL/MariaDB binlog's wire
// types, for the event and row decoders. Private to connector/. Not
// thread-safe: one reader per decode call.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"
#include "crbridge/connector/capture/wire_cursor.h"

namespace crbridge::mysql {

// Appends `value` as the protocol's `bytes`-byte little-endian integer (the
// dump commands' arguments crbridge writes).
inline void AppendLittleEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// The binlog's little-endian integers and MySQL's length-encoded integers
// and strings on a WireCursor. Errors name the event and the field:
// "binlog: truncated TABLE_MAP event (column types)".
class BinlogReader : public WireCursor {
 public:
  BinlogReader(std::string_view input, const char* event_name) : WireCursor(input, "binlog", event_name, "event") {}

  Status U8(const char* field, uint8_t* value) { return LittleEndian(field, 1, value); }
  Status U16(const char* field, uint16_t* value) { return LittleEndian(field, 2, value); }
  Status U32(const char* field, uint32_t* value) { return LittleEndian(field, 4, value); }
  Status U64(const char* field, uint64_t* value) { return LittleEndian(field, 8, value); }

  // MySQL's length-encoded integer: below 0xfb one byte, else a marker
  // (0xfc, 0xfd, 0xfe) and 2, 3 or 8 bytes. 0xfb (NULL in result sets) and
  // 0xff do not occur in the binlog.
  Status LengthEncoded(const char* field, uint64_t* value) {
    uint8_t first = 0;
    CRBRIDGE_RETURN_IF_ERROR(U8(field, &first));
    switch (first) {
      case 0xfc:
        return LittleEndian(field, 2, value);
      case 0xfd:
        return LittleEndian(field, 3, value);
      case 0xfe:
        return LittleEndian(field, 8, value);
      case 0xfb:
      case 0xff:
        return Malformed(std::string("invalid length-encoded integer in ") + field);
      default:
        *value = first;
        return Status::OK();
    }
  }

  // A length-encoded count of items that take at least `min_item_size`
  // bytes each: a count the rest of the input cannot hold is a truncation,
  // caught before anything is allocated for it.
  Status Count(const char* field, size_t min_item_size, size_t* count) {
    uint64_t raw = 0;
    CRBRIDGE_RETURN_IF_ERROR(LengthEncoded(field, &raw));
    if (raw > remaining() / min_item_size) return Truncated(field);
    *count = static_cast<size_t>(raw);
    return Status::OK();
  }

  // A length-encoded length, then that many bytes.
  Status LengthEncodedBytes(const char* field, std::string_view* bytes) {
    uint64_t length = 0;
    CRBRIDGE_RETURN_IF_ERROR(LengthEncoded(field, &length));
    return Bytes(field, static_cast<size_t>(length), bytes);
  }

  // An unsigned integer of MySQL's serialization library (tagged GTID
  // events, MySQL 8.3+): the first byte's trailing one bits, plus one, are
  // the integer's size in bytes (9 for 57 to 64 bits), the value's bits
  // follow them, little-endian.
  Status Varlen(const char* field, uint64_t* value) {
    uint8_t first = 0;
    CRBRIDGE_RETURN_IF_ERROR(U8(field, &first));
    const int size = std::countr_one(first) + 1;
    uint64_t rest = 0;
    if (size > 1) CRBRIDGE_RETURN_IF_ERROR(LittleEndian(field, static_cast<size_t>(size - 1), &rest));
    const int shift = 8 - size + ((size + 7) >> 4);
    *value = (size >= 8 ? 0 : static_cast<uint64_t>(first) >> size) | (rest << shift);
    return Status::OK();
  }

  // The same for a signed integer (zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3).
  Status SignedVarlen(const char* field, int64_t* value) {
    uint64_t zigzag = 0;
    CRBRIDGE_RETURN_IF_ERROR(Varlen(field, &zigzag));
    *value = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
    return Status::OK();
  }

  // A one-byte length, that many bytes, then a NUL (database and table
  // names in TABLE_MAP).
  Status NameWithTerminator(const char* field, std::string* name) {
    uint8_t length = 0;
    std::string_view bytes;
    CRBRIDGE_RETURN_IF_ERROR(U8(field, &length));
    CRBRIDGE_RETURN_IF_ERROR(Bytes(field, length, &bytes));
    uint8_t terminator = 0;
    CRBRIDGE_RETURN_IF_ERROR(U8(field, &terminator));
    if (terminator != 0) return Malformed(std::string(field) + " not NUL-terminated");
    name->assign(bytes);
    return Status::OK();
  }

};

}  // namespace crbridge::mysql
