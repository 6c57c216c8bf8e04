// The exits of rows from rooms they left (RoomExit), in the metadata
// table room_exits: a statement each to read and write them (rows move
// between rooms seldom), one for a pull's range. Keys are found by their
// hash, as in rejected_rows: a packed key may be longer than an index
// entry can hold.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <cstdint>

#include "crbridge/server/core/rejected_row.h"
#include "mysql_shadow_transaction.h"

namespace crbridge::mysql {
namespace {

std::string Bytes(const Blob& blob) { return std::string(blob.begin(), blob.end()); }

Blob ReadBlob(const sql::ResultSet& rows, uint32_t index) {
  const std::string bytes = rows.getString(index);
  return Blob(bytes.begin(), bytes.end());
}

}  // namespace

Status MysqlShadowTransaction::ReadRoomExits(const ResolvedTable& t, const std::vector<Blob>& keys,
                                             std::vector<RoomExit>* exits) {
  return CatchErrors([&]() -> Status {
    exits->clear();
    sql::PreparedStatement& select = session_.Prepare("SELECT room, cl, db_version, seq FROM " +
                                                      names_.Table("room_exits") +
                                                      " WHERE table_name = ? AND key_hash = ? AND pk = ?");
    for (const Blob& key : keys) {
      MysqlBinder(select).Text(t.mapping->name).Int(RejectedKeyHash(key)).Text(Bytes(key));
      std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
      while (rows->next()) {
        exits->push_back(RoomExit{key, std::string(rows->getString(1)), rows->getInt64(2), rows->getInt64(3),
                                  rows->getInt(4)});
      }
    }
    return Status::OK();
  });
}

Status MysqlShadowTransaction::WriteRoomExits(const ResolvedTable& t, const std::vector<RoomExit>& left,
                                              const std::vector<RoomExit>& entered) {
  return CatchErrors([&]() -> Status {
    sql::PreparedStatement& remove = session_.Prepare("DELETE FROM " + names_.Table("room_exits") +
                                                      " WHERE table_name = ? AND key_hash = ? AND room = ?");
    for (const RoomExit& exit : entered) {
      MysqlBinder(remove).Text(t.mapping->name).Int(RejectedKeyHash(exit.pk)).Text(exit.room);
      remove.executeUpdate();
    }
    sql::PreparedStatement& upsert = session_.Prepare(
        "INSERT INTO " + names_.Table("room_exits") +
        " (table_name, key_hash, room, pk, cl, db_version, seq) VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "pk = VALUES(pk), cl = VALUES(cl), db_version = VALUES(db_version), seq = VALUES(seq)");
    for (const RoomExit& exit : left) {
      MysqlBinder(upsert)
          .Text(t.mapping->name)
          .Int(RejectedKeyHash(exit.pk))
          .Text(exit.room)
          .Text(Bytes(exit.pk))
          .Int(exit.cl)
          .Int(exit.db_version)
          .Int(exit.seq);
      upsert.executeUpdate();
    }
    return Status::OK();
  });
}

Status MysqlShadowSnapshot::RoomExitsBetween(const ResolvedTable& t, const std::optional<std::string>& room,
                                             const PullPosition& after, const PullPosition& through, size_t limit,
                                             std::vector<RoomExit>* exits) {
  return CatchErrors([&]() -> Status {
    exits->clear();
    sql::PreparedStatement& select = session_.Prepare(
        "SELECT pk, cl, db_version, seq, room FROM " + names_.Table("room_exits") + " WHERE table_name = ? AND " +
        (room ? "room = ? AND " : "") +
        "(db_version > ? OR (db_version = ? AND seq > ?)) AND "
        "(db_version < ? OR (db_version = ? AND seq <= ?)) ORDER BY db_version, seq LIMIT ?");
    MysqlBinder bind(select);
    bind.Text(t.mapping->name);
    if (room) bind.Text(*room);
    bind.Int(after.version)
        .Int(after.version)
        .Int(after.seq)
        .Int(through.version)
        .Int(through.version)
        .Int(through.seq)
        .Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
    while (rows->next()) {
      exits->push_back(RoomExit{ReadBlob(*rows, 1), std::string(rows->getString(5)), rows->getInt64(2),
                                rows->getInt64(3), rows->getInt(4)});
    }
    return Status::OK();
  });
}

}  // namespace crbridge::mysql
