#include "crbridge/server/core/socket_wait.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace crbridge {

Status WaitForSocket(int fd, SocketReady want, std::chrono::steady_clock::time_point deadline,
                     const std::stop_token& stop, std::string_view what) {
  // Short slices bound how long a stop request waits to be noticed.
  constexpr std::chrono::milliseconds kSlice{100};
  while (true) {
    if (stop.stop_requested()) return Status::Cancelled(std::string(what) + ": stopped");
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Status::Unavailable(std::string(what) + ": timed out");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pollfd entry{fd, static_cast<short>(want == SocketReady::kRead ? POLLIN : POLLOUT), 0};
    const int ready = poll(&entry, 1, static_cast<int>(std::min(left, kSlice).count()) + 1);
    if (ready > 0) return Status::OK();
    if (ready < 0 && errno != EINTR) {
      return Status::IOError(std::string(what) + ": poll: " + std::strerror(errno));
    }
  }
}

}  // namespace crbridge
