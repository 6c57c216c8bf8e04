#include "crbridge/connector/capture/table_snapshot.h"

#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/sqlite/unix_time.h"

namespace crbridge {

TableSnapshot::TableSnapshot(const ResolvedTable& t, int64_t position, std::optional<std::string> capture_resume,
                             int64_t total_rows, ChangeRecorder& recorder, const CaptureOptions& options,
                             Metrics& metrics)
    : table_(t),
      position_(position),
      capture_resume_(std::move(capture_resume)),
      total_(total_rows),
      recorder_(recorder),
      options_(options),
      metrics_(metrics),
      start_(Clock::now()),
      last_report_(start_) {
  metrics_.SnapshotRowsTotal(t.mapping->name).Set(static_cast<double>(total_rows));
  log::Info("snapshot", "started", {{"table", t.mapping->name}, {"rows", total_rows}});
}

void TableSnapshot::AddRow(const std::function<std::optional<std::string_view>(size_t column)>& field) {
  const ResolvedTable& t = table_;
  CapturedRow& captured = batch_.rows.emplace_back(CapturedRow{CapturedRow::Kind::kInsert, &t, {}, {}});
  captured.key.assign(t.pk_count, Value::Null());
  captured.values.assign(t.columns.size() - t.pk_count, std::nullopt);
  for (size_t i = 0; i < t.columns.size(); ++i) MapCapturedValue(i, field(i), &captured);
}

Status TableSnapshot::Record(bool last) {
  const std::string& name = table_.mapping->name;
  // Snapshot rows have no source transaction: the time they were read.
  batch_.end_position = position_;
  batch_.commit_time_us = UnixMicrosNow();
  RecordReport report;
  CRBRIDGE_RETURN_IF_ERROR(recorder_.RecordSnapshot(batch_, table_, last, capture_resume_, &report));
  // Clients hear of a table read behind a running stream as of app writes.
  if (report.db_version > 0 && options_.on_recorded) options_.on_recorded(report.db_version, position_);
  if (options_.rejected_rows) options_.rejected_rows->Update(report.rejected, report.cleared);
  done_ += static_cast<int64_t>(batch_.rows.size());
  batch_.rows.clear();
  const auto now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  metrics_.SnapshotRowsDone(name).Set(static_cast<double>(done_));
  metrics_.SnapshotRowsPerSecond(name).Set(rate);
  if (last) {
    log::Info("snapshot", "done", {{"table", name}, {"rows", done_}, {"seconds", seconds}, {"rows_per_second", rate}});
  } else if (now - last_report_ >= options_.progress_interval) {
    last_report_ = now;
    log::Info("snapshot", "progress", {{"table", name}, {"rows_done", done_}, {"rows_total", total_},
                                       {"rows_per_second", static_cast<int64_t>(rate)}});
  }
  return Status::OK();
}

}  // namespace crbridge
