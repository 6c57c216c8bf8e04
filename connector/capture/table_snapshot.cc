#include "crbridge/connector/capture/table_snapshot.h"

#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/mappings/type_mapping.h"
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

Status TableSnapshot::AddRow(const std::function<std::optional<std::string_view>(size_t column)>& field) {
  const ResolvedTable& t = table_;
  CapturedRow captured{CapturedRow::Kind::kInsert, &t, {}, {}};
  for (size_t i = 0; i < t.columns.size(); ++i) {
    Value value = Value::Null();
    if (const std::optional<std::string_view> text = field(i)) {
      if (Status s = FromServerText(t.columns[i].type, *text, &value); !s.ok()) {
        return Status::InvalidArgument(t.mapping->name + "." + t.columns[i].name + ": " + s.message());
      }
    }
    if (i < t.pk_count) {
      captured.key.push_back(std::move(value));
    } else {
      captured.values.emplace_back(std::move(value));
    }
  }
  batch_.rows.push_back(std::move(captured));
  return Status::OK();
}

Status TableSnapshot::Record(bool last) {
  const std::string& name = table_.mapping->name;
  // Snapshot rows have no source transaction: the time they were read.
  batch_.end_position = position_;
  batch_.commit_time_us = UnixMicrosNow();
  RecordReport report;
  CRBRIDGE_RETURN_IF_ERROR(recorder_.RecordSnapshot(batch_, table_, last, capture_resume_, &report));
  // Clients hear of a table read behind a running stream as of app writes.
  if (report.db_version > 0 && options_.on_recorded) options_.on_recorded(report.db_version);
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
