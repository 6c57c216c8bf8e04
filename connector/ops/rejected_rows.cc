#include "crbridge/connector/ops/rejected_rows.h"

#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {
namespace {

constexpr const char* kComponent = "rejected_rows";
// Rows named in /readyz; `crbridge check` lists them all.
constexpr size_t kNamedInHealth = 3;

}  // namespace

RejectedRows::RejectedRows(Health& health, Metrics& metrics)
    : health_(health),
      standing_(prometheus::BuildGauge()
                    .Name("crbridge_capture_rejected_rows")
                    .Help("App rows capture could not map that stand (clients do not get them until a change maps)")
                    .Register(metrics.registry())
                    .Add({})),
      rejected_total_(prometheus::BuildCounter()
                          .Name("crbridge_capture_rows_rejected_total")
                          .Help("App row changes capture could not map and rejected")
                          .Register(metrics.registry())
                          .Add({})) {
  health_.Report(kComponent, true, "none");
}

void RejectedRows::Replace(const std::vector<RejectedRow>& standing) {
  std::lock_guard lock(mutex_);
  rows_.clear();
  for (const RejectedRow& row : standing) rows_[{row.table, row.key}] = row;
  Publish();
}

void RejectedRows::Update(const std::vector<RejectedRow>& rejected, const std::vector<RejectedRow>& cleared) {
  if (rejected.empty() && cleared.empty()) return;
  std::lock_guard lock(mutex_);
  for (const RejectedRow& row : rejected) {
    log::Error("capture", "an app row cannot be mapped: clients do not get it until a change of it maps",
               {{"row", DescribeRejectedRow(row)}, {"position", row.position}});
    rows_[{row.table, row.key}] = row;
  }
  for (const RejectedRow& row : cleared) {
    const auto found = rows_.find({row.table, row.key});
    if (found == rows_.end()) continue;
    log::Info("capture", "a rejected app row maps again", {{"row", DescribeRejectedRow(found->second)}});
    rows_.erase(found);
  }
  rejected_total_.Increment(static_cast<double>(rejected.size()));
  Publish();
}

std::vector<RejectedRow> RejectedRows::Standing() const {
  std::lock_guard lock(mutex_);
  std::vector<RejectedRow> rows;
  for (const auto& [key, row] : rows_) rows.push_back(row);
  return rows;
}

void RejectedRows::Publish() {
  standing_.Set(static_cast<double>(rows_.size()));
  if (rows_.empty()) return health_.Report(kComponent, true, "none");
  std::string detail = std::to_string(rows_.size()) + " app row(s) capture could not map do not reach clients " +
                       "(`crbridge check` lists them): ";
  size_t named = 0;
  for (const auto& [key, row] : rows_) {
    if (named++ == kNamedInHealth) {
      detail += "; ...";
      break;
    }
    detail += (named > 1 ? "; " : "") + DescribeRejectedRow(row);
  }
  health_.Report(kComponent, false, detail);
}

}  // namespace crbridge
