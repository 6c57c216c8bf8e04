#include "crbridge/server/core/change_recorder.h"

#include <algorithm>
#include <map>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/clock_bounds.h"
#include "crbridge/sqlite/packed_pk.h"
#include "room_derivation.h"
#include "room_moves.h"
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
  bool changed = false;  // the clock gets a new version
  bool moved = false;    // a change moved the clock (for the change log)
  // Rejections (rejected_row.h): the position of the one that stands at
  // this point of the segment, whether one stood before it, the one this
  // segment makes, and where a change that maps ended one: the row is then
  // stamped anew whole, as pulls left it out meanwhile.
  std::optional<int64_t> rejected_at;
  bool was_rejected = false;
  std::optional<RejectedRow> rejection;
  std::optional<int64_t> recovered_at;
};

// The room `change` puts its row in (none: the room column is NULL, or not
// in the change, and the clock keeps the room it records).
std::optional<std::string> RoomOf(const CapturedRow& change, const ResolvedTable& t) {
  const std::optional<size_t> recorded = t.recorded_room_column();
  if (!recorded) return std::nullopt;
  const size_t r = *recorded;
  const std::optional<Value> room = r < t.pk_count ? std::optional<Value>(change.key[r]) : change.values[r - t.pk_count];
  if (!room || room->is_null()) return std::nullopt;
  return RoomText(*room);
}

// Applies one captured change to a row's clock; false when it changes
// nothing the clients must learn. Clock steps that stayed at INT64_MAX
// count in `saturated`.
bool Apply(const CapturedRow& change, int64_t position, const ResolvedTable& t, RecordedRow& row, size_t* saturated) {
  ClockRow& clock = row.clock;
  for (size_t i = 0; i < change.values.size(); ++i) {
    if (change.values[i]) row.values[i] = &*change.values[i];
  }
  const bool alive = clock.cl % 2 == 1;
  if (change.kind == CapturedRow::Kind::kDelete) {
    if (!alive) return false;
    clock.cl = NextClock(clock.cl, saturated);
  } else {
    bool changed = false;
    if (!alive) {
      clock.cl = NextClock(clock.cl, saturated);
      changed = true;
    }
    for (size_t i = 0; i < change.values.size(); ++i) {
      if (!change.values[i]) continue;
      const int64_t hash = ValueHash(*change.values[i]);
      // A new or resurrected row: every column it sends is new.
      if (alive && clock.hashes[i] == hash) continue;
      clock.versions[i] = NextClock(clock.versions[i].value_or(0), saturated);
      clock.sites[i] = 0;
      clock.hashes[i] = hash;
      changed = true;
    }
    if (!changed) return false;
    if (std::optional<std::string> room = RoomOf(change, t)) clock.room = std::move(room);
  }
  clock.lsn = position;
  return true;
}

// Whether `change` of a row it leaves as it was (Apply) finds the row in
// another room than its clock records: the table's room column is another
// since the clock was written (a mapping change, and the table is read
// again). The clock then records the new room, so that the row moves.
bool MovesRoomOnly(const CapturedRow& change, int64_t position, const ResolvedTable& t, ClockRow& clock) {
  if (change.kind == CapturedRow::Kind::kDelete || clock.cl % 2 == 0 || !t.room_column) return false;
  std::optional<std::string> room = RoomOf(change, t);
  if (!room || room == (clock.room ? clock.room : clock.stored_room)) return false;
  clock.room = std::move(room);
  clock.lsn = position;
  return true;
}

// Records one table's segment of changes: a few statements for all of
// its rows.
class SegmentRecorder {
 public:
  // `rejected` holds the positions of `t`'s standing rejections by key; it
  // is kept up to date with what the segment stores and ends.
  SegmentRecorder(ShadowTransaction& tx, SourceType source, bool log_changes, const ResolvedTable& t,
                  int64_t version, int* seq, std::map<std::string, int64_t>& rejected, RoomDerivation& rooms,
                  RecordReport* report)
      : tx_(tx), source_(source), log_changes_(log_changes), t_(t), n_(t.columns.size() - t.pk_count),
        version_(version), seq_(*seq), rejected_(rejected), rooms_(rooms), report_(report) {}
  SegmentRecorder(const SegmentRecorder&) = delete;
  SegmentRecorder& operator=(const SegmentRecorder&) = delete;

  Status Record(const std::vector<PendingChange>& changes) {
    CRBRIDGE_RETURN_IF_ERROR(GroupByRow(changes));
    CRBRIDGE_RETURN_IF_ERROR(ReadClocks());
    ApplyChanges();
    CRBRIDGE_RETURN_IF_ERROR(WriteRejections());
    return WriteClocksAndLog();
  }

