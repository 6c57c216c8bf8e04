// Columns the app adds to a mapped table while crbridge runs (docs/design.md,
// "Schema versions"): a table mapped without a `columns:` list takes every
// column it has but those excluded, so a column the change stream names
// that the running mapping lacks means the mapping must be checked again.
// Capture then stops before recording anything of the change that named
// it and returns ColumnAdded (IsMappingsChanged); whoever runs it checks the mappings again
// and starts everything that uses them anew (the daemon does, in process),
// and the table, whose clock arrays grew, is read whole again. Stateless
// functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// The first of `columns` (the table's columns as the stream describes them)
// that `t`, mapped without a `columns:` list, neither maps nor excludes.
std::optional<std::string> AddedColumn(const ResolvedTable& t, const std::vector<std::string>& columns);

// What capture returns when it met column `column` added to `t`.
Status ColumnAdded(const ResolvedTable& t, const std::string& column);

}  // namespace crbridge
