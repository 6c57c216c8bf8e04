// ValueHash: a 64-bit hash of a column's mapped value, kept in the clock
// so that capture can tell which columns an app write really changed
// without keeping the values themselves (docs/design.md, "Which columns
// changed"). Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "crbridge/sqlite/value.h"

namespace crbridge {

// Equal values hash equal; values of different storage classes differ
// (the integer 1 and the float 1.0 are different SQLite values).
int64_t ValueHash(const Value& value);

}  // namespace crbridge
