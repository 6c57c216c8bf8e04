// Rooms by membership and by reference (room_derivation.h) on MySQL and
// MariaDB: the rooms table of each table that derives its rooms, keyed
// like its clock table, and the metadata table memberships, whose member
// rows are found by their key's hash (a packed key may be longer than an
// index entry can hold), as in rejected_rows. Batches of rows are read and
// written in multi-row statements.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <cstdint>
#include <functional>


#include "crbridge/server/core/rejected_row.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

std::string Bytes(const Blob& blob) { return std::string(blob.begin(), blob.end()); }

// The key parameters of each of `rows`' packed keys.
Status KeysOf(const ResolvedTable& t, const std::vector<RowRoom>& rows, std::vector<KeyParameters>* keys) {
  keys->resize(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    CRBRIDGE_RETURN_IF_ERROR(KeyParametersOf(SourceType::kMysql, t, rows[r].pk, &(*keys)[r]));
  }
  return Status::OK();
}


// The rows of `t`'s rooms table that `where` (its parameters bound by
// `bind`) selects, in (db_version, seq) order, `limit` at the most.
Status SelectRowRooms(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t,
                      const std::string& where, const std::function<void(MysqlBinder&)>& bind, size_t limit,
                      std::vector<RowRoom>* rooms) {
  const auto base = static_cast<uint32_t>(t.pk_count);
  std::vector<std::string> select;
  for (size_t i = 0; i < t.pk_count; ++i) select.push_back(ColumnText(t.columns[i], ""));
  sql::PreparedStatement& statement = session.Prepare(
      "SELECT " + Join(select, ", ") + ", __room, __cl_offset, __db_version, __seq FROM " + names.RoomsTable(t) +
      " WHERE " + where + " ORDER BY __db_version, __seq LIMIT " + std::to_string(std::min<size_t>(limit, INT64_MAX)));
  MysqlBinder binder(statement);
  bind(binder);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  while (rows->next()) {
    RowRoom room;
    CRBRIDGE_RETURN_IF_ERROR(ReadPackedKey(t, *rows, 1, &room.pk));
    room.room = rows->getString(base + 1);
    room.cl_offset = rows->getInt64(base + 2);
    room.db_version = rows->getInt64(base + 3);
    room.seq = rows->getInt(base + 4);
    rooms->push_back(std::move(room));
  }
  return Status::OK();
}

// The rows of `t`'s rooms table whose keys are `keys`.
Status SelectRowRoomsOfKeys(MysqlSession& session, const MysqlShadowNames& names, const ResolvedTable& t,
                            const std::vector<const KeyParameters*>& keys, std::vector<RowRoom>* rooms) {
  rooms->clear();
  return ForEachBatch(keys.size(), t.pk_count, kBatchRows, [&](size_t first, size_t count) -> Status {
    const std::vector<const KeyParameters*> chunk = Slice(keys, first, count);
    return SelectRowRooms(session, names, t, KeyIn(t, chunk.size()), [&](MysqlBinder& bind) { bind.Keys(chunk); },
                          SIZE_MAX, rooms);
  });
}

}  // namespace

std::string MysqlShadowNames::RoomsTable(const ResolvedTable& t) const { return Table(t.mapping->name + "__rooms"); }

Status MysqlShadowTransaction::ReadRowRooms(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                            std::vector<RowRoom>* rooms) {
  return CatchErrors([&]() -> Status { return SelectRowRoomsOfKeys(session_, names_, t, keys, rooms); });
}

Status MysqlShadowSnapshot::RowRoomsOf(const ResolvedTable& t, const std::vector<Blob>& keys,
                                       std::vector<RowRoom>* rooms) {
  DecodedKeys decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeKeys(SourceType::kMysql, t, keys, &decoded));
  const std::vector<const KeyParameters*>& pointers = decoded.pointers;
  return CatchErrors([&]() -> Status { return SelectRowRoomsOfKeys(session_, names_, t, pointers, rooms); });
}

Status MysqlShadowSnapshot::RoomEntriesBetween(const ResolvedTable& t, const PullPosition& after,
                                               const PullPosition& through, size_t limit,
                                               std::vector<RowRoom>* entries) {
  return CatchErrors([&]() -> Status {
    entries->clear();
    // Through the index on the entries' positions.
    return SelectRowRooms(session_, names_, t,
                          "(__db_version > ? OR (__db_version = ? AND __seq > ?)) AND "
                          "(__db_version < ? OR (__db_version = ? AND __seq <= ?))",
                          [&](MysqlBinder& bind) {
                            bind.Int(after.version).Int(after.version).Int(after.seq);
                            bind.Int(through.version).Int(through.version).Int(through.seq);
                          },
                          limit, entries);
  });
}

