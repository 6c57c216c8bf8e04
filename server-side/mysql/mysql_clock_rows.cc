// The row-wide clocks of a mapped table's clock table (docs/server-side.md)
// on MySQL/MariaDB: read and written for a whole batch in multi-row
// statements. Clocks need no row locks: every crbridge writer holds the
// db_version counter's row lock until it commits.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

// The clock columns after the key, as WriteClocks binds them.
constexpr const char* kClockColumns[] = {"__cl",  "__col_versions", "__col_sites", "__col_hashes",
                                         "__lsn", "__db_version",   "__seq",       "__room"};
constexpr size_t kClockColumnCount = std::size(kClockColumns);

std::string KeyText(const ResolvedTable& t, std::string_view alias) {
  std::vector<std::string> columns;
  for (size_t i = 0; i < t.pk_count; ++i) columns.push_back(ColumnText(t.columns[i], alias));
  return Join(columns, ", ");
}

// The clocks of the rows `where` (on the clock table, its parameters bound
// by `bind`) selects.
Status SelectClocks(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t,
                    const std::string& where, const std::function<void(MysqlBinder&)>& bind,
                    const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  const size_t n = t.columns.size() - t.pk_count;
  const auto base = static_cast<uint32_t>(t.pk_count);
  sql::PreparedStatement& select = session.Prepare(
      "SELECT " + KeyText(t, "") + ", __cl, __col_versions, __col_sites, __col_hashes, __lsn, __room FROM " +
      names.ClockTable(t) + " WHERE " + where);
  MysqlBinder binder(select);
  bind(binder);
  std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
  while (rows->next()) {
    Blob packed;
    CRBRIDGE_RETURN_IF_ERROR(ReadPackedKey(t, *rows, 1, &packed));
    ClockRow clock(n);
    clock.stored = true;
    clock.cl = rows->getInt64(base + 1);
    clock.versions = ParseClockArray(std::string(rows->getString(base + 2)), n);
    clock.sites = ParseClockArray(std::string(rows->getString(base + 3)), n);
    clock.hashes = ParseClockArray(std::string(rows->getString(base + 4)), n);
    clock.lsn = rows->getInt64(base + 5);
    if (!rows->isNull(base + 6)) clock.stored_room = std::string(rows->getString(base + 6));
    clock.stored_cl = clock.cl;
    CRBRIDGE_RETURN_IF_ERROR(found(packed, std::move(clock)));
  }
  return Status::OK();
}

}  // namespace

Status MysqlShadowTransaction::ReadClocks(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                          const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  return CatchErrors([&]() -> Status {
    return ForEachBatch(keys.size(), t.pk_count, kBatchRows, [&](size_t first, size_t count) -> Status {
      const std::vector<const KeyParameters*> chunk = Slice(keys, first, count);
      return SelectClocks(session_, names_, t, KeyIn(t, chunk.size()), [&](MysqlBinder& bind) { bind.Keys(chunk); },
                          found);
    });
  });
}

Status MysqlShadowTransaction::ReadClocksInRooms(const ResolvedTable& t, const std::vector<std::string>& rooms,
                                                 const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  return CatchErrors([&]() -> Status {
    return ForEachBatch(rooms.size(), 1, kBatchRows, [&](size_t first, size_t count) -> Status {
      return SelectClocks(session_, names_, t, "__room IN " + Placeholders(1, count),
                          [&](MysqlBinder& bind) {
                            for (size_t i = first; i < first + count; ++i) bind.Text(rooms[i]);
                          },
                          found);
    });
  });
}

