// Pulls' reads on MySQL/MariaDB (docs/server-side.md, "Pulls"), on the
// consistent snapshot the store opened.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

// Rows of a table without a room column belong to every room.
bool FiltersRoom(const ResolvedTable& t, const std::optional<std::string>& room) {
  return room && t.room_column;
}

// The clock rows (alias c) after `after` and up to `through`, of `room`:
// the condition; BindPositionRange binds its parameters. The bounds on the
// version alone let the version index serve it.
std::string PositionRange(const ResolvedTable& t, const std::optional<std::string>& room) {
  return "c.__db_version >= ? AND c.__db_version <= ? AND (c.__db_version > ? OR c.__seq > ?) AND "
         "(c.__db_version < ? OR c.__seq <= ?)" +
         std::string(FiltersRoom(t, room) ? " AND c.__room = ?" : "");
}

void BindPositionRange(MysqlBinder& bind, const ResolvedTable& t, const PullPosition& after,
                       const PullPosition& through, const std::optional<std::string>& room) {
  bind.Int(after.version).Int(through.version).Int(after.version).Int(after.seq).Int(through.version).Int(through.seq);
  if (FiltersRoom(t, room)) bind.Text(*room);
}

// The clock table of `t` (alias c) joined with its app rows (alias t).
std::string ClockJoinedWithAppRows(const ResolvedTable& t, const std::string& clock_table) {
  std::vector<std::string> join;
  for (size_t i = 0; i < t.pk_count; ++i) {
    const std::string column = QuoteName(t.columns[i].server.name);
    join.push_back("t." + column + " = c." + column);
  }
  return clock_table + " c LEFT JOIN " + AppTable(t) + " t ON " + Join(join, " AND ");
}

}  // namespace

Status MysqlShadowSnapshot::VersionsAfter(const ResolvedTable& t, int64_t after, const std::optional<std::string>& room,
                                          size_t limit, std::vector<int64_t>* versions) {
  return CatchErrors([&]() -> Status {
    sql::PreparedStatement& select = session_.Prepare("SELECT __db_version FROM " + names_.ClockTable(t) +
                                                      " WHERE __db_version > ?" +
                                                      (FiltersRoom(t, room) ? " AND __room = ?" : "") +
                                                      " ORDER BY __db_version LIMIT ?");
    MysqlBinder bind(select);
    bind.Int(after);
    if (FiltersRoom(t, room)) bind.Text(*room);
    bind.Int(static_cast<int64_t>(limit));
    std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
    versions->clear();
    while (rows->next()) versions->push_back(rows->getInt64(1));
    return Status::OK();
  });
}

Status MysqlShadowSnapshot::RowSizes(const ResolvedTable& t, const PullPosition& after, int64_t through,
                                     const std::optional<std::string>& room, size_t limit,
                                     std::vector<RowSize>* sizes) {
  return CatchErrors([&]() -> Status {
    std::string bytes = "0";
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const ResolvedColumn& c = t.columns[i];
      if (!CountsTowardsRowSize(c.type)) continue;
      bytes += std::string(" + COALESCE(LENGTH(") + (i < t.pk_count ? "c." : "t.") + QuoteName(c.server.name) + "), 0)";
    }
    sql::PreparedStatement& select = session_.Prepare(
        "SELECT c.__db_version, c.__seq, " + bytes + " FROM " + ClockJoinedWithAppRows(t, names_.ClockTable(t)) +
        " WHERE " + PositionRange(t, room) + " ORDER BY c.__db_version, c.__seq LIMIT ?");
    MysqlBinder bind(select);
    BindPositionRange(bind, t, after, PullPosition(through), room);
    bind.Int(static_cast<int64_t>(limit));
    std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
    sizes->clear();
    while (rows->next()) sizes->push_back({rows->getInt64(1), rows->getInt64(2), rows->getInt64(3)});
    return Status::OK();
  });
}

Status MysqlShadowSnapshot::RowsBetween(const ResolvedTable& t, const PullPosition& after,
                                        const PullPosition& through, const std::optional<std::string>& room,
                                        const std::function<Status(PulledRow row)>& found) {
  return CatchErrors([&]() -> Status {
    const size_t n = t.columns.size() - t.pk_count;
    std::vector<std::string> select;
    for (size_t i = 0; i < t.pk_count; ++i) select.push_back(ColumnText(t.columns[i], "c"));
    select.push_back("c.__cl, c.__col_versions, c.__col_sites, c.__col_hashes, c.__lsn, c.__room, c.__db_version, "
                     "c.__seq, t." + QuoteName(t.columns[0].server.name) + " IS NOT NULL");
    for (size_t i = t.pk_count; i < t.columns.size(); ++i) select.push_back(ColumnText(t.columns[i], "t"));
    sql::PreparedStatement& statement =
        session_.Prepare("SELECT " + Join(select, ", ") + " FROM " + ClockJoinedWithAppRows(t, names_.ClockTable(t)) +
                         " WHERE " + PositionRange(t, room));
    MysqlBinder bind(statement);
    BindPositionRange(bind, t, after, through, room);
    std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
    const auto base = static_cast<uint32_t>(t.pk_count);
    while (rows->next()) {
      PulledRow row;
      CRBRIDGE_RETURN_IF_ERROR(ReadKey(t, *rows, 1, &row.key));
      row.clock = ClockRow(n);
      row.clock.stored = true;
      row.clock.cl = rows->getInt64(base + 1);
      row.clock.versions = ParseClockArray(std::string(rows->getString(base + 2)), n);
      row.clock.sites = ParseClockArray(std::string(rows->getString(base + 3)), n);
      row.clock.hashes = ParseClockArray(std::string(rows->getString(base + 4)), n);
      row.clock.lsn = rows->getInt64(base + 5);
      if (!rows->isNull(base + 6)) row.clock.room = std::string(rows->getString(base + 6));
      row.db_version = rows->getInt64(base + 7);
      row.seq = rows->getInt(base + 8);
      row.app_row_exists = rows->getInt(base + 9) != 0;
      // A dead row's values are not sent.
      if (row.clock.cl % 2 == 1 && row.app_row_exists) {
        row.values.resize(n);
        for (size_t i = 0; i < n; ++i) {
          row.app_values_map = row.app_values_map && ReadField(t.columns[t.pk_count + i].type, *rows,
                                                               base + 10 + static_cast<uint32_t>(i), &row.values[i])
                                                         .ok();
        }
      }
      CRBRIDGE_RETURN_IF_ERROR(found(std::move(row)));
    }
    return Status::OK();
  });
}

Status MysqlShadowSnapshot::Sites(std::map<int64_t, SiteId>* sites) {
  return CatchErrors([&]() -> Status {
    std::unique_ptr<sql::ResultSet> rows(session_.Query("SELECT ordinal, site_id FROM " + names_.Table("sites")));
    while (rows->next()) {
      const std::string id = rows->getString(2);
      SiteId& site = (*sites)[rows->getInt64(1)];
      if (id.size() != site.size()) return Status::Corruption("mysql: a stored site id is not 16 bytes");
      std::copy(id.begin(), id.end(), site.begin());
    }
    return Status::OK();
  });
}

}  // namespace crbridge::mysql
