#include "crbridge/connector/capture/capture.h"


namespace crbridge {

Status Capture::Run(std::stop_token stop) {
  const Status s = RunUntilStopped(stop);
  return s.code() == Status::Code::kCancelled && stop.stop_requested() ? Status::OK() : s;
}

}  // namespace crbridge
