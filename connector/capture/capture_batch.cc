#include "crbridge/connector/capture/capture_batch.h"

#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {

void CaptureBatch::Add(CapturedTransaction transaction) {
  const size_t rows = transaction.rows.size();
  if (static_cast<double>(rows) > metrics_.capture_largest_transaction_rows().Value()) {
    metrics_.capture_largest_transaction_rows().Set(static_cast<double>(rows));
  }
  if (rows >= options_.large_transaction_rows) {
    log::Warn("capture", "a large app transaction was held in memory whole",
              {{"rows", rows}, {"position", transaction.end_position}});
  }
  if (transactions_.empty()) started_ = Clock::now();
  rows_ += transaction.rows.size();
  transactions_.push_back(std::move(transaction));
}

bool CaptureBatch::Due(Clock::time_point now) const {
  return !transactions_.empty() && (rows_ >= options_.batch_rows || now - started_ >= options_.batch_delay);
}

Status CaptureBatch::Flush(const std::string& resume) {
  RecordReport report;
  const auto start = Clock::now();
  CRBRIDGE_RETURN_IF_ERROR(recorder_.Record(transactions_, &report, resume));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (report.db_version > 0 && options_.on_recorded) {
    options_.on_recorded(report.db_version, transactions_.front().end_position);
  }
  if (options_.rejected_rows) options_.rejected_rows->Update(report.rejected, report.cleared);
  metrics_.captured_transactions().Increment(static_cast<double>(transactions_.size()));
  metrics_.captured_rows().Increment(static_cast<double>(report.rows_changed));
  if (report.clocks_saturated > 0) {
    metrics_.clocks_saturated().Increment(static_cast<double>(report.clocks_saturated));
    log::Warn("capture", "app writes recorded at clocks that cannot grow (stored before client clocks were bounded); "
              "clients holding a value at the same clock may keep it",
              {{"clock_steps", report.clocks_saturated}, {"db_version", report.db_version}});
  }
  log::Debug("capture", "recorded", {{"transactions", transactions_.size()}, {"rows_changed", report.rows_changed},
                                     {"rows_skipped", report.rows_skipped}, {"db_version", report.db_version},
                                     {"ms", ms}});
  transactions_.clear();
  rows_ = 0;
  return Status::OK();
}

}  // namespace crbridge
