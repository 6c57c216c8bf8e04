// Daemon: `crbridge run`. Wires the configured parts together, serves
// /healthz, /readyz and /metrics, and runs until SIGTERM or SIGINT, then
// shuts down cleanly (within about a second). Run blocks the calling thread.
#pragma once

#include <functional>

#include "crbridge/mappings/config.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

struct DaemonHooks {
  // Called once the HTTP listener is bound, with its port (useful when the
  // config asks for port 0).
  std::function<void(uint16_t port)> on_listening;
};

// Returns OK after a clean shutdown, or the error that stopped start-up.
Status RunDaemon(const Config& config, const DaemonHooks& hooks = {});

}  // namespace crbridge