 private:
  // The rows the changes touch, each with its key as the server's
  // parameters (none for a key that does not map: such a row has no
  // clock), and the changes in capture order.
  Status GroupByRow(const std::vector<PendingChange>& changes) {
    for (const PendingChange& change : changes) {
      Blob packed;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(change.row->key, &packed));
      auto [it, inserted] = rows_.try_emplace(KeyBytes(packed));
      RecordedRow& row = it->second;
      if (inserted) {
        row.clock = ClockRow(n_);
        row.before = ClockRow(n_);
        row.values.resize(n_);
        if (const auto standing = rejected_.find(it->first); standing != rejected_.end()) {
          row.rejected_at = standing->second;
          row.was_rejected = true;
        }
        packed_[&row] = std::move(packed);
      }
      if (row.key.empty()) {
        // A rejected change's key may not map; a clock is read (and the
        // change skipped when the clock has it) whenever it does.
        KeyParameters key;
        Status mapped;
        for (size_t i = 0; i < t_.pk_count && mapped.ok(); ++i) {
          mapped = ToServerParameter(source_, t_.columns[i].type, change.row->key[i],
                                     t_.mapping->name + "." + t_.columns[i].name, &key.emplace_back());
        }
        if (!mapped.ok() && change.row->rejection.empty()) return mapped;
        if (mapped.ok()) {
          row.key = std::move(key);
          row.key_values = &change.row->key;
          keys_.push_back(&row.key);
        }
      }
      ordered_.emplace_back(change, &row);
    }
    return Status::OK();
  }

  // The stored clocks; a clock's position tells which changes it has.
  Status ReadClocks() {
    return tx_.ReadClocks(t_, keys_, [&](const Blob& key, ClockRow clock) {
      RecordedRow& row = rows_.at(KeyBytes(key));
      row.recorded_through = clock.lsn;
      if (log_changes_) row.before = clock;
      row.clock = std::move(clock);
      return Status::OK();
    });
  }

  // Each change, in capture order, unless the stored clock already has it:
  // one that does not map rejects the row and leaves its clock as it was,
  // one that maps (or a delete) ends a rejection made before it. (A table
  // read again behind the stream reads at an older position than
  // rejections the stream may have made since.)
  void ApplyChanges() {
    for (auto& [change, row] : ordered_) {
      const int64_t position = change.transaction->end_position;
      if (row->recorded_through >= position) {
        ++report_->rows_skipped;
        continue;
      }
      const bool maps = change.row->rejection.empty();
      if (!maps && change.row->kind != CapturedRow::Kind::kDelete) {
        if (row->rejected_at && *row->rejected_at > position) continue;
        row->rejected_at = position;
        row->rejection = RejectedRow{t_.mapping->name, packed_.at(row), change.row->rejection, position};
        continue;
      }
      if (row->rejected_at && *row->rejected_at <= position) {
        row->rejected_at.reset();
        row->rejection.reset();
        row->recovered_at = position;
      }
      if (!maps) continue;  // the delete of a row whose key does not map: it has no clock
      if (Apply(*change.row, position, t_, *row, &report_->clocks_saturated)) {
        row->changed = row->moved = true;
        row->last = change.transaction;
      } else if (MovesRoomOnly(*change.row, position, t_, row->clock)) {
        row->changed = true;
        row->last = change.transaction;
      }
    }
    for (auto& [key, row] : rows_) {
      if (row.recovered_at && !row.changed && row.clock.stored) {
        row.clock.lsn = std::max(row.clock.lsn, *row.recovered_at);
        row.changed = true;
      }
    }
  }

  // The rejections the segment made, and those it ended.
  Status WriteRejections() {
    std::vector<RejectedRow> stored;
    std::vector<Blob> cleared;
    for (auto& [key, row] : rows_) {
      if (row.rejection) {
        stored.push_back(*row.rejection);
        rejected_[key] = row.rejection->position;
      } else if (row.was_rejected && !row.rejected_at) {
        cleared.push_back(packed_.at(&row));
        report_->cleared.push_back(RejectedRow{t_.mapping->name, cleared.back(), "", 0});
        rejected_.erase(key);
      }
    }
    if (!stored.empty()) CRBRIDGE_RETURN_IF_ERROR(tx_.RecordRejectedRows(stored));
    if (!cleared.empty()) CRBRIDGE_RETURN_IF_ERROR(tx_.ClearRejectedRows(t_.mapping->name, cleared));
    report_->rejected.insert(report_->rejected.end(), stored.begin(), stored.end());
    return Status::OK();
  }

  // The changed rows' clocks, and their changes in the change log when the
  // store keeps one.
  Status WriteClocksAndLog() {
    std::vector<ClockWrite> writes;
    std::vector<ClockToWrite> moving, placed;
    std::vector<MemberRowWrite> members;
    std::vector<LoggedChange> logged;
    for (auto& [key, row] : rows_) {
      if (!row.changed) continue;
      writes.push_back(ClockWrite{&row.key, &row.clock, version_, seq_});
      const ClockToWrite written{&packed_.at(&row), &row.clock, version_, seq_};
      if (t_.room_column) moving.push_back(written);
      if (placing_) placed.push_back(written);
      if (holds_members_ && row.moved) {
        members.push_back(MemberRowWrite{&packed_.at(&row), row.key_values, row.values, row.clock.cl % 2 == 0});
      }
      if (log_changes_ && row.moved) {
        logged.push_back(LoggedChange{row.key_values, &row.before, &row.clock, row.values, seq_,
                                      row.last->end_position, row.last->commit_time_us});
      }
      ++seq_;
    }
    CRBRIDGE_RETURN_IF_ERROR(RecordRoomMoves(tx_, t_, moving));
    CRBRIDGE_RETURN_IF_ERROR(tx_.WriteClocks(t_, writes));
    CRBRIDGE_RETURN_IF_ERROR(rooms_.ClocksWritten(t_, placed));
    if (!members.empty()) CRBRIDGE_RETURN_IF_ERROR(rooms_.MembersWritten(t_, members));
    if (log_changes_) CRBRIDGE_RETURN_IF_ERROR(tx_.LogChanges(t_, version_, {}, logged));
    report_->rows_changed += writes.size();
    if (!writes.empty()) report_->db_version = version_;
    return Status::OK();
  }

  ShadowTransaction& tx_;
  const SourceType source_;
  const bool log_changes_;
  const ResolvedTable& t_;
  const size_t n_;  // value columns
  const int64_t version_;
  int& seq_;
  std::map<std::string, int64_t>& rejected_;
  RoomDerivation& rooms_;
  RecordReport* report_;
  const bool placing_ = rooms_.graph().Concerns(t_);
  const bool holds_members_ = !rooms_.graph().RulesHeldBy(t_).empty();
  std::map<std::string, RecordedRow> rows_;
  std::map<const RecordedRow*, Blob> packed_;  // each row's packed key
  std::vector<const std::vector<ServerParameter>*> keys_;
  std::vector<std::pair<PendingChange, RecordedRow*>> ordered_;
};

