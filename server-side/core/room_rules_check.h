// CheckRoomRules: the rules of rooms by membership (room_members) and by
// reference (room_via) against the live catalog, once every mapped table
// is resolved. Runs on the caller's thread.
#pragma once

#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/source_database.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// Appends one InvalidArgument per problem to *problems, positioned at the
// config key responsible: a table or column that does not exist, a
// room_via column that is not mapped, a key of more than one column, types
// that cannot match. Fails only when the catalog cannot be read.
Status CheckRoomRules(const Config& config, const std::vector<ResolvedTable>& tables, SourceDatabase& database,
                      std::vector<Status>* problems);

}  // namespace crbridge
