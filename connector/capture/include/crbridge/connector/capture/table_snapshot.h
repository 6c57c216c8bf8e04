// TableSnapshot: the initial snapshot of one mapped table as a source's
// capture reads it, in batches (a table is never held whole): rows read as
// server text become inserts at the snapshot's position, each batch is
// recorded in the clocks, the last one also marks the table done, and
// progress goes to the log and /metrics. Shared by every source's
// capture. Not thread-safe: it lives on its capture's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crbridge/connector/capture/capture.h"
#include "crbridge/connector/ops/metrics.h"
#include "crbridge/server/core/captured_change.h"
#include "crbridge/server/core/change_recorder.h"
#include "crbridge/server/core/shadow_store.h"

namespace crbridge {

// The mapped tables of `tables` whose initial snapshot is not done.
Status PendingSnapshots(ShadowStore& writer, const std::vector<ResolvedTable>& tables,
                        std::vector<const ResolvedTable*>* pending);

class TableSnapshot {
 public:
  // Logs the start; `total_rows` is the estimate progress is told against.
  // `resume` is where the source's stream starts after the snapshot
  // (SourcePosition::resume), stored with its end.
  TableSnapshot(const ResolvedTable& t, int64_t position, std::string resume, int64_t total_rows,
                ChangeRecorder& recorder, const CaptureOptions& options, Metrics& metrics);

  // Adds a row: `field(i)` is column t.columns[i] as the server prints it,
  // nullopt for NULL. InvalidArgument naming the column for a value the
  // mapping cannot read.
  Status AddRow(const std::function<std::optional<std::string_view>(size_t column)>& field);

  // Records the rows added since the last call; `last` also marks the
  // table's snapshot done, in the same clock transaction.
  Status Record(bool last);

 private:
  using Clock = std::chrono::steady_clock;

  const ResolvedTable& table_;
  int64_t position_;
  std::string resume_;
  int64_t total_;
  ChangeRecorder& recorder_;
  const CaptureOptions& options_;
  Metrics& metrics_;
  CapturedTransaction batch_;
  int64_t done_ = 0;
  Clock::time_point start_;
  Clock::time_point last_report_;
};

}  // namespace crbridge
