// RejectedRows: the app rows that capture could not map and that clients
// therefore do not get (server-side's RejectedRow), as capture last
// recorded them, made loud: an error in the log for each row rejected (its
// values escaped), /metrics (crbridge_capture_rejected_rows standing,
// crbridge_capture_rows_rejected_total), and /readyz, whose component
// "rejected_rows" is not ready while any stands, naming them. The rows
// themselves live in the shadow store, written with the capture batch, so
// a restart finds them again (capture passes them to Replace when it
// starts). Thread-safe: capture reports from its thread, HTTP reads.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "crbridge/connector/ops/health.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/server/core/rejected_row.h"

namespace crbridge {

class RejectedRows {
 public:
  // Registers the health component (ready: none stands yet) and metrics.
  RejectedRows(Health& health, Metrics& metrics);
  RejectedRows(const RejectedRows&) = delete;
  RejectedRows& operator=(const RejectedRows&) = delete;

  // The rows that stand, as the shadow store holds them.
  void Replace(const std::vector<RejectedRow>& standing);
  // Rows a recording rejected (logged and counted), and rejections it
  // cleared (table and key).
  void Update(const std::vector<RejectedRow>& rejected, const std::vector<RejectedRow>& cleared);

  std::vector<RejectedRow> Standing() const;

 private:
  // Health and the gauge from rows_; the mutex is held.
  void Publish();

  Health& health_;
  prometheus::Gauge& standing_;
  prometheus::Counter& rejected_total_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, Blob>, RejectedRow> rows_;
};

}  // namespace crbridge
