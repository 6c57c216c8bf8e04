// Clock bounds: the largest clocks (col_version, causal length, db_version)
// crbridge takes from a client, and the one way the server moves a clock of
// its own forward, which never wraps. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// The largest col_version, causal length or db_version a client changeset
// may carry: 2^62. Peers count these up by one per write, so no honest
// client comes near it. A larger one could only serve to make the server's
// next increment of that clock (an app write, a value the server stores in
// another form, a delete) pass INT64_MAX, where it would wrap to a negative
// number that loses every comparison: the client's value would then stay on
// every client forever, or a row deleted in the database stay alive on
// them. Above 2^62 the server keeps 2^62 - 1 increments of room, more than
// any database makes in its life.
inline constexpr int64_t kMaxClientClock = int64_t{1} << 62;

// OK when every clock of `change` is in range: causal length 1 to
// kMaxClientClock, col_version and db_version 0 to kMaxClientClock.
// InvalidArgument naming the table, the column and the rule otherwise.
Status CheckClientClocks(const Change& change);

// A clock of the server's one step further: clock + 1, or clock itself at
// INT64_MAX (never a wrap). Only a clock stored before client clocks were
// bounded can be there; each such step counts one in `*saturated`.
inline int64_t NextClock(int64_t clock, size_t* saturated) {
  if (clock == std::numeric_limits<int64_t>::max()) {
    ++*saturated;
    return clock;
  }
  return clock + 1;
}

}  // namespace crbridge
