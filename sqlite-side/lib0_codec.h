// Lib0Writer / Lib0Reader: the subset of the lib0 binary encoding that the
// vlcn sync messages use (u8, varuint, varint, big-endian i64 and f64,
// strings and byte arrays), written and read exactly as lib0 does.
// Not thread-safe; one per message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

class Lib0Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void VarUint(uint64_t v);
  void VarInt(int64_t v);
  void I64(int64_t v);
  void F64(double v);
  void Bytes(std::span<const uint8_t> bytes);
  void VarBytes(std::span<const uint8_t> bytes);
  void String(std::string_view text);

  Blob Finish() { return std::move(out_); }

 private:
  Blob out_;
};

// Each read fails with Corruption, naming `what`, when the input ends early
// or a number exceeds what lib0 accepts (2^53 - 1, JavaScript's safe
// integers); a failed reader stays failed.
class Lib0Reader {
 public:
  explicit Lib0Reader(std::span<const uint8_t> input) : input_(input) {}

  Status U8(const char* what, uint8_t* v);
  Status VarUint(const char* what, uint64_t* v);
  Status VarInt(const char* what, int64_t* v);
  Status I64(const char* what, int64_t* v);
  Status F64(const char* what, double* v);
  Status Bytes(const char* what, size_t n, std::span<const uint8_t>* v);
  Status VarBytes(const char* what, std::span<const uint8_t>* v);
  Status String(const char* what, std::string* v);

  size_t remaining() const { return input_.size() - pos_; }

 private:
  Status Truncated(const char* what) const;

  std::span<const uint8_t> input_;
  size_t pos_ = 0;
};

}  // namespace crbridge
