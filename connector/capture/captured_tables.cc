#include "crbridge/connector/capture/captured_tables.h"

#include <algorithm>

#include "crbridge/connector/ops/structured_log.h"

namespace crbridge {

CapturedTables::CapturedTables(const std::vector<ResolvedTable>& tables, ShadowStore& writer,
                               const CaptureOptions& options, Metrics& metrics)
    : tables_(tables), writer_(writer), options_(options), metrics_(metrics) {
  for (const ResolvedTable& t : tables_) states_[&t];
}

Status CapturedTables::Load() {
  for (const ResolvedTable& t : tables_) CRBRIDGE_RETURN_IF_ERROR(writer_.SnapshotPosition(t, &state(t).snapshot));
  return Status::OK();
}

bool CapturedTables::NoneRead() const {
  return std::none_of(tables_.begin(), tables_.end(), [&](const ResolvedTable& t) { return state(t).snapshot; });
}

bool CapturedTables::Settled() const {
  return std::all_of(tables_.begin(), tables_.end(), [&](const ResolvedTable& t) {
    return state(t).snapshot && state(t).named != Named::kNothing;
  });
}

std::vector<const ResolvedTable*> CapturedTables::ToRead() const {
  std::vector<const ResolvedTable*> out;
  for (const ResolvedTable& t : tables_) {
    if (!state(t).snapshot && state(t).named != Named::kNothing) out.push_back(&t);
  }
  return out;
}

void CapturedTables::Read(const ResolvedTable& t, int64_t position) {
  state(t).snapshot = position;
  state(t).named = Named::kTheSameTable;
}

bool CapturedTables::Superseded(const ResolvedTable& t, int64_t position) const {
  const std::optional<int64_t>& snapshot = state(t).snapshot;
  return snapshot && position <= *snapshot;
}

void CapturedTables::DropSuperseded(CapturedTransaction* transaction) const {
  std::erase_if(transaction->rows,
                [&](const CapturedRow& row) { return Superseded(*row.table, transaction->end_position); });
}

Status CapturedTables::Forget(const ResolvedTable& t, const std::string& why) {
  State& s = state(t);
  if (!s.snapshot) return Status::OK();
  CRBRIDGE_RETURN_IF_ERROR(writer_.ForgetSnapshot(t));
  s.snapshot.reset();
  metrics_.CaptureTableRereads(t.mapping->name).Increment();
  log::Warn("capture", "a mapped table will be read whole again",
            {{"table", t.mapping->name}, {"source", t.mapping->QualifiedSource()}, {"reason", why}});
  return Status::OK();
}

Status CapturedTables::Saw(const ResolvedTable& t, Named named) {
  State& s = state(t);
  const bool was_away = s.named == Named::kNothing;
  s.named = named;
  switch (named) {
    case Named::kNothing:
      if (!was_away) {
        log::Error("capture", "a mapped table is away: no table has its name; its app writes do not reach clients "
                   "until a table has the name again",
                   {{"table", t.mapping->name}, {"source", t.mapping->QualifiedSource()}});
      }
      metrics_.CaptureTableAway(t.mapping->name).Set(1);
      // Writes made meanwhile may never reach the stream (a table dropped
      // from the publication, a binlog under another name).
      return Forget(t, "no table has its name (renamed or dropped)");
    case Named::kAnotherTable:
      metrics_.CaptureTableAway(t.mapping->name).Set(0);
      return Forget(t, "its name names another table now (dropped and created again, or replaced)");
    case Named::kTheSameTable:
      if (was_away) log::Info("capture", "a mapped table is back", {{"table", t.mapping->name}});
      metrics_.CaptureTableAway(t.mapping->name).Set(0);
      return Status::OK();
  }
  return Status::OK();
}

void CapturedTables::Checked(Clock::time_point now) {
  next_check_ = now + options_.table_check_interval;
  std::string away = AwayText();
  if (reported_away_ == away) return;
  reported_away_ = away;
  if (options_.on_tables_away) options_.on_tables_away(away);
}

std::string CapturedTables::AwayText() const {
  std::string out;
  for (const ResolvedTable& t : tables_) {
    if (state(t).named != Named::kNothing) continue;
    out += (out.empty() ? "" : "; ") + t.mapping->name + " (" + t.mapping->QualifiedSource() +
           "): no table has this name (renamed or dropped); its app writes do not reach clients until one has";
  }
  return out;
}

}  // namespace crbridge
