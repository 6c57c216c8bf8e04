// TableSnapshot: one mapped table read whole by a source's capture (its
// initial snapshot, or a read again: captured_tables.h), in batches (a
// table is never held whole): rows read as server text become inserts at
// the snapshot's position, each batch is recorded in the clocks, the last
// one also kills the clocks of rows the table no longer has and marks the
// table done, and progress goes to the log and /metrics. Shared by every
// source's capture. Not thread-safe: it lives on its capture's thread.
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

namespace crbridge {

class TableSnapshot {
 public:
  // Logs the start; `total_rows` is the estimate progress is told against.
  // `capture_resume`, for a first snapshot, is where the source's stream
  // starts after it (SourcePosition::resume), stored as the capture
  // position with each batch; unset for a table read behind a running
  // stream, which leaves the capture position alone.
  TableSnapshot(const ResolvedTable& t, int64_t position, std::optional<std::string> capture_resume,
                int64_t total_rows, ChangeRecorder& recorder, const CaptureOptions& options, Metrics& metrics);

  // Adds a row: `field(i)` is column t.columns[i] as the server prints it,
  // nullopt for NULL. A row with a value the mapping cannot read is added
  // as a rejection (CapturedRow::rejection).
  void AddRow(const std::function<std::optional<std::string_view>(size_t column)>& field);

  // Records the rows added since the last call; `last` also kills the
  // clocks of rows the table no longer has and marks the table's snapshot
  // done, in the same clock transaction.
  Status Record(bool last);

 private:
  using Clock = std::chrono::steady_clock;

  const ResolvedTable& table_;
  int64_t position_;
  std::optional<std::string> capture_resume_;
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
