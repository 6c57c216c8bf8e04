// SourceMonitor: a thread that probes the source database at an interval,
// reports the result to Health ("source") and Metrics, logs each change of
// state once, and retries with backoff while the database is unreachable.
// Start and Stop from one thread; Stop returns within about 100 ms.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "crbridge/connector/ops/health.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/server/core/source_database.h"

namespace crbridge {

class SourceMonitor {
 public:
  struct Options {
    std::chrono::milliseconds interval{10000};     // between probes while up
    std::chrono::milliseconds probe_timeout{5000};
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{30000};
    // Called on the monitor's thread when the database turns reachable or
    // unreachable (and after the first probe).
    std::function<void(bool reachable)> on_change;
  };

  SourceMonitor(std::unique_ptr<SourceDatabase> database, Options options, Health& health, Metrics& metrics);
  ~SourceMonitor();
  SourceMonitor(const SourceMonitor&) = delete;
  SourceMonitor& operator=(const SourceMonitor&) = delete;

  void Start();
  void Stop();

 private:
  void Run(std::stop_token stop);

  std::unique_ptr<SourceDatabase> database_;
  Options options_;
  Health& health_;
  Metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace crbridge
