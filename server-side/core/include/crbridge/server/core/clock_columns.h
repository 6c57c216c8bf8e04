// ClockColumns: the server columns a mapped table's clock table was made
// for, as the shadow store records them, and how its per-column clocks
// follow when the mapping changes across a restart (docs/server-side.md,
// "Mapping changes"): value columns may come and go (their clocks move
// with them; a new column's values are recorded by reading the table
// again), the primary key may not, nor may the table's room rule, but
// for one room column becoming another (rows move between rooms).
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

// A mapped table as the shadow store recorded it (its `tables` row).
struct RecordedTable {
  std::string name;
  ClockColumns columns;
  std::optional<std::string> room_rule;  // none: recorded before rules were
};

// A `tables` row as the stores keep it: the columns as JSON arrays.
Status ParseRecordedTable(std::string name, const std::string& key_json, const std::string& values_json,
                          std::optional<std::string> room_rule, RecordedTable* recorded);

// The room rule a mapped table's clocks were recorded under
// ("room_column: list_id", "every room", ...): each clock's recorded room,
// and the rooms tables of derived rooms, follow it.
std::string RoomRuleOf(const ResolvedTable& t);

// What opening a store does to the clocks of a table recorded as
// `recorded` and mapped as `t` now: the one decision the stores apply and
// `crbridge check` tells (mapping_changes.h).
struct ClockTableChange {
  // A change a start refuses: the config key to name and what to do.
  struct Refusal {
    std::string key;
    std::string message;
  };
  // A new primary key (every row's identity would change) or room rule
  // other than another room column (rows are not moved between the rooms
  // of another kind of rule in place: clients in a room would keep rows
  // that left it and miss rows older than their position that entered it).
  // Nothing is done when any.
  std::vector<Refusal> refusals;
  // Per value column of `t`, the index of its clocks in the recorded
  // arrays (nullopt: a column new to the mapping, whose values are read
  // from the table again).
  std::vector<std::optional<size_t>> from;
  ClockColumns columns;  // those of `t`, to record
  // The rule to record: that of a table recorded before rules were (it
  // takes its current one), or a new room column.
  std::optional<std::string> rule_to_record;
  bool moves_clocks = false;  // the value columns or their order changed
  // The room column is another: the table is read again, and rows whose
  // room changed leave their old room and enter the new one whole.
  bool moves_rooms = false;

  bool adds_columns() const;
  // The first refusal, InvalidArgument "key: message"; OK when none.
  Status Refused() const;
};
ClockTableChange ChangeClockTable(const RecordedTable& recorded, const ResolvedTable& t);

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
