#include "row_identity.h"

namespace crbridge {

std::string KeyBytes(const Blob& key) { return std::string(key.begin(), key.end()); }

std::string RoomText(const Value& value) {
  switch (value.storage_class()) {
    case StorageClass::kText: return value.text();
    case StorageClass::kInteger: return std::to_string(value.integer());
    default: return value.ToSql();
  }
}

}  // namespace crbridge