// Kills live clocks of `t` older than `transaction` (a truncate, or the
// rows a table read whole no longer has); each is logged as a delete when
// the store logs changes. Their rejections, those older than it (of
// `rejected`, the table's), end with them.
Status RecordKills(ShadowTransaction& tx, bool log_changes, const ResolvedTable& t, ShadowTransaction::Kill which,
                   int64_t version, const CapturedTransaction& transaction, int* seq,
                   std::map<std::string, int64_t>& rejected, RoomDerivation& rooms, RecordReport* report) {
  std::vector<Blob> ended;
  for (auto it = rejected.begin(); it != rejected.end();) {
    if (it->second >= transaction.end_position) {
      ++it;
      continue;
    }
    ended.emplace_back(it->first.begin(), it->first.end());
    report->cleared.push_back(RejectedRow{t.mapping->name, ended.back(), "", 0});
    it = rejected.erase(it);
  }
  if (!ended.empty()) CRBRIDGE_RETURN_IF_ERROR(tx.ClearRejectedRows(t.mapping->name, ended));
  const size_t n = t.columns.size() - t.pk_count;
  std::vector<std::vector<Value>> keys;
  std::vector<int64_t> cls;
  size_t killed = 0;
  // Memberships die with their rows.
  const bool holds_members = !rooms.graph().RulesHeldBy(t).empty();
  CRBRIDGE_RETURN_IF_ERROR(tx.KillLiveClocks(t, which, transaction.end_position, version, (*seq)++,
                                             log_changes || holds_members,
                                             [&](std::vector<Value> key, int64_t cl) {
                                               keys.push_back(std::move(key));
                                               cls.push_back(cl);
                                               return Status::OK();
                                             },
                                             &killed));
  report->rows_changed += killed;
  if (killed > 0) report->db_version = version;
  if (holds_members) {
    std::vector<Blob> packed(keys.size());
    std::vector<MemberRowWrite> members;
    for (size_t r = 0; r < keys.size(); ++r) {
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(keys[r], &packed[r]));
      members.push_back(MemberRowWrite{&packed[r], &keys[r], {}, true});
    }
    CRBRIDGE_RETURN_IF_ERROR(rooms.MembersWritten(t, members));
  }
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

