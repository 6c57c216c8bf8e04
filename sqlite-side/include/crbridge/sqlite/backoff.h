// Backoff: delays between reconnection attempts, doubling from an initial
// delay up to a cap, with jitter so that many crbridge instances (or
// clients dropped together) do not retry in step. Not thread-safe; one per retry loop.
#pragma once

#include <chrono>
#include <random>

namespace crbridge {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);

  // The delay before the next attempt: grows after each call, randomized
  // within [delay/2, delay].
  std::chrono::milliseconds Next();
  // After a success: the next failure starts again from `initial`.
  void Reset();

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
  std::minstd_rand random_;
};

}  // namespace crbridge
