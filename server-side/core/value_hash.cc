#include "value_hash.h"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <string>

namespace crbridge {

int64_t ValueHash(const Value& value) {
  std::string bytes(1, static_cast<char>(value.storage_class()));
  const auto append_word = [&](uint64_t word) {
    char raw[sizeof word];
    std::memcpy(raw, &word, sizeof word);
    bytes.append(raw, sizeof raw);
  };
  switch (value.storage_class()) {
    case StorageClass::kInteger: append_word(static_cast<uint64_t>(value.integer())); break;
    case StorageClass::kFloat: append_word(std::bit_cast<uint64_t>(value.real())); break;
    case StorageClass::kText: bytes += value.text(); break;
    case StorageClass::kBlob: bytes.append(value.blob().begin(), value.blob().end()); break;
    case StorageClass::kNull: break;
  }
  return static_cast<int64_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

}  // namespace crbridge
