// Change: one row of cr-sqlite's crsql_changes, the unit that peers
// exchange; a Changeset is an ordered batch of them. MergeChange holds
// cr-sqlite's rules for deciding what an incoming change does to a row, so
// that the native SQLite layer and the server side apply the same rules.
// Plain value types and pure functions; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/sqlite/value.h"

namespace crbridge {

using SiteId = std::array<uint8_t, 16>;

// A new site id: 16 random bytes, a version 4 UUID as cr-sqlite makes them.
SiteId RandomSiteId();

// The column name cr-sqlite uses for a row's existence.
inline constexpr const char* kSentinelColumn = "-1";

struct Change {
  std::string table;
  Blob pk;                 // packed primary key (packed_pk.h)
  std::string cid;         // column name, or kSentinelColumn
  Value val;               // NULL for the sentinel
  int64_t col_version = 0;
  int64_t db_version = 0;  // the recording database's clock
  std::optional<SiteId> site_id;  // the writer; absent = the sender itself
  int64_t cl = 0;          // causal length: odd = alive, even = deleted
  int64_t seq = 0;         // order within its db_version

  bool is_sentinel() const { return cid == kSentinelColumn; }
  friend bool operator==(const Change&, const Change&) = default;
};

using Changeset = std::vector<Change>;

// What a receiver knows of a row before merging.
struct RowClock {
  // 0 when the row was never seen, the sentinel's causal length when it has
  // one, else 1 (cr-sqlite records no sentinel for a plain insert).
  int64_t cl = 0;
  // The row has a sentinel record (as opposed to an implied cl of 1).
  bool has_sentinel = false;
};

// What a receiver knows of the column the change writes (ignored for
// sentinels).
struct ColumnClock {
  bool exists = false;
  int64_t col_version = 0;
  Value value;  // the column's current value in the row
  // Set only under cr-sqlite's merge-equal-values option: the site that
  // wrote the value, so that equal values tie-break on the site id.
  std::optional<SiteId> writer;
};

enum class RowAction {
  kNone,        // the row's existence is unchanged
  kDelete,      // delete the row and drop its column clocks
  kCreate,      // the row is new to the receiver: insert it, no sentinel
  kResurrect,   // (re)create the row, record the sentinel at `cl`, zero
                // the column clocks it already has (col_version 0)
};

struct MergeOutcome {
  RowAction row = RowAction::kNone;
  // The sentinel takes the incoming causal length (kDelete, kResurrect).
  bool write_sentinel = false;
  // The column change wins: write its value and clock.
  bool write_column = false;
};

// cr-sqlite 0.16's merge of one incoming change, as observed from the
// published extension:
// - a lower causal length than the row's is ignored;
// - a sentinel with a higher even cl deletes, with a higher odd cl
//   (re)creates; with an equal cl it does nothing;
// - a column change with a higher cl (re)creates the row and wins; with an
//   equal cl it wins on a higher col_version, then on a greater value
//   (CompareForMerge); equal values change nothing, unless the column
//   carries its writer (merge-equal-values): then the greater site id wins;
// - a column change with an even cl is treated as a delete.
MergeOutcome MergeChange(const RowClock& row, const ColumnClock& column, const Change& incoming);

}  // namespace crbridge
