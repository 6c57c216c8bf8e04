#include "crbridge/sqlite/value.h"

#include "crbridge/sqlite/sql_quote.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace crbridge {
namespace {

// Rank of each storage class in cr-sqlite's tie-break order.
int MergeRank(StorageClass c) {
  switch (c) {
    case StorageClass::kNull: return 0;
    case StorageClass::kBlob: return 1;
    case StorageClass::kText: return 2;
    case StorageClass::kFloat: return 3;
    case StorageClass::kInteger: return 4;
  }
  return 0;
}

template <typename Bytes>
std::strong_ordering CompareBytes(const Bytes& a, const Bytes& b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    const auto x = static_cast<uint8_t>(a[i]);
    const auto y = static_cast<uint8_t>(b[i]);
    if (x != y) return x <=> y;
  }
  return a.size() <=> b.size();
}

}  // namespace

StorageClass Value::storage_class() const {
  switch (data_.index()) {
    case 1: return StorageClass::kInteger;
    case 2: return StorageClass::kFloat;
    case 3: return StorageClass::kText;
    case 4: return StorageClass::kBlob;
    default: return StorageClass::kNull;
  }
}

std::string Value::ToSql() const {
  switch (storage_class()) {
    case StorageClass::kNull: return "NULL";
    case StorageClass::kInteger: return std::to_string(integer());
    case StorageClass::kFloat: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", real());
      return buffer;
    }
    case StorageClass::kText: return QuoteLiteral(text());
    case StorageClass::kBlob: {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string out = "X'";
      for (const uint8_t b : blob()) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
      }
      return out + "'";
    }
  }
  return "NULL";
}

std::strong_ordering CompareForMerge(const Value& a, const Value& b) {
  const StorageClass ca = a.storage_class();
  const StorageClass cb = b.storage_class();
  if (ca != cb) return MergeRank(ca) <=> MergeRank(cb);
  switch (ca) {
    case StorageClass::kNull: return std::strong_ordering::equal;
    case StorageClass::kInteger: return a.integer() <=> b.integer();
    case StorageClass::kFloat: {
      // Floats from SQLite are never NaN (it stores NaN as NULL); order any
      // that arrive from elsewhere below every number so the order is total.
      const double x = a.real();
      const double y = b.real();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(y) <=> std::isnan(x);
      if (x < y) return std::strong_ordering::less;
      if (x > y) return std::strong_ordering::greater;
      return std::strong_ordering::equal;
    }
    case StorageClass::kText: return CompareBytes(a.text(), b.text());
    case StorageClass::kBlob: return CompareBytes(a.blob(), b.blob());
  }
  return std::strong_ordering::equal;
}

}  // namespace crbridge
