#include "crbridge/sqlite/backoff.h"

#include <algorithm>

namespace crbridge {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(initial), max_(max), current_(initial), random_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::Next() {
  const auto delay = current_;
  current_ = std::min(current_ * 2, max_);
  std::uniform_int_distribution<long long> jitter(delay.count() / 2, delay.count());
  return std::chrono::milliseconds(jitter(random_));
}

void Backoff::Reset() { current_ = initial_; }

}  // namespace crbridge
