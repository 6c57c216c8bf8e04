#include "crbridge/sqlite/packed_pk.h"

#include <bit>
#include <cstring>
#include <string>

namespace crbridge {
namespace {

// Bytes needed for a non-negative value: 0 for 0, else the fewest that hold it.
int UnsignedWidth(uint64_t value) { return (std::bit_width(value) + 7) / 8; }

void AppendBigEndian(uint64_t value, int width, Blob* out) {
  for (int i = width - 1; i >= 0; --i) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void AppendTyped(StorageClass type, int width, Blob* out) {
  out->push_back(static_cast<uint8_t>((width << 3) | static_cast<int>(type)));
}

template <typename Bytes>
void AppendLengthPrefixed(StorageClass type, const Bytes& bytes, Blob* out) {
  const int width = UnsignedWidth(bytes.size());
  AppendTyped(type, width, out);
  AppendBigEndian(bytes.size(), width, out);
  out->insert(out->end(), bytes.begin(), bytes.end());
}

}  // namespace

Status EncodePackedPk(std::span<const Value> columns, Blob* out) {
  if (columns.size() > 255) return Status::InvalidArgument("a primary key has at most 255 columns");
  Blob packed;
  packed.push_back(static_cast<uint8_t>(columns.size()));
  for (const Value& v : columns) {
    switch (v.storage_class()) {
      case StorageClass::kNull:
        AppendTyped(StorageClass::kNull, 0, &packed);
        break;
      case StorageClass::kInteger: {
        const int64_t n = v.integer();
        const int width = n < 0 ? 8 : UnsignedWidth(static_cast<uint64_t>(n));
        AppendTyped(StorageClass::kInteger, width, &packed);
        AppendBigEndian(static_cast<uint64_t>(n), width, &packed);
        break;
      }
      case StorageClass::kFloat:
        AppendTyped(StorageClass::kFloat, 0, &packed);
        AppendBigEndian(std::bit_cast<uint64_t>(v.real()), 8, &packed);
        break;
      case StorageClass::kText:
        AppendLengthPrefixed(StorageClass::kText, v.text(), &packed);
        break;
      case StorageClass::kBlob:
        AppendLengthPrefixed(StorageClass::kBlob, v.blob(), &packed);
        break;
    }
  }
  *out = std::move(packed);
  return Status::OK();
}

Status DecodePackedPk(std::span<const uint8_t> bytes, std::vector<Value>* columns) {
  if (bytes.empty()) return Status::Corruption("packed pk: empty");
  const size_t count = bytes[0];
  size_t pos = 1;
  auto read_big_endian = [&](int width, uint64_t* value) {
    if (bytes.size() - pos < static_cast<size_t>(width)) return false;
    *value = 0;
    for (int i = 0; i < width; ++i) *value = (*value << 8) | bytes[pos++];
    return true;
  };

  std::vector<Value> values;
  values.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    if (pos >= bytes.size()) return Status::Corruption("packed pk: truncated before column " + std::to_string(i));
    const uint8_t tag = bytes[pos++];
    const int width = tag >> 3;
    const int type = tag & 7;
    uint64_t raw = 0;
    switch (type) {
      case static_cast<int>(StorageClass::kNull):
        if (width != 0) return Status::Corruption("packed pk: NULL with a payload");
        values.push_back(Value::Null());
        break;
      case static_cast<int>(StorageClass::kInteger):
        if (width > 8) return Status::Corruption("packed pk: integer wider than 8 bytes");
        if (!read_big_endian(width, &raw)) return Status::Corruption("packed pk: truncated integer");
        values.push_back(Value::Integer(static_cast<int64_t>(raw)));
        break;
      case static_cast<int>(StorageClass::kFloat):
        if (width != 0) return Status::Corruption("packed pk: float with a width");
        if (!read_big_endian(8, &raw)) return Status::Corruption("packed pk: truncated float");
        values.push_back(Value::Float(std::bit_cast<double>(raw)));
        break;
      case static_cast<int>(StorageClass::kText):
      case static_cast<int>(StorageClass::kBlob): {
        if (width > 4) return Status::Corruption("packed pk: length wider than 4 bytes");
        uint64_t length = 0;
        if (!read_big_endian(width, &length) || bytes.size() - pos < length) {
          return Status::Corruption("packed pk: truncated text or blob");
        }
        const uint8_t* start = bytes.data() + pos;
        if (type == static_cast<int>(StorageClass::kText)) {
          values.push_back(Value::Text(std::string(reinterpret_cast<const char*>(start), length)));
        } else {
          values.push_back(Value::BlobValue(Blob(start, start + length)));
        }
        pos += length;
        break;
      }
      default:
        return Status::Corruption("packed pk: unknown type " + std::to_string(type));
    }
  }
  if (pos != bytes.size()) return Status::Corruption("packed pk: trailing bytes after " + std::to_string(count) + " columns");
  *columns = std::move(values);
  return Status::OK();
}

}  // namespace crbridge
