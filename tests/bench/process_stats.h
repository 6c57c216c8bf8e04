// What a benchmark reads of a running crbridge: its CPU time and peak
// memory (from /proc) and a series of its /metrics. Header-only; stateless.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "processes/process_memory.h"

namespace crbridge {

// CPU seconds (user + system) of process `pid` so far.
inline double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string field;
  for (int i = 0; i < 13; ++i) stat >> field;
  long user = 0, system = 0;
  stat >> user >> system;
  return static_cast<double>(user + system) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Peak resident memory of process `pid`, in MB.
inline double PeakRssMb(pid_t pid) { return static_cast<double>(testing::PeakResidentBytes(pid)) / (1024 * 1024); }

// The value of `series` in a Prometheus text body; -1 when absent.
inline double MetricValue(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(metrics.substr(at + series.size() + 2));
}

}  // namespace crbridge
