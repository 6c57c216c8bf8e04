// Columns the app adds to or drops from a mapped table while crbridge runs
// (docs/design.md, "Schema versions"): a table mapped without a `columns:`
// list takes every column it has but those excluded, so a column the
// change stream (or the catalog) names that the running mapping lacks, or
// a value column it no longer names, means the mapping must be checked
// again. Capture then stops before recording anything of the change that
// told it, returning MappingsChanged; whoever runs it checks the mappings
// again and starts everything that uses them anew (the daemon does, in
// process): a table whose clock arrays grew is read whole again, one whose
// arrays shrank just goes on. Stateless functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// Whether `columns`, the columns of `t` as the change stream or the catalog
// names them now, are those it was mapped with: OK; MappingsChanged when
// `t` is mapped without a `columns:` list and gained a column it does not
// exclude or lost a value column; InvalidArgument, naming the column, when
// it lost a key column or one its `columns:` list names (a person must
// change the config or the table).
Status CheckColumnsFollowed(const ResolvedTable& t, const std::vector<std::string>& columns);

}  // namespace crbridge