Status MysqlShadowTransaction::WriteRowRooms(const ResolvedTable& t, const std::vector<RowRoom>& entered,
                                             const std::vector<RowRoom>& left) {
  return CatchErrors([&]() -> Status {
    std::vector<KeyParameters> keys;
    CRBRIDGE_RETURN_IF_ERROR(KeysOf(t, left, &keys));
    CRBRIDGE_RETURN_IF_ERROR(ForEachBatch(left.size(), t.pk_count + 1, kBatchRows, [&](size_t first, size_t count) {
      sql::PreparedStatement& remove =
          session_.Prepare("DELETE FROM " + names_.RoomsTable(t) + " WHERE (__room, " + KeyColumns(t, "") + ") IN (" +
                           Placeholders(count, t.pk_count + 1) + ")");
      MysqlBinder bind(remove);
      for (size_t r = first; r < first + count; ++r) bind.Text(left[r].room).Keys({&keys[r]});
      remove.executeUpdate();
      return Status::OK();
    }));
    CRBRIDGE_RETURN_IF_ERROR(KeysOf(t, entered, &keys));
    const size_t width = t.pk_count + 4;
    return ForEachBatch(entered.size(), width, kBatchRows, [&](size_t first, size_t count) {
      sql::PreparedStatement& insert = session_.Prepare(
          "INSERT IGNORE INTO " + names_.RoomsTable(t) + " (" + KeyColumns(t, "") +
          ", __room, __cl_offset, __db_version, __seq) VALUES " + Placeholders(count, width));
      MysqlBinder bind(insert);
      for (size_t r = first; r < first + count; ++r) {
        const RowRoom& row = entered[r];
        bind.Keys({&keys[r]}).Text(row.room).Int(row.cl_offset).Int(row.db_version).Int(row.seq);
      }
      insert.executeUpdate();
      return Status::OK();
    });
  });
}

Status MysqlShadowTransaction::ReadMemberships(const std::string& source, const std::vector<std::string>& keys,
                                               bool by_key, std::vector<Membership>* memberships) {
  return CatchErrors([&]() -> Status {
    memberships->clear();
    return ForEachBatch(keys.size(), 1, kBatchRows, [&](size_t first, size_t count) -> Status {
      sql::PreparedStatement& select = session_.Prepare(
          "SELECT member_pk, key_text, room FROM " + names_.Table("memberships") + " WHERE source = ? AND " +
          (by_key ? "key_text" : "member_hash") + " IN " + Placeholders(1, count));
      MysqlBinder bind(select);
      bind.Text(source);
      for (size_t i = first; i < first + count; ++i) {
        if (by_key) {
          bind.Text(keys[i]);
        } else {
          bind.Int(RejectedKeyHash(Blob(keys[i].begin(), keys[i].end())));
        }
      }
      std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
      while (rows->next()) {
        const std::string member = rows->getString(1);
        memberships->push_back(Membership{Blob(member.begin(), member.end()), rows->getString(2), rows->getString(3)});
      }
      return Status::OK();
    });
  });
}

Status MysqlShadowTransaction::WriteMemberships(const std::string& source, const std::vector<Membership>& stored,
                                                const std::vector<Blob>& removed) {
  return CatchErrors([&]() -> Status {
    CRBRIDGE_RETURN_IF_ERROR(ForEachBatch(removed.size(), 1, kBatchRows, [&](size_t first, size_t count) {
      sql::PreparedStatement& remove = session_.Prepare("DELETE FROM " + names_.Table("memberships") +
                                                        " WHERE source = ? AND member_hash IN " +
                                                        Placeholders(1, count));
      MysqlBinder bind(remove);
      bind.Text(source);
      for (size_t i = first; i < first + count; ++i) bind.Int(RejectedKeyHash(removed[i]));
      remove.executeUpdate();
      return Status::OK();
    }));
    return ForEachBatch(stored.size(), 5, kBatchRows, [&](size_t first, size_t count) {
      sql::PreparedStatement& upsert = session_.Prepare(
          "INSERT INTO " + names_.Table("memberships") + " (source, member_hash, member_pk, key_text, room) VALUES " +
          Placeholders(count, 5) +
          " ON DUPLICATE KEY UPDATE member_pk = VALUES(member_pk), key_text = VALUES(key_text), room = VALUES(room)");
      MysqlBinder bind(upsert);
      for (size_t i = first; i < first + count; ++i) {
        const Membership& membership = stored[i];
        bind.Text(source)
            .Int(RejectedKeyHash(membership.member_pk))
            .Text(Bytes(membership.member_pk))
            .Text(membership.key)
            .Text(membership.room);
      }
      upsert.executeUpdate();
      return Status::OK();
    });
  });
}

}  // namespace crbridge::mysql
