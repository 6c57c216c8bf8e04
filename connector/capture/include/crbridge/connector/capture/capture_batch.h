// CaptureBatch: captured app transactions waiting to be recorded together
// (one clock transaction for many app transactions), and their recording
// with its metrics and log line. Shared by every source's capture. Not
// thread-safe: it lives on its capture's thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "crbridge/connector/capture/capture.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/server/core/captured_change.h"
#include "crbridge/server/core/change_recorder.h"

namespace crbridge {

class CaptureBatch {
 public:
  using Clock = std::chrono::steady_clock;

  CaptureBatch(ChangeRecorder& recorder, const CaptureOptions& options, Metrics& metrics)
      : recorder_(recorder), options_(options), metrics_(metrics) {}

  bool empty() const { return transactions_.empty(); }
  // When the first waiting transaction arrived.
  Clock::time_point started() const { return started_; }

  void Add(CapturedTransaction transaction);
  // Whether the batch is full or old enough to record.
  bool Due(Clock::time_point now) const;
  // Records what waits, with `resume` (SourcePosition::resume) as where the
  // stream restarts after it, and empties the batch.
  Status Flush(const std::string& resume = "");

 private:
  ChangeRecorder& recorder_;
  const CaptureOptions& options_;
  Metrics& metrics_;
  std::vector<CapturedTransaction> transactions_;
  size_t rows_ = 0;
  Clock::time_point started_;
};

}  // namespace crbridge
