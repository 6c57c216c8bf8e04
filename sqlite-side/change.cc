#include "crbridge/sqlite/change.h"

#include <random>

namespace crbridge {

SiteId RandomSiteId() {
  std::random_device random;
  SiteId id;
  for (uint8_t& b : id) b = static_cast<uint8_t>(random());
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);  // the version: 4
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);  // the variant: RFC 4122
  return id;
}

MergeOutcome MergeChange(const RowClock& row, const ColumnClock& column, const Change& incoming) {
  MergeOutcome outcome;
  if (incoming.cl < row.cl) return outcome;
  const bool deletes = incoming.cl % 2 == 0;

  if (incoming.is_sentinel() || deletes) {
    if (incoming.cl == row.cl) return outcome;
    outcome.row = deletes ? RowAction::kDelete : RowAction::kResurrect;
    outcome.write_sentinel = true;
    return outcome;
  }

  if (incoming.cl > row.cl) {
    // A first life with no sentinel is what a plain insert records.
    const bool plain_create = row.cl == 0 && incoming.cl == 1;
    outcome.row = plain_create ? RowAction::kCreate : RowAction::kResurrect;
    outcome.write_sentinel = !plain_create;
    outcome.write_column = true;
    return outcome;
  }

  if (!column.exists || incoming.col_version > column.col_version) {
    outcome.write_column = true;
  } else if (incoming.col_version == column.col_version) {
    const std::strong_ordering by_value = CompareForMerge(incoming.val, column.value);
    outcome.write_column = by_value > 0 || (by_value == 0 && column.writer &&
                                            incoming.site_id.value_or(SiteId{}) > *column.writer);
  }
  return outcome;
}

}  // namespace crbridge
