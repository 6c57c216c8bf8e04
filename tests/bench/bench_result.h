// BenchResult: what a benchmark measured for one workload (items, seconds,
// per-batch latencies), the percentile of a latency list, the markdown
// table of workloads the benchmarks print for docs/benchmarks.md, and their
// `--flag value` command lines.
// Header-only; thread-compatible.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
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

// The `--flag value` pairs of a command line from argv[first] on.
class BenchFlags {
 public:
  BenchFlags(int argc, char** argv, int first) {
    for (int i = first; i + 1 < argc; i += 2) values_[argv[i]] = argv[i + 1];
  }

  std::string Text(const std::string& flag, const std::string& fallback) const {
    const auto found = values_.find(flag);
    return found == values_.end() ? fallback : found->second;
  }
  int64_t Number(const std::string& flag, int64_t fallback) const {
    const auto found = values_.find(flag);
    return found == values_.end() ? fallback : std::stoll(found->second);
  }

 private:
  std::map<std::string, std::string> values_;
};

// The header of a table of PrintWorkload rows.
inline void PrintWorkloadHeader() {
  std::printf("| %-48s | %9s | %11s | %8s | %8s |\n", "workload", "items", "items/s", "p50 ms", "p99 ms");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(50, '-').c_str(), std::string(11, '-').c_str(),
              std::string(13, '-').c_str(), std::string(10, '-').c_str(), std::string(10, '-').c_str());
}

// One workload: items, items/s, and the p50 and p99 of its batch latencies.
inline void PrintWorkload(const BenchResult& r) {
  std::printf("| %-48s | %9zu | %11.0f | %8.2f | %8.2f |\n", r.what.c_str(), r.items, r.PerSecond(),
              Percentile(r.batch_ms, 0.5), Percentile(r.batch_ms, 0.99));
  std::fflush(stdout);
}

}  // namespace crbridge
