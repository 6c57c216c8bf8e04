// CaptureService: runs the source's capture pipeline on its own thread for
// `crbridge run`. It checks the mappings once the database answers (it may
// be down when crbridge starts), then runs capture, and after a lost
// connection runs it again with backoff. Reports to Health ("capture") and
// logs each change of state once. Start and Stop from one thread; Stop
// returns within about a second.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "crbridge/connector/ops/health.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/connector/capture/capture.h"
#include "crbridge/mappings/config.h"
#include "crbridge/server/core/config_check.h"

namespace crbridge {

class CaptureService {
 public:
  // `config` must outlive the service.
  CaptureService(const Config& config, CaptureOptions options, Health& health, Metrics& metrics);
  ~CaptureService();
  CaptureService(const CaptureService&) = delete;
  CaptureService& operator=(const CaptureService&) = delete;

  void Start();
  void Stop();

 private:
  void Run(std::stop_token stop);
  // Sleeps `delay`, or less when stopped.
  void Wait(std::stop_token stop, std::chrono::milliseconds delay);

  const Config& config_;
  CaptureOptions options_;
  Health& health_;
  Metrics& metrics_;
  std::optional<ConfigCheck> check_;  // the checked mappings, once the database answered
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace crbridge
