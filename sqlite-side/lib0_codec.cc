#include "lib0_codec.h"

#include <bit>
#include <cstring>

namespace crbridge {
namespace {
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;
}

void Lib0Writer::VarUint(uint64_t v) {
  while (v > 0x7f) {
    out_.push_back(static_cast<uint8_t>(0x80 | (v & 0x7f)));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void Lib0Writer::VarInt(int64_t v) {
  const bool negative = v < 0;
  uint64_t magnitude = negative ? ~static_cast<uint64_t>(v) + 1 : static_cast<uint64_t>(v);
  out_.push_back(static_cast<uint8_t>((magnitude > 0x3f ? 0x80 : 0) | (negative ? 0x40 : 0) | (magnitude & 0x3f)));
  magnitude >>= 6;
  while (magnitude > 0) {
    out_.push_back(static_cast<uint8_t>((magnitude > 0x7f ? 0x80 : 0) | (magnitude & 0x7f)));
    magnitude >>= 7;
  }
}

void Lib0Writer::I64(int64_t v) {
  const auto bits = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(bits >> shift));
}

void Lib0Writer::F64(double v) { I64(std::bit_cast<int64_t>(v)); }

void Lib0Writer::Bytes(std::span<const uint8_t> bytes) {
  // resize + memcpy rather than insert: GCC 12 misreports insert after
  // push_back as out of bounds (-Warray-bounds) at -O2.
  const size_t at = out_.size();
  out_.resize(at + bytes.size());
  if (!bytes.empty()) std::memcpy(out_.data() + at, bytes.data(), bytes.size());
}

void Lib0Writer::VarBytes(std::span<const uint8_t> bytes) {
  VarUint(bytes.size());
  Bytes(bytes);
}

void Lib0Writer::String(std::string_view text) {
  VarUint(text.size());
  Bytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status Lib0Reader::Truncated(const char* what) const {
  return Status::Corruption(std::string("truncated message: ") + what + " at byte " + std::to_string(pos_));
}

Status Lib0Reader::U8(const char* what, uint8_t* v) {
  if (remaining() < 1) return Truncated(what);
  *v = input_[pos_++];
  return Status::OK();
}

Status Lib0Reader::VarUint(const char* what, uint64_t* v) {
  uint64_t value = 0;
  for (int shift = 0; pos_ < input_.size(); shift += 7) {
    const uint8_t byte = input_[pos_++];
    if (shift > 53) return Status::Corruption(std::string(what) + ": number out of range");
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (value > kMaxSafeInteger) return Status::Corruption(std::string(what) + ": number out of range");
    if (byte < 0x80) {
      *v = value;
      return Status::OK();
    }
  }
  return Truncated(what);
}

Status Lib0Reader::VarInt(const char* what, int64_t* v) {
  uint8_t first = 0;
  if (Status s = U8(what, &first); !s.ok()) return s;
  uint64_t magnitude = first & 0x3f;
  const bool negative = (first & 0x40) != 0;
  if (first & 0x80) {
    uint64_t rest = 0;
    if (Status s = VarUint(what, &rest); !s.ok()) return s;
    if (rest > (kMaxSafeInteger >> 6)) return Status::Corruption(std::string(what) + ": number out of range");
    magnitude |= rest << 6;
  }
  *v = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return Status::OK();
}

Status Lib0Reader::I64(const char* what, int64_t* v) {
  if (remaining() < 8) return Truncated(what);
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | input_[pos_++];
  *v = static_cast<int64_t>(bits);
  return Status::OK();
}

Status Lib0Reader::F64(const char* what, double* v) {
  int64_t bits = 0;
  if (Status s = I64(what, &bits); !s.ok()) return s;
  *v = std::bit_cast<double>(bits);
  return Status::OK();
}

Status Lib0Reader::Bytes(const char* what, size_t n, std::span<const uint8_t>* v) {
  if (remaining() < n) return Truncated(what);
  *v = input_.subspan(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status Lib0Reader::VarBytes(const char* what, std::span<const uint8_t>* v) {
  uint64_t n = 0;
  if (Status s = VarUint(what, &n); !s.ok()) return s;
  return Bytes(what, n, v);
}

Status Lib0Reader::String(const char* what, std::string* v) {
  std::span<const uint8_t> bytes;
  if (Status s = VarBytes(what, &bytes); !s.ok()) return s;
  v->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return Status::OK();
}

}  // namespace crbridge
