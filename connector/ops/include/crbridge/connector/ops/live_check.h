// LiveCheck: connects to the configured source database and checks the
// config against it, for `crbridge check`, `crbridge schema` and the
// daemon's start-up. Blocks the calling thread up to the probe timeout.
#pragma once

#include <chrono>

#include "crbridge/mappings/config.h"
#include "crbridge/server/core/config_check.h"
#include "crbridge/server/core/source_database.h"

namespace crbridge {

// Unavailable when the database cannot be reached within `timeout`;
// otherwise OK with the server's identity and the problems found.
Status LiveCheck(const Config& config, std::chrono::milliseconds timeout, ServerInfo* server, ConfigCheck* check);

}  // namespace crbridge
