#include "crbridge/connector/capture/capture_hold.h"

#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {

bool CaptureHold::Holding(Clock::time_point now) {
  const bool hold = options_.hold && options_.hold();
  if (hold && (!holding_since_ || now - last_warning_ > std::chrono::minutes(1))) {
    if (!holding_since_) holding_since_ = now;
    last_warning_ = now;
    log::Warn("capture",
              "holding: Kafka's backlog reached kafka.max_backlog_events; app writes are neither read nor recorded "
              "until Kafka catches up (the source keeps them)",
              {{"seconds", std::chrono::duration<double>(now - *holding_since_).count()}});
  } else if (!hold && holding_since_) {
    log::Info("capture", "Kafka caught up; recording again",
              {{"held_seconds", std::chrono::duration<double>(now - *holding_since_).count()}});
    holding_since_.reset();
  }
  return hold;
}

}  // namespace crbridge
