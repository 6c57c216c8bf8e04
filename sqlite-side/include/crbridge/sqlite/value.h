// Value: one SQLite value in one of the five storage classes, ordered the
// way cr-sqlite breaks ties between concurrent writes. A plain value type;
// thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace crbridge {

// SQLite's fundamental types, numbered as SQLITE_INTEGER..SQLITE_NULL (and
// as the type bits of cr-sqlite's packed primary keys).
enum class StorageClass : uint8_t { kInteger = 1, kFloat = 2, kText = 3, kBlob = 4, kNull = 5 };

using Blob = std::vector<uint8_t>;

class Value {
 public:
  Value() = default;  // NULL
  static Value Null() { return Value(); }
  static Value Integer(int64_t v) { return Value(Data(v)); }
  static Value Float(double v) { return Value(Data(v)); }
  static Value Text(std::string v) { return Value(Data(std::move(v))); }
  static Value BlobValue(Blob v) { return Value(Data(std::move(v))); }

  StorageClass storage_class() const;
  bool is_null() const { return std::holds_alternative<std::monostate>(data_); }
  // Each accessor requires the matching storage class.
  int64_t integer() const { return std::get<int64_t>(data_); }
  double real() const { return std::get<double>(data_); }
  const std::string& text() const { return std::get<std::string>(data_); }
  const Blob& blob() const { return std::get<Blob>(data_); }

  // SQL literal form, for messages and tests: NULL, 42, 1.5, 'it''s', X'01FF'.
  std::string ToSql() const;

  // Identical storage class and contents (floats compared bitwise-equal by
  // ==, so NaN != NaN).
  friend bool operator==(const Value&, const Value&) = default;

 private:
  using Data = std::variant<std::monostate, int64_t, double, std::string, Blob>;
  explicit Value(Data data) : data_(std::move(data)) {}
  Data data_;
};

// cr-sqlite's tie-break order when two writes of a column have the same
// causal length and col_version: by storage class NULL < BLOB < TEXT <
// FLOAT < INTEGER (so integer 5 beats float 5.5), then within a class
// numerically (integers, floats) or bytewise (text, blobs).
std::strong_ordering CompareForMerge(const Value& a, const Value& b);

}  // namespace crbridge
