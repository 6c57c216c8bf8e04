// The packed primary key: cr-sqlite's byte encoding of a row's primary key
// values, as it appears in crsql_changes.pk. Peers compare and store keys as
// these bytes, so the encoding must match cr-sqlite byte for byte.
// Stateless functions; thread-safe.
//
// Layout: [count:u8] then per column a byte T = (n << 3) | storage class and
// a payload: INTEGER n big-endian bytes (non-negative values in the fewest
// bytes, 0 in none; negative ones in 8); FLOAT 8 bytes IEEE-754 big-endian;
// TEXT/BLOB the length in n big-endian bytes (fewest, 0 for empty) and the
// bytes; NULL nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

// At most 255 columns (the count is one byte); InvalidArgument beyond.
Status EncodePackedPk(std::span<const Value> columns, Blob* out);

// Decodes `bytes` into its column values. Corruption when the bytes are
// truncated, have trailing garbage, an unknown type, or a width cr-sqlite
// never writes; never reads outside `bytes`.
Status DecodePackedPk(std::span<const uint8_t> bytes, std::vector<Value>* columns);

}  // namespace crbridge
