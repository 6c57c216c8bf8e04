// MappingChanges: what the next start will do to the shadow store, told
// before it does it (`crbridge check`): the mapped tables as the store
// recorded them against the mappings now, in the words of
// docs/server-side.md, "Mapping changes". The stores apply the same
// decision when they open (ChangeClockTable), so the two cannot disagree.
// Plain data and a stateless function; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct MappingChanges {
  // One line per change a start makes ("todos: new column priority: ...").
  std::vector<std::string> changes;
  // Changes a start refuses, each InvalidArgument at its config key
  // (Config::ErrorAt: file:line:column: key: what and what to do).
  std::vector<Status> refusals;
};

// `recorded`: empty when crbridge never ran on the database (then every
// table is new, and that is all there is to tell).
MappingChanges PlanMappingChanges(const Config& config, const std::vector<RecordedTable>& recorded,
                                  const std::vector<ResolvedTable>& tables);

}  // namespace crbridge
