// BenchResult: what a benchmark measured for one workload (items, seconds,
// per-batch latencies), and the percentile of a latency list. Header-only;
// thread-compatible.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace crbridge {

struct BenchResult {
  std::string what;
  size_t items = 0;
  double seconds = 0;
  std::vector<double> batch_ms;

  double PerSecond() const { return static_cast<double>(items) / seconds; }
};

inline double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

inline double MillisecondsSince(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace crbridge
