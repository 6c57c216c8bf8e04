// CaptureHold: whether a source's capture must hold (neither read nor
// record) because Kafka's backlog is full (CaptureOptions::hold), said in
// the log when holding starts, every minute while it lasts, and when it
// ends. Shared by every source's capture. Not thread-safe: it lives on its
// capture's thread.
#pragma once

#include <chrono>
#include <optional>

#include "crbridge/connector/capture/capture.h"

namespace crbridge {

class CaptureHold {
 public:
  using Clock = std::chrono::steady_clock;

  // `options` must outlive the hold.
  explicit CaptureHold(const CaptureOptions& options) : options_(options) {}

  // Whether capture holds at `now`; never without CaptureOptions::hold.
  bool Holding(Clock::time_point now);

 private:
  const CaptureOptions& options_;
  std::optional<Clock::time_point> holding_since_;
  Clock::time_point last_warning_;
};

}  // namespace crbridge
