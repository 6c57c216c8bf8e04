// The wall clock as Unix microseconds, the unit crbridge stores and
// publishes times in. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace crbridge {

inline int64_t UnixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace crbridge