ChangeRecorder::ChangeRecorder(ShadowStore& writer, SourceType source, const std::vector<ResolvedTable>& tables)
    : writer_(writer), source_(source), graph_(std::make_unique<RoomGraph>(tables)) {}

ChangeRecorder::~ChangeRecorder() = default;

Status ChangeRecorder::Record(const std::vector<CapturedTransaction>& transactions, RecordReport* report,
                              const std::string& resume) {
  *report = RecordReport{};
  bool any_rows = false;
  for (const CapturedTransaction& transaction : transactions) any_rows = any_rows || !transaction.rows.empty();
  if (!any_rows) return Status::OK();
  return Write(report, [&](ShadowTransaction& tx, int64_t version, RejectedKeys& rejected) {
    int seq = 0;
    return RecordIn(tx, version, transactions, resume, &seq, rejected, report);
  });
}

Status ChangeRecorder::RecordSnapshot(const CapturedTransaction& rows, const ResolvedTable& table, bool last,
                                      const std::optional<std::string>& capture_resume, RecordReport* report) {
  *report = RecordReport{};
  return Write(report, [&](ShadowTransaction& tx, int64_t version, RejectedKeys& rejected) {
    int seq = 0;
    CRBRIDGE_RETURN_IF_ERROR(RecordIn(tx, version, std::span(&rows, 1), capture_resume, &seq, rejected, report));
    if (!last) return Status::OK();
    RoomDerivation rooms(tx, source_, *graph_, version, &seq);
    CRBRIDGE_RETURN_IF_ERROR(RecordKills(tx, writer_.logs_changes(), table, ShadowTransaction::Kill::kRowsTheAppLacks,
                                         version, rows, &seq, rejected[table.mapping->name], rooms, report));
    return tx.MarkSnapshotDone(table, rows.end_position);
  });
}

Status ChangeRecorder::StandingRejections(std::vector<RejectedRow>* rows) {
  rows->clear();
  rejected_.reset();
  CRBRIDGE_RETURN_IF_ERROR(writer_.RejectedRows(rows));
  RejectedKeys keys;
  for (const RejectedRow& row : *rows) keys[row.table][KeyBytes(row.key)] = row.position;
  rejected_ = std::move(keys);
  return Status::OK();
}

Status ChangeRecorder::Write(
    RecordReport* report,
    const std::function<Status(ShadowTransaction& tx, int64_t version, RejectedKeys& rejected)>& record) {
  if (!rejected_) {
    std::vector<RejectedRow> standing;
    CRBRIDGE_RETURN_IF_ERROR(StandingRejections(&standing));
  }
  RejectedKeys rejected;
  const Status written = writer_.Write([&](ShadowTransaction& tx, int64_t version) {
    *report = RecordReport{};
    rejected = *rejected_;
    return record(tx, version, rejected);
  });
  if (written.ok()) {
    rejected_ = std::move(rejected);
  } else {
    rejected_.reset();  // read again: a commit may have got through
  }
  return written;
}

Status ChangeRecorder::RecordIn(ShadowTransaction& tx, int64_t version,
                                std::span<const CapturedTransaction> transactions,
                                const std::optional<std::string>& resume, int* seq, RejectedKeys& rejected,
                                RecordReport* report) {
  // Changes are recorded a table at a time: a few statements for all of a
  // table's rows. A truncate ends its table's segment, as the changes
  // after it apply to what it left.
  std::map<const ResolvedTable*, std::vector<PendingChange>> segments;
  RoomDerivation rooms(tx, source_, *graph_, version, seq);
  const auto flush = [&](const ResolvedTable& t) -> Status {
    std::vector<PendingChange>& changes = segments[&t];
    if (changes.empty()) return Status::OK();
    SegmentRecorder segment(tx, source_, writer_.logs_changes(), t, version, seq, rejected[t.mapping->name], rooms,
                            report);
    CRBRIDGE_RETURN_IF_ERROR(segment.Record(changes));
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
      CRBRIDGE_RETURN_IF_ERROR(RecordKills(tx, writer_.logs_changes(), *row.table, ShadowTransaction::Kill::kEveryLiveRow,
                                           version, transaction, seq, rejected[row.table->mapping->name], rooms,
                                           report));
    }
  }
  for (auto& [table, changes] : segments) CRBRIDGE_RETURN_IF_ERROR(flush(*table));
  if (!resume) return Status::OK();
  // Snapshots record rows at older positions: the position never goes back.
  return tx.SetCapturePosition(SourcePosition{transactions.back().end_position, *resume});
}

}  // namespace crbridge
