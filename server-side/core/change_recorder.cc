#include "crbridge/server/core/change_recorder.h"

#include <map>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/packed_pk.h"
#include "row_identity.h"
#include "value_hash.h"

namespace crbridge {
namespace {

struct PendingChange {
  const CapturedRow* row;
  const CapturedTransaction* transaction;
};

// A row of one table's segment: its clock as it evolves through the
// segment's changes.
struct RecordedRow {
  KeyParameters key;
  const std::vector<Value>* key_values = nullptr;
  ClockRow clock;
  // For the change log: the clock as stored, the last captured value of
  // each column (in the captured rows, which outlive the recording), and
  // the last transaction that changed the row.
  ClockRow before;
  std::vector<const Value*> values;
  const CapturedTransaction* last = nullptr;
  // The position the stored clock reflects: changes up to it are in it.
  int64_t recorded_through = -1;
  bool changed = false;
};

// Applies one captured change to a row's clock; false when it changes
// nothing the clients must learn.
bool Apply(const CapturedRow& change, int64_t position, const ResolvedTable& t, RecordedRow& row) {
  ClockRow& clock = row.clock;
  for (size_t i = 0; i < change.values.size(); ++i) {
    if (change.values[i]) row.values[i] = &*change.values[i];
  }
  const bool alive = clock.cl % 2 == 1;
  if (change.kind == CapturedRow::Kind::kDelete) {
    if (!alive) return false;
    ++clock.cl;
  } else {
    bool changed = false;
    if (!alive) {
      ++clock.cl;
      changed = true;
    }
    for (size_t i = 0; i < change.values.size(); ++i) {
      if (!change.values[i]) continue;
      const int64_t hash = ValueHash(*change.values[i]);
      // A new or resurrected row: every column it sends is new.
      if (alive && clock.hashes[i] == hash) continue;
      clock.versions[i] = clock.versions[i].value_or(0) + 1;
      clock.sites[i] = 0;
      clock.hashes[i] = hash;
      changed = true;
    }
    if (!changed) return false;
    if (t.room_column) {
      const size_t r = *t.room_column;
      const std::optional<Value> room =
          r < t.pk_count ? std::optional<Value>(change.key[r]) : change.values[r - t.pk_count];
      if (room && !room->is_null()) clock.room = RoomText(*room);
    }
  }
  clock.lsn = position;
  return true;
}

// A truncate: every live row dies, except rows a later write already
// recorded; each is logged as a delete when the store logs changes.
Status RecordTruncate(ShadowTransaction& tx, bool log_changes, const ResolvedTable& t, int64_t version,
                      const CapturedTransaction& transaction, int* seq, RecordReport* report) {
  const size_t n = t.columns.size() - t.pk_count;
  std::vector<std::vector<Value>> keys;
  std::vector<int64_t> cls;
  size_t killed = 0;
  CRBRIDGE_RETURN_IF_ERROR(tx.KillLiveClocks(t, transaction.end_position, version, (*seq)++, log_changes,
                                             [&](std::vector<Value> key, int64_t cl) {
                                               keys.push_back(std::move(key));
                                               cls.push_back(cl);
                                               return Status::OK();
                                             },
                                             &killed));
  report->rows_changed += killed;
  if (killed > 0) report->db_version = version;
  if (!log_changes) return Status::OK();
  std::vector<ClockRow> before(keys.size(), ClockRow(n)), after(keys.size(), ClockRow(n));
  std::vector<LoggedChange> logged;
  for (size_t r = 0; r < keys.size(); ++r) {
    after[r].cl = cls[r];
    before[r].stored = true;
    before[r].cl = cls[r] - 1;
    // A delete logs no columns, so it needs no values.
    logged.push_back(LoggedChange{&keys[r], &before[r], &after[r], std::vector<const Value*>(n), (*seq)++,
                                  transaction.end_position, transaction.commit_time_us});
  }
  return tx.LogChanges(t, version, {}, logged);
}

}  // namespace

Status ChangeRecorder::Record(const std::vector<CapturedTransaction>& transactions, RecordReport* report,
                              const std::string& resume) {
  *report = RecordReport{};
  bool any_rows = false;
  for (const CapturedTransaction& transaction : transactions) any_rows = any_rows || !transaction.rows.empty();
  if (!any_rows) return Status::OK();
  return writer_.Write(
      [&](ShadowTransaction& tx, int64_t version) { return RecordIn(tx, version, transactions, resume, report); });
}

Status ChangeRecorder::RecordSnapshotEnd(const std::vector<CapturedTransaction>& transactions,
                                         const ResolvedTable& table, int64_t position, RecordReport* report,
                                         const std::string& resume) {
  *report = RecordReport{};
  return writer_.Write([&](ShadowTransaction& tx, int64_t version) {
    CRBRIDGE_RETURN_IF_ERROR(RecordIn(tx, version, transactions, resume, report));
    return tx.MarkSnapshotDone(table, position);
  });
}

Status ChangeRecorder::RecordIn(ShadowTransaction& tx, int64_t version,
                                const std::vector<CapturedTransaction>& transactions, const std::string& resume,
                                RecordReport* report) {
  int seq = 0;
  // Changes are recorded a table at a time: a few statements for all of a
  // table's rows. A truncate ends its table's segment, as the changes
  // after it apply to what it left.
  std::map<const ResolvedTable*, std::vector<PendingChange>> segments;
  const auto flush = [&](const ResolvedTable& t) -> Status {
    std::vector<PendingChange>& changes = segments[&t];
    if (changes.empty()) return Status::OK();
    const size_t n = t.columns.size() - t.pk_count;
    std::map<std::string, RecordedRow> rows;
    std::vector<const std::vector<ServerParameter>*> keys;
    std::vector<std::pair<PendingChange, RecordedRow*>> ordered;
    for (const PendingChange& change : changes) {
      Blob packed;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(change.row->key, &packed));
      auto [it, inserted] = rows.try_emplace(KeyBytes(packed));
      RecordedRow& row = it->second;
      if (inserted) {
        row.clock = ClockRow(n);
        row.before = ClockRow(n);
        row.values.resize(n);
        row.key_values = &change.row->key;
        for (size_t i = 0; i < t.pk_count; ++i) {
          ServerParameter p;
          CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(source_, t.columns[i].type, change.row->key[i],
                                                     t.mapping->name + "." + t.columns[i].name, &p));
          row.key.push_back(std::move(p));
        }
        keys.push_back(&row.key);
      }
      ordered.emplace_back(change, &row);
    }
    CRBRIDGE_RETURN_IF_ERROR(tx.ReadClocks(t, keys, [&](const Blob& key, ClockRow clock) {
      RecordedRow& row = rows.at(KeyBytes(key));
      row.recorded_through = clock.lsn;
      if (writer_.logs_changes()) row.before = clock;
      row.clock = std::move(clock);
      return Status::OK();
    }));
    for (auto& [change, row] : ordered) {
      const int64_t position = change.transaction->end_position;
      if (row->recorded_through >= position) {
        ++report->rows_skipped;
        continue;
      }
      if (Apply(*change.row, position, t, *row)) {
        row->changed = true;
        row->last = change.transaction;
      }
    }
    std::vector<ClockWrite> writes;
    std::vector<LoggedChange> logged;
    for (auto& [key, row] : rows) {
      if (!row.changed) continue;
      writes.push_back(ClockWrite{&row.key, &row.clock, version, seq});
      if (writer_.logs_changes()) {
        logged.push_back(LoggedChange{row.key_values, &row.before, &row.clock, row.values, seq,
                                      row.last->end_position, row.last->commit_time_us});
      }
      ++seq;
    }
    CRBRIDGE_RETURN_IF_ERROR(tx.WriteClocks(t, writes));
    if (writer_.logs_changes()) CRBRIDGE_RETURN_IF_ERROR(tx.LogChanges(t, version, {}, logged));
    report->rows_changed += writes.size();
    if (!writes.empty()) report->db_version = version;
    changes.clear();
    return Status::OK();
  };

  for (const CapturedTransaction& transaction : transactions) {
    for (const CapturedRow& row : transaction.rows) {
      if (row.kind != CapturedRow::Kind::kTruncate) {
        segments[row.table].push_back(PendingChange{&row, &transaction});
        continue;
      }
      CRBRIDGE_RETURN_IF_ERROR(flush(*row.table));
      CRBRIDGE_RETURN_IF_ERROR(RecordTruncate(tx, writer_.logs_changes(), *row.table, version, transaction, &seq, report));
    }
  }
  for (auto& [table, changes] : segments) CRBRIDGE_RETURN_IF_ERROR(flush(*table));
  // Snapshots record rows at older positions: the position never goes back.
  return tx.SetCapturePosition(SourcePosition{transactions.back().end_position, resume});
}

}  // namespace crbridge
