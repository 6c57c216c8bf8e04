#include "crbridge/connector/capture/capture.h"

namespace crbridge {

Status Capture::Run(std::stop_token stop) {
  const Status s = RunUntilStopped(stop);
  return s.code() == Status::Code::kCancelled && stop.stop_requested() ? Status::OK() : s;
}

Status Capture::ReportStandingRejections(ChangeRecorder& recorder) {
  std::vector<RejectedRow> standing;
  CRBRIDGE_RETURN_IF_ERROR(recorder.StandingRejections(&standing));
  if (options_.rejected_rows) options_.rejected_rows->Replace(standing);
  return Status::OK();
}

}  // namespace crbridge
