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
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge::postgres {

// Calls `found` with the packed key and clock of each row of `keys` that
// the clock table holds.
Status ReadClockRows(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                     const std::vector<const std::vector<ServerParameter>*>& keys,
                     const std::function<Status(const Blob& key, ClockRow clock)>& found);

// The same for the rows matching `where` (a condition on the clock table,
// with parameters `params`).
Status ReadClockRowsWhere(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                          const std::string& where, const std::vector<ServerParameter>& params,
                          const std::function<Status(const Blob& key, ClockRow clock)>& found);

// Stores the clocks of `writes`: one INSERT (or COPY) for the rows not stored
// yet, one UPDATE for the others (cheaper than an upsert of all of them).
void WriteClockRows(pqxx::work& tx, const std::string& clock_table, const ResolvedTable& t,
                    const std::vector<ClockWrite>& writes);

}  // namespace crbridge::postgres
