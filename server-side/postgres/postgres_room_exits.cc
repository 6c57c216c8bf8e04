// The exits of rows from rooms they left (RoomExit), in the metadata
// table room_exits: a statement each to read and write them (rows move
// between rooms seldom), one for a pull's range.
#include <pqxx/pqxx>

#include <algorithm>
#include <cstdint>

#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/sqlite/text_encoding.h"
#include "postgres_batch.h"
#include "postgres_shadow_transaction.h"

namespace crbridge::postgres {

Status PostgresShadowTransaction::ReadRoomExits(const ResolvedTable& t, const std::vector<Blob>& keys,
                                                std::vector<RoomExit>* exits) {
  exits->clear();
  for (const Blob& key : keys) {
    for (const auto& row : tx_.exec_params("SELECT room, cl, db_version, seq FROM " + store_.MetadataTable("room_exits") +
                                               " WHERE table_name = $1 AND pk = $2::bytea",
                                           t.mapping->name, ByteaText(key))) {
      exits->push_back(RoomExit{key, row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>(), row[3].as<int>()});
    }
  }
  return Status::OK();
}

Status PostgresShadowTransaction::WriteRoomExits(const ResolvedTable& t, const std::vector<RoomExit>& left,
                                                 const std::vector<RoomExit>& entered) {
  const std::string table = store_.MetadataTable("room_exits");
  for (const RoomExit& exit : entered) {
    tx_.exec_params0("DELETE FROM " + table + " WHERE table_name = $1 AND pk = $2::bytea AND room = $3", t.mapping->name,
                     ByteaText(exit.pk), exit.room);
  }
  for (const RoomExit& exit : left) {
    tx_.exec_params0("INSERT INTO " + table + " (table_name, pk, room, cl, db_version, seq) "
                     "VALUES ($1, $2::bytea, $3, $4, $5, $6) ON CONFLICT (table_name, pk, room) DO UPDATE SET "
                     "cl = excluded.cl, db_version = excluded.db_version, seq = excluded.seq",
                     t.mapping->name, ByteaText(exit.pk), exit.room, exit.cl, exit.db_version, exit.seq);
  }
  return Status::OK();
}

Status PostgresShadowSnapshot::RoomExitsBetween(const ResolvedTable& t, const std::optional<std::string>& room,
                                                const PullPosition& after, const PullPosition& through, size_t limit,
                                                std::vector<RoomExit>* exits) {
  exits->clear();
  const pqxx::result rows = tx_.exec_params(
      "SELECT pk, cl, db_version, seq, room FROM " + store_.MetadataTable("room_exits") +
          " WHERE table_name = $1 AND ($2::text IS NULL OR room = $2) AND (db_version, seq::bigint) > ($3, $4) AND "
          "(db_version, seq::bigint) <= ($5, $6) ORDER BY db_version, seq LIMIT $7",
      CRBRIDGE_PARAMS((std::vector<ServerParameter>{
          {false, t.mapping->name},
          room ? ServerParameter{false, *room} : ServerParameter{true, ""},
          {false, std::to_string(after.version)},
          {false, std::to_string(after.seq)},
          {false, std::to_string(through.version)},
          {false, std::to_string(through.seq)},
          {false, std::to_string(std::min<size_t>(limit, INT64_MAX))}})));
  for (const auto& row : rows) {
    exits->push_back(RoomExit{ReadBytea(row[0]), row[4].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>(),
                              row[3].as<int>()});
  }
  return Status::OK();
}

}  // namespace crbridge::postgres
