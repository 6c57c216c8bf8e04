// WireCursor: bounds-checked reads through one message or event of a
// replication protocol (pgoutput and the replication stream's framing,
// the MySQL/MariaDB binlog), shared by their decoders. Every read checks
// its length against what is left, so that no input makes a decoder read
// outside the given bytes; errors name the protocol, the unit and the
// field: "binlog: truncated TABLE_MAP event (column types)". Private to
// connector/. Not thread-safe: one cursor per decode call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

class WireCursor {
 public:
  // `protocol` ("pgoutput", "binlog"), `name` ("Relation", "TABLE_MAP")
  // and `unit` ("message", "event") name the input in errors.
  WireCursor(std::string_view input, const char* protocol, const char* name, const char* unit)
      : input_(input), protocol_(protocol), name_(name), unit_(unit) {}

  // `width` (1 to 8) bytes, most significant first.
  Status BigEndian(const char* field, size_t width, uint64_t* value) {
    if (remaining() < width) return Truncated(field);
    uint64_t result = 0;
    for (size_t i = 0; i < width; ++i) result = (result << 8) | static_cast<uint8_t>(input_[position_ + i]);
    position_ += width;
    *value = result;
    return Status::OK();
  }

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

  Status Bytes(const char* field, size_t size, std::string_view* bytes) {
    if (remaining() < size) return Truncated(field);
    *bytes = input_.substr(position_, size);
    position_ += size;
    return Status::OK();
  }

  // Bytes up to a NUL, which is read too.
  Status Terminated(const char* field, std::string_view* bytes) {
    const size_t end = input_.find('\0', position_);
    if (end == std::string_view::npos) return Truncated(field);
    *bytes = input_.substr(position_, end - position_);
    position_ = end + 1;
    return Status::OK();
  }

  // What is left, which is then read.
  std::string_view Rest() {
    const std::string_view rest = input_.substr(position_);
    position_ = input_.size();
    return rest;
  }

  size_t remaining() const { return input_.size() - position_; }

  // Messages and events have fixed layouts or say how long they are, so
  // bytes after what was read mean it was misread.
  Status ExpectEnd() const {
    if (remaining() == 0) return Status::OK();
    return Status::Corruption(std::string(protocol_) + ": " + name_ + " " + unit_ + " has " +
                              std::to_string(remaining()) + " extra bytes at its end");
  }

  Status Truncated(const char* field) const {
    return Status::Corruption(std::string(protocol_) + ": truncated " + name_ + " " + unit_ + " (" + field + ")");
  }
  Status Malformed(const std::string& what) const {
    return Status::Corruption(std::string(protocol_) + ": " + what + " in " + name_ + " " + unit_);
  }

 private:
  std::string_view input_;
  size_t position_ = 0;
  const char* protocol_;
  const char* name_;
  const char* unit_;
};

}  // namespace crbridge
