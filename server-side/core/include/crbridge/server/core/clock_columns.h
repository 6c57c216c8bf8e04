// ClockColumns: the server columns a mapped table's clock table was made
// for, as the shadow store records them, and how its per-column clocks
// follow when the mapping changes across a restart (docs/server-side.md,
// "Mapping changes"): value columns may come and go (their clocks move
// with them; a new column's values are recorded by reading the table
// again), the primary key may not (every row's identity would change),
// nor may the table's room rule.
// Plain data and stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct ClockColumns {
  std::vector<std::string> key;     // server names, in key order
  std::vector<std::string> values;  // server names, in clock array order
  friend bool operator==(const ClockColumns&, const ClockColumns&) = default;
};

ClockColumns ClockColumnsOf(const ResolvedTable& t);

// How the clock arrays of `t` follow from those made for `recorded`: per
// value column of `t`, the index of its clocks in the recorded arrays
// (nullopt: a column new to the mapping).
struct ClockColumnsMove {
  std::vector<std::optional<size_t>> from;
  // Whether a column is new: the table must be read again for its values.
  bool adds_columns() const;
};

// InvalidArgument when the primary key changed, saying what to do.
Status MoveClockColumns(const ClockColumns& recorded, const ResolvedTable& t, ClockColumnsMove* move);

// The room rule a mapped table's clocks were recorded under
// ("room_column: list_id", "every room", ...): each clock's recorded room,
// and the rooms tables of derived rooms, follow it.
std::string RoomRuleOf(const ResolvedTable& t);
// InvalidArgument at `t`'s config path naming the table, the rule
// `recorded` and its rule now, and what to do (RoomRuleChange): rows are
// not moved between the rooms of another rule in place (clients in a
// room would keep rows that left it and miss rows older than their
// position that entered it).
Status RoomRuleChanged(const std::string& recorded, const ResolvedTable& t);
std::string RoomRuleChange(const std::string& recorded, const ResolvedTable& t);
// The config key of `t`'s room rule ("tables[1].room_column"), or of the
// table when it has none.
std::string RoomRuleKey(const ResolvedTable& t);

// What a store's Write (and Read) returns, with nothing done, once another store
// changed the clock columns of a mapped table since it opened (the
// stores of one database count such changes): whoever owns it must check
// the mappings again and open a new store, as a write with the old
// columns would drop the new ones' clocks. Capture returns it too when
// the change stream names a column its mapping lacks, or lacks one it maps (column_changes.h).
Status MappingsChanged(const std::string& what);
bool IsMappingsChanged(const Status& status);

// `names` as the shadow store records them (a JSON array), and back.
std::string ColumnNamesJson(const std::vector<std::string>& names);
Status ParseColumnNamesJson(const std::string& text, std::vector<std::string>* names);

}  // namespace crbridge
