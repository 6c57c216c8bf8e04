// The row-wide clocks of a mapped table's clock table (docs/server-side.md):
// read and written for a whole batch of rows in a few statements, by the
// merge and by capture alike. Internal to server-side; stateless.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

struct ClockRow {
  bool stored = false;  // the clock table has a row for it
  int64_t cl = 0;
  // Per value column: col_version, the site ordinal that wrote it (0 = the
  // server), and ValueHash of the value the app table holds.
  std::vector<std::optional<int64_t>> versions, sites, hashes;
  // The WAL position the clock reflects: capture skips a row's changes that
  // committed at or before it (they are recorded already).
  int64_t lsn = 0;
  // The room to record; unset keeps the stored one (a dead row stays in the
  // room its clients knew it in).
  std::optional<std::string> room;

  explicit ClockRow(size_t value_columns = 0)
      : versions(value_columns), sites(value_columns), hashes(value_columns) {}
};

// Calls `found` with the packed key and clock of each row of `keys` that
// the clock table holds.
Status ReadClockRows(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                     const std::vector<const std::vector<ServerParameter>*>& keys,
                     const std::function<Status(const Blob& key, ClockRow clock)>& found);

struct ClockWrite {
  const std::vector<ServerParameter>* key;
  const ClockRow* clock;
  int64_t db_version;
  int seq;
};

// Stores the clocks of `writes`: one INSERT for the rows not stored yet,
// one UPDATE for the others (cheaper than an upsert of all of them).
void WriteClockRows(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                    const std::vector<ClockWrite>& writes);

}  // namespace crbridge
