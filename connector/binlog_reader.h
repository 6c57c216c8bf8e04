// BinlogReader: bounds-checked reads of the MySQL/MariaDB binlog's wire
// types (little-endian integers, length-encoded integers and strings), for
// the event and row decoders. Private to connector/. Not thread-safe: one
// reader per decode call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

// Every read checks its length against what is left, so that no input makes
// it read outside the given bytes. Errors name the event and the field:
// "binlog: truncated TABLE_MAP event (column types)".
class BinlogReader {
 public:
  BinlogReader(std::string_view input, const char* event_name) : input_(input), event_name_(event_name) {}

  Status U8(const char* field, uint8_t* value) { return LittleEndian(field, 1, value); }
  Status U16(const char* field, uint16_t* value) { return LittleEndian(field, 2, value); }
  Status U32(const char* field, uint32_t* value) { return LittleEndian(field, 4, value); }
  Status U64(const char* field, uint64_t* value) { return LittleEndian(field, 8, value); }

  // `width` (1 to 8) bytes, least significant first.
  template <typename Integer>
  Status LittleEndian(const char* field, size_t width, Integer* value) {
    if (remaining() < width) return Truncated(field);
    uint64_t result = 0;
    for (size_t i = width; i-- > 0;) result = (result << 8) | static_cast<uint8_t>(input_[position_ + i]);
    position_ += width;
    *value = static_cast<Integer>(result);
    return Status::OK();
  }

  // `width` (1 to 8) bytes, most significant first: the row format of
  // DECIMAL, BIT and the temporal types.
  Status BigEndian(const char* field, size_t width, uint64_t* value) {
    if (remaining() < width) return Truncated(field);
    uint64_t result = 0;
    for (size_t i = 0; i < width; ++i) result = (result << 8) | static_cast<uint8_t>(input_[position_ + i]);
    position_ += width;
    *value = result;
    return Status::OK();
  }

  Status Bytes(const char* field, size_t size, std::string_view* bytes) {
    if (remaining() < size) return Truncated(field);
    *bytes = input_.substr(position_, size);
    position_ += size;
    return Status::OK();
  }

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
    if (length > remaining()) return Truncated(field);
    return Bytes(field, static_cast<size_t>(length), bytes);
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

  std::string_view Rest() {
    std::string_view rest = input_.substr(position_);
    position_ = input_.size();
    return rest;
  }
  size_t remaining() const { return input_.size() - position_; }

  // Each event says how long it is, so bytes after what we read mean we
  // misread it.
  Status ExpectEnd() const {
    if (remaining() == 0) return Status::OK();
    return Status::Corruption(std::string("binlog: ") + event_name_ + " event has " + std::to_string(remaining()) +
                              " extra bytes at its end");
  }

  Status Truncated(const char* field) const {
    return Status::Corruption(std::string("binlog: truncated ") + event_name_ + " event (" + field + ")");
  }
  Status Malformed(const std::string& what) const {
    return Status::Corruption(std::string("binlog: ") + what + " in " + event_name_ + " event");
  }

 private:
  std::string_view input_;
  size_t position_ = 0;
  const char* event_name_;
};

}  // namespace crbridge
