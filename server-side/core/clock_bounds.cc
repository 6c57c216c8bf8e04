#include "crbridge/server/core/clock_bounds.h"

#include <string>

namespace crbridge {
namespace {

Status OutOfRange(const Change& change, const char* clock, int64_t value, int64_t lowest) {
  const std::string column = change.is_sentinel() ? "(row sentinel)" : change.cid;
  return Status::InvalidArgument("a change to " + change.table + "." + column + " has " + clock + " " +
                                 std::to_string(value) + "; clocks from clients must be between " +
                                 std::to_string(lowest) + " and 2^62 (" + std::to_string(kMaxClientClock) +
                                 "), so that no clock can overflow");
}

}  // namespace

Status CheckClientClocks(const Change& change) {
  if (change.cl < 1 || change.cl > kMaxClientClock) return OutOfRange(change, "causal length", change.cl, 1);
  if (change.col_version < 0 || change.col_version > kMaxClientClock) {
    return OutOfRange(change, "col_version", change.col_version, 0);
  }
  if (change.db_version < 0 || change.db_version > kMaxClientClock) {
    return OutOfRange(change, "db_version", change.db_version, 0);
  }
  return Status::OK();
}

}  // namespace crbridge
