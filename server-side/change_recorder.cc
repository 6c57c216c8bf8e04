#include "crbridge/server/postgres_change_recorder.h"

#include <map>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/sql_quote.h"
#include "postgres_batch.h"
#include "postgres_change_log.h"
#include "postgres_clock_rows.h"
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
  std::vector<ServerParameter> key;
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

// The rows a truncate killed, `dead` (their key columns as text, then
// their new causal length), each as a delete in the change log.
Status LogTruncated(pqxx::work& tx, const std::string& log_table, const ResolvedTable& t, int64_t version,
                    const CapturedTransaction& transaction, const pqxx::result& dead, int* seq) {
  const size_t n = t.columns.size() - t.pk_count;
  const size_t count = static_cast<size_t>(dead.size());
  std::vector<std::vector<Value>> keys(count, std::vector<Value>(t.pk_count));
  std::vector<ClockRow> before(count, ClockRow(n)), after(count, ClockRow(n));
  std::vector<LoggedChange> logged;
  for (size_t r = 0; r < count; ++r) {
    const pqxx::row row = dead[static_cast<pqxx::result::size_type>(r)];
    for (size_t i = 0; i < t.pk_count; ++i) {
      CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[i].type, row[static_cast<int>(i)], &keys[r][i]));
    }
    after[r].cl = row[static_cast<int>(t.pk_count)].as<int64_t>();
    before[r].stored = true;
    before[r].cl = after[r].cl - 1;
    // A delete logs no columns, so it needs no values.
    logged.push_back(LoggedChange{&keys[r], &before[r], &after[r], std::vector<const Value*>(n), (*seq)++,
                                  transaction.end_position, transaction.commit_time_us});
  }
  return LogChanges(tx, log_table, t, version, {}, logged);
}

}  // namespace

Status PostgresChangeRecorder::Record(const std::vector<CapturedTransaction>& transactions, RecordReport* report) {
  *report = RecordReport{};
  bool any_rows = false;
  for (const CapturedTransaction& transaction : transactions) any_rows = any_rows || !transaction.rows.empty();
  if (!any_rows) return Status::OK();
  return writer_.Write([&](pqxx::work& tx, int64_t version) { return RecordIn(tx, version, transactions, report); });
}

Status PostgresChangeRecorder::RecordSnapshotEnd(const std::vector<CapturedTransaction>& transactions,
                                                 const ResolvedTable& table, int64_t position, RecordReport* report) {
  *report = RecordReport{};
  return writer_.Write([&](pqxx::work& tx, int64_t version) {
    CRBRIDGE_RETURN_IF_ERROR(RecordIn(tx, version, transactions, report));
    tx.exec_params0("UPDATE " + writer_.MetadataTable("tables") + " SET snapshot_lsn = $2 WHERE name = $1",
                    table.mapping->name, position);
    return Status::OK();
  });
}

Status PostgresChangeRecorder::RecordIn(pqxx::work& tx, int64_t version,
                                        const std::vector<CapturedTransaction>& transactions, RecordReport* report) {
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
          CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(SourceType::kPostgres, t.columns[i].type, change.row->key[i],
                                                     t.mapping->name + "." + t.columns[i].name, &p));
          row.key.push_back(std::move(p));
        }
        keys.push_back(&row.key);
      }
      ordered.emplace_back(change, &row);
    }
    const std::string clock_table = writer_.ClockTable(t.mapping->name);
    CRBRIDGE_RETURN_IF_ERROR(ReadClockRows(tx, clock_table, t, keys, [&](const Blob& key, ClockRow clock) {
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
    WriteClockRows(tx, clock_table, t, writes);
    if (writer_.logs_changes()) {
      CRBRIDGE_RETURN_IF_ERROR(LogChanges(tx, writer_.MetadataTable("change_events"), t, version, {}, logged));
    }
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
      // Every live row dies, except rows a later write already recorded.
      const ResolvedTable& t = *row.table;
      // The killed rows come back only for the change log.
      std::string returning;
      for (size_t i = 0; writer_.logs_changes() && i <= t.pk_count; ++i) {
        returning += i < t.pk_count ? QuoteIdentifier(t.columns[i].server.name) + "::text, " : "__cl";
      }
      const pqxx::result dead = tx.exec_params(
          "UPDATE " + writer_.ClockTable(t.mapping->name) +
              " SET __cl = __cl + 1, __lsn = $1, __db_version = $2, __seq = $3 WHERE __cl % 2 = 1 AND __lsn < $1" +
              (returning.empty() ? std::string() : " RETURNING " + returning),
          transaction.end_position, version, seq++);
      report->rows_changed += static_cast<size_t>(dead.affected_rows());
      if (dead.affected_rows() > 0) report->db_version = version;
      if (writer_.logs_changes()) {
        CRBRIDGE_RETURN_IF_ERROR(
            LogTruncated(tx, writer_.MetadataTable("change_events"), t, version, transaction, dead, &seq));
      }
    }
  }
  for (auto& [table, changes] : segments) CRBRIDGE_RETURN_IF_ERROR(flush(*table));
  // Snapshots record rows at older positions: the position never goes back.
  tx.exec_params0("UPDATE " + writer_.MetadataTable("capture") + " SET lsn = GREATEST(lsn, $1)", transactions.back().end_position);
  return Status::OK();
}

}  // namespace crbridge
