// WaitForSocket: waits until a database client library's socket is ready,
// so that connections made with non-blocking client APIs can be abandoned
// on shutdown or after a deadline. Stateless; thread-safe.
#pragma once

#include <chrono>
#include <stop_token>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge {

enum class SocketReady { kRead, kWrite };

// OK when `fd` is ready for `want`; Unavailable at `deadline` (naming
// `what`), Cancelled once `stop` is requested.
Status WaitForSocket(int fd, SocketReady want, std::chrono::steady_clock::time_point deadline,
                     const std::stop_token& stop, std::string_view what);

}  // namespace crbridge