// One multi-row upsert for new and stored clocks alike: the clock table is
// crbridge's own, so an upsert cannot meet an app's triggers or required
// columns, and it is the cheapest batched update MySQL has. An unset room
// keeps the stored one.
Status MysqlShadowTransaction::WriteClocks(const ResolvedTable& t, const std::vector<ClockWrite>& writes) {
  return CatchErrors([&]() -> Status {
    const size_t width = t.pk_count + kClockColumnCount;
    std::vector<std::string> updates;
    for (const char* column : kClockColumns) {
      const std::string value = "VALUES(" + std::string(column) + ")";
      updates.push_back(std::string(column) + " = " +
                        (column == std::string_view("__room") ? "COALESCE(" + value + ", __room)" : value));
    }
    return ForEachBatch(writes.size(), width, kBatchRows, [&](size_t first, size_t count) -> Status {
      std::vector<std::string> columns;
      for (size_t i = 0; i < t.pk_count; ++i) columns.push_back(QuoteName(t.columns[i].server.name));
      columns.insert(columns.end(), std::begin(kClockColumns), std::end(kClockColumns));
      sql::PreparedStatement& upsert = session_.Prepare(
          "INSERT INTO " + names_.ClockTable(t) + " (" + Join(columns, ", ") + ") VALUES " + Placeholders(count, width) +
          " ON DUPLICATE KEY UPDATE " + Join(updates, ", "));
      MysqlBinder bind(upsert);
      for (size_t w = first; w < first + count; ++w) {
        const ClockWrite& write = writes[w];
        const ClockRow& c = *write.clock;
        bind.Keys({write.key});
        bind.Int(c.cl).Text(ClockArrayText(c.versions)).Text(ClockArrayText(c.sites)).Text(ClockArrayText(c.hashes));
        bind.Int(c.lsn).Int(write.db_version).Int(write.seq);
        if (c.room) {
          bind.Text(*c.room);
        } else {
          bind.Null();
        }
      }
      upsert.executeUpdate();
      return Status::OK();
    });
  });
}

Status MysqlShadowTransaction::KillLiveClocks(const ResolvedTable& t, Kill which, int64_t position, int64_t db_version,
                                              int seq, bool report_dead,
                                              const std::function<Status(std::vector<Value> key, int64_t cl)>& dead,
                                              size_t* killed) {
  const bool reads_app = which == Kill::kRowsTheAppLacks;
  const auto lock_wait = [&](const std::string& seconds) {
    return CatchErrors([&] {
      session_.Execute("SET SESSION lock_wait_timeout = " + seconds);
      return Status::OK();
    });
  };
  if (reads_app) CRBRIDGE_RETURN_IF_ERROR(lock_wait(std::to_string(kAppTableLockWaitSeconds)));
  const Status s = CatchErrors([&]() -> Status {
    // A causal length at the top (stored before client clocks were
    // bounded, clock_bounds.h) stays where it is rather than overflow.
    std::string doomed = " WHERE c.__cl % 2 = 1 AND c.__lsn < ? AND c.__cl < 9223372036854775807";
    if (which == Kill::kRowsTheAppLacks) {
      std::vector<std::string> same;
      for (size_t i = 0; i < t.pk_count; ++i) {
        const std::string key = QuoteName(t.columns[i].server.name);
        same.push_back("a." + key + " = c." + key);
      }
      doomed += " AND NOT EXISTS (SELECT 1 FROM " + AppTable(t) + " a WHERE " + Join(same, " AND ") + ")";
    }
    // MySQL has no UPDATE ... RETURNING: the rows are read first. No other
    // writer changes clocks before this transaction commits.
    std::vector<std::pair<std::vector<Value>, int64_t>> rows;
    if (report_dead) {
      sql::PreparedStatement& select =
          session_.Prepare("SELECT " + KeyText(t, "c") + ", c.__cl + 1 FROM " + names_.ClockTable(t) + " c" + doomed);
      MysqlBinder(select).Int(position);
      std::unique_ptr<sql::ResultSet> result(select.executeQuery());
      while (result->next()) {
        std::vector<Value> key;
        CRBRIDGE_RETURN_IF_ERROR(ReadKey(t, *result, 1, &key));
        rows.emplace_back(std::move(key), result->getInt64(static_cast<uint32_t>(t.pk_count + 1)));
      }
    }
    sql::PreparedStatement& update =
        session_.Prepare("UPDATE " + names_.ClockTable(t) +
                         " c SET c.__cl = c.__cl + 1, c.__lsn = ?, c.__db_version = ?, c.__seq = ?" + doomed);
    MysqlBinder(update).Int(position).Int(db_version).Int(seq).Int(position);
    *killed = static_cast<size_t>(update.executeUpdate());
    for (auto& [key, cl] : rows) CRBRIDGE_RETURN_IF_ERROR(dead(std::move(key), cl));
    return Status::OK();
  });
  if (!reads_app) return s;
  CRBRIDGE_RETURN_IF_ERROR(lock_wait("DEFAULT"));
  return s.code() == Status::Code::kAborted ? AppTableBusy(t, s.message()) : s;
}

}  // namespace crbridge::mysql
