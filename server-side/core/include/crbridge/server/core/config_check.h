// CheckConfig: a config checked against the live source database: every
// mapped table and column exists and maps, and the server is set up for
// capture. Used by `crbridge check`, `crbridge schema` and at start-up.
// Stateless; uses the given SourceDatabase from the calling thread.
#pragma once

#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/source_database.h"

namespace crbridge {

struct ConfigCheck {
  std::vector<ResolvedTable> tables;  // one per config table, in config order
  std::vector<Status> problems;       // each a one-line InvalidArgument naming file, line and key
};

// Returns Unavailable when the database cannot be reached; otherwise OK,
// with the problems found (if any) in result->problems.
Status CheckConfig(const Config& config, SourceDatabase& database, ConfigCheck* result);

}  // namespace crbridge
