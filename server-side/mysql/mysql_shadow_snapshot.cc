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

// Whether a pull of `room` reads `t`'s rows through its rooms table.
bool ThroughRooms(const ResolvedTable& t, const std::optional<std::string>& room) {
  return room && t.derives_rooms();
}

// What pulls of `room` read as `t`'s clock rows: the clock table, or for a
// table that derives its rooms, the clocks of the room's rows whose clock
// or entry into the room is of a version BindPulledClocks binds or later,
// each at the later of the two positions, with the room's causal length
// offset and the entry's position. The two halves are disjoint, and each
// is served by an index (the clocks' version, the entries' room and
// version).
std::string PulledClocks(const MysqlShadowNames& names, const ResolvedTable& t,
                         const std::optional<std::string>& room) {
  if (!ThroughRooms(t, room)) return names.ClockTable(t);
  std::vector<std::string> key, join;
  for (size_t i = 0; i < t.pk_count; ++i) {
    const std::string column = QuoteName(t.columns[i].server.name);
    key.push_back("c." + column);
    join.push_back("e." + column + " = c." + column);
  }
  const std::string later = "(c.__db_version, c.__seq) >= (e.__db_version, e.__seq)";
  const std::string select =
      "SELECT " + Join(key, ", ") +
      ", c.__cl, c.__col_versions, c.__col_sites, c.__col_hashes, c.__lsn, c.__room, "
      "CASE WHEN " + later + " THEN c.__db_version ELSE e.__db_version END AS __db_version, "
      "CASE WHEN " + later + " THEN c.__seq ELSE e.__seq END AS __seq, "
      "e.__cl_offset, e.__db_version AS __entered_version, e.__seq AS __entered_seq FROM " +
      names.RoomsTable(t) + " e JOIN " + names.ClockTable(t) + " c ON " + Join(join, " AND ") +
      " WHERE e.__room = ? AND ";
  return "(" + select + "c.__db_version >= ? UNION ALL " + select + "e.__db_version >= ? AND c.__db_version < ?)";
}

void BindPulledClocks(MysqlBinder& bind, const ResolvedTable& t, const std::optional<std::string>& room,
                      int64_t first_version) {
  if (!ThroughRooms(t, room)) return;
  bind.Text(*room).Int(first_version).Text(*room).Int(first_version).Int(first_version);
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
    sql::PreparedStatement& select = session_.Prepare("SELECT __db_version FROM " + PulledClocks(names_, t, room) +
                                                      " c WHERE __db_version > ?" +
                                                      (FiltersRoom(t, room) ? " AND __room = ?" : "") +
                                                      " ORDER BY __db_version LIMIT ?");
    MysqlBinder bind(select);
    BindPulledClocks(bind, t, room, after + 1);
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
        "SELECT c.__db_version, c.__seq, " + bytes + " FROM " + ClockJoinedWithAppRows(t, PulledClocks(names_, t, room)) +
        " WHERE " + PositionRange(t, room) + " ORDER BY c.__db_version, c.__seq LIMIT ?");
    MysqlBinder bind(select);
    BindPulledClocks(bind, t, room, after.version);
    BindPositionRange(bind, t, after, PullPosition(through), room);
    bind.Int(static_cast<int64_t>(limit));
    std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
    sizes->clear();
    while (rows->next()) sizes->push_back({rows->getInt64(1), rows->getInt64(2), rows->getInt64(3)});
    return Status::OK();
  });
}

Status MysqlShadowSnapshot::SelectPulledRows(const ResolvedTable& t, const std::string& clocks,
                                             const std::string& extra, const std::string& where,
                                             const std::function<void(MysqlBinder&)>& bind,
                                             const std::function<Status(PulledRow row)>& found) {
  return CatchErrors([&]() -> Status {
    const size_t n = t.columns.size() - t.pk_count;
    std::vector<std::string> select;
    for (size_t i = 0; i < t.pk_count; ++i) select.push_back(ColumnText(t.columns[i], "c"));
    select.push_back("c.__cl, c.__col_versions, c.__col_sites, c.__col_hashes, c.__lsn, c.__room, c.__db_version, "
                     "c.__seq, t." + QuoteName(t.columns[0].server.name) + " IS NOT NULL");
    select.push_back(extra);
    for (size_t i = t.pk_count; i < t.columns.size(); ++i) select.push_back(ColumnText(t.columns[i], "t"));
    sql::PreparedStatement& statement = session_.Prepare("SELECT " + Join(select, ", ") + " FROM " +
                                                         ClockJoinedWithAppRows(t, clocks) + " WHERE " + where);
    MysqlBinder binder(statement);
    bind(binder);
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
      row.cl_offset = rows->getInt64(base + 10);
      row.entered = rows->getInt(base + 11) != 0;
      // A dead row's values are not sent.
      if (row.clock.cl % 2 == 1 && row.app_row_exists) {
        row.values.resize(n);
        for (size_t i = 0; i < n; ++i) {
          row.app_values_map = row.app_values_map && ReadField(t.columns[t.pk_count + i].type, *rows,
                                                               base + 12 + static_cast<uint32_t>(i), &row.values[i])
                                                         .ok();
        }
      }
      CRBRIDGE_RETURN_IF_ERROR(found(std::move(row)));
    }
    return Status::OK();
  });
}

Status MysqlShadowSnapshot::RowsBetween(const ResolvedTable& t, const PullPosition& after,
                                        const PullPosition& through, const std::optional<std::string>& room,
                                        const std::function<Status(PulledRow row)>& found) {
  return SelectPulledRows(
      t, PulledClocks(names_, t, room),
      ThroughRooms(t, room) ? "c.__cl_offset, (c.__entered_version, c.__entered_seq) > (?, ?)" : "0, 0",
      PositionRange(t, room),
      [&](MysqlBinder& bind) {
        if (ThroughRooms(t, room)) bind.Int(after.version).Int(after.seq);
        BindPulledClocks(bind, t, room, after.version);
        BindPositionRange(bind, t, after, through, room);
      },
      found);
}

Status MysqlShadowSnapshot::RowsOfKeys(const ResolvedTable& t, const std::vector<Blob>& keys,
                                       const std::function<Status(PulledRow row)>& found) {
  DecodedKeys decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeKeys(SourceType::kMysql, t, keys, &decoded));
  const std::vector<const KeyParameters*>& pointers = decoded.pointers;
  return ForEachBatch(pointers.size(), t.pk_count, kBatchRows, [&](size_t first, size_t count) -> Status {
    const std::vector<const KeyParameters*> chunk = Slice(pointers, first, count);
    return SelectPulledRows(t, names_.ClockTable(t), "0, 0", KeyIn(t, chunk.size(), "c"),
                            [&](MysqlBinder& bind) { bind.Keys(chunk); }, found);
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
