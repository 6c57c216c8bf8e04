// Rooms by membership and by reference (room_derivation.h) on Postgres:
// the rooms table of each table that derives its rooms, keyed like its
// clock table, and the metadata table memberships. Batches of rows are
// read and written in a statement each.
#include <pqxx/pqxx>

#include <algorithm>
#include <array>
#include <cstdint>

#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/sqlite/sql_quote.h"
#include "crbridge/sqlite/text_encoding.h"
#include "postgres_batch.h"
#include "postgres_clock_rows.h"
#include "postgres_shadow_transaction.h"

namespace crbridge::postgres {
namespace {

// A text[] parameter of `items`.
ServerParameter TextArrayOf(const std::vector<std::string>& items) {
  std::vector<ServerParameter> values;
  for (const std::string& item : items) values.push_back(ServerParameter{false, item});
  std::vector<const ServerParameter*> pointers;
  for (const ServerParameter& value : values) pointers.push_back(&value);
  return ServerParameter{false, TextArray(pointers)};
}

// The key columns, quoted.
std::string KeyColumns(const ResolvedTable& t) {
  std::vector<std::string> names;
  for (size_t i = 0; i < t.pk_count; ++i) names.push_back(QuoteIdentifier(t.columns[i].server.name));
  return Join(names, ", ");
}


// The rows of rooms table `rooms_table` that `where` (with `params`)
// selects, in (db_version, seq) order, `limit` at the most.
Status SelectRowRooms(pqxx::transaction_base& tx, const std::string& rooms_table, const ResolvedTable& t,
                      const std::string& where, const std::vector<ServerParameter>& params, size_t limit,
                      std::vector<RowRoom>* rooms) {
  rooms->clear();
  std::vector<std::string> select;
  for (size_t i = 0; i < t.pk_count; ++i) select.push_back(QuoteIdentifier(t.columns[i].server.name) + "::text");
  const pqxx::result rows = tx.exec_params("SELECT " + Join(select, ", ") +
                                               ", __room, __cl_offset, __db_version, __seq FROM " + rooms_table +
                                               " WHERE " + where + " ORDER BY __db_version, __seq LIMIT " +
                                               std::to_string(std::min<size_t>(limit, INT64_MAX)),
                                           CRBRIDGE_PARAMS(params));
  for (const auto& row : rows) {
    RowRoom room;
    CRBRIDGE_RETURN_IF_ERROR(ReadPackedKey(t, row, &room.pk));
    const int base = static_cast<int>(t.pk_count);
    room.room = row[base].as<std::string>();
    room.cl_offset = row[base + 1].as<int64_t>();
    room.db_version = row[base + 2].as<int64_t>();
    room.seq = row[base + 3].as<int>();
    rooms->push_back(std::move(room));
  }
  return Status::OK();
}

}  // namespace

Status PostgresShadowTransaction::ReadRowRooms(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                               std::vector<RowRoom>* rooms) {
  rooms->clear();
  if (keys.empty()) return Status::OK();
  std::vector<ServerParameter> params;
  const std::string where = KeySet(t, keys, &params);
  return SelectRowRooms(tx_, store_.RoomsTable(t.mapping->name), t, where, params, SIZE_MAX, rooms);
}

Status PostgresShadowSnapshot::RowRoomsOf(const ResolvedTable& t, const std::vector<Blob>& keys,
                                          std::vector<RowRoom>* rooms) {
  rooms->clear();
  if (keys.empty()) return Status::OK();
  DecodedKeys decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeKeys(SourceType::kPostgres, t, keys, &decoded));
  const std::vector<const KeyParameters*>& pointers = decoded.pointers;
  std::vector<ServerParameter> params;
  const std::string where = KeySet(t, pointers, &params);
  return SelectRowRooms(tx_, store_.RoomsTable(t.mapping->name), t, where, params, SIZE_MAX, rooms);
}

Status PostgresShadowSnapshot::RoomEntriesBetween(const ResolvedTable& t, const PullPosition& after,
                                                  const PullPosition& through, size_t limit,
                                                  std::vector<RowRoom>* entries) {
  const std::vector<ServerParameter> params = {{false, std::to_string(after.version)},
                                               {false, std::to_string(after.seq)},
                                               {false, std::to_string(through.version)},
                                               {false, std::to_string(through.seq)}};
  // Through the index on the entries' positions.
  return SelectRowRooms(tx_, store_.RoomsTable(t.mapping->name), t,
                        "(__db_version, __seq::bigint) > ($1::bigint, $2::bigint) AND (__db_version, __seq::bigint) "
                        "<= ($3::bigint, $4::bigint)",
                        params, limit, entries);
}

Status PostgresShadowTransaction::WriteRowRooms(const ResolvedTable& t, const std::vector<RowRoom>& entered,
                                                const std::vector<RowRoom>& left) {
  const std::string table = store_.RoomsTable(t.mapping->name);
  for (const auto* rows : {&left, &entered}) {
    if (rows->empty()) continue;
    const bool entering = rows == &entered;
    std::vector<std::vector<ServerParameter>> keys(rows->size());
    std::vector<std::array<ServerParameter, 4>> fields;
    fields.reserve(rows->size());
    BatchColumns batch;
    for (size_t i = 0; i < t.pk_count; ++i) batch.Add(t.columns[i].server.type);
    for (const char* type : {"text", "bigint", "bigint", "int"}) batch.Add(type);
    for (size_t r = 0; r < rows->size(); ++r) {
      const RowRoom& row = (*rows)[r];
      CRBRIDGE_RETURN_IF_ERROR(KeyParametersOf(SourceType::kPostgres, t, row.pk, &keys[r]));
      fields.push_back({ServerParameter{false, row.room}, ServerParameter{false, std::to_string(row.cl_offset)},
                        ServerParameter{false, std::to_string(row.db_version)},
                        ServerParameter{false, std::to_string(row.seq)}});
      for (size_t i = 0; i < t.pk_count; ++i) batch.values[i].push_back(&keys[r][i]);
      for (size_t k = 0; k < 4; ++k) batch.values[t.pk_count + k].push_back(&fields.back()[k]);
    }
    std::vector<ServerParameter> params;
    const std::string from = batch.From(&params);
    if (entering) {
      tx_.exec_params0("INSERT INTO " + table + " (" + KeyColumns(t) + ", __room, __cl_offset, __db_version, __seq) "
                           "SELECT " + Join(batch.casts, ", ") + " FROM " + from +
                           " ON CONFLICT DO NOTHING",
                       CRBRIDGE_PARAMS(params));
      continue;
    }
    std::vector<std::string> match;
    for (size_t i = 0; i < t.pk_count; ++i) {
      match.push_back("r." + QuoteIdentifier(t.columns[i].server.name) + " = " + batch.casts[i]);
    }
    match.push_back("r.__room = " + batch.casts[t.pk_count]);
    tx_.exec_params0("DELETE FROM " + table + " AS r USING " + from + " WHERE " + Join(match, " AND "),
                     CRBRIDGE_PARAMS(params));
  }
  return Status::OK();
}

Status PostgresShadowTransaction::ReadClocksInRooms(const ResolvedTable& t, const std::vector<std::string>& rooms,
                                                    const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  if (rooms.empty()) return Status::OK();
  return ReadClockRowsWhere(tx_, store_.ClockTable(t.mapping->name), t, "__room = ANY($1::text[])",
                            {TextArrayOf(rooms)}, found);
}

Status PostgresShadowTransaction::ReadMemberships(const std::string& source, const std::vector<std::string>& keys,
                                                  bool by_key, std::vector<Membership>* memberships) {
  memberships->clear();
  if (keys.empty()) return Status::OK();
  std::vector<std::string> items;
  for (const std::string& key : keys) {
    items.push_back(by_key ? key : ByteaText(Blob(key.begin(), key.end())));
  }
  const pqxx::result rows = tx_.exec_params(
      "SELECT member_pk, key, room FROM " + store_.MetadataTable("memberships") + " WHERE source = $1 AND " +
          (by_key ? "key = ANY($2::text[])" : "member_pk = ANY($2::text[]::bytea[])"),
      source, TextArrayOf(items).text);
  for (const auto& row : rows) {
    memberships->push_back(Membership{ReadBytea(row[0]), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return Status::OK();
}

Status PostgresShadowTransaction::WriteMemberships(const std::string& source, const std::vector<Membership>& stored,
                                                   const std::vector<Blob>& removed) {
  const std::string table = store_.MetadataTable("memberships");
  std::vector<std::string> gone;
  for (const Blob& pk : removed) gone.push_back(ByteaText(pk));
  if (!gone.empty()) {
    tx_.exec_params0("DELETE FROM " + table + " WHERE source = $1 AND member_pk = ANY($2::text[]::bytea[])", source,
                     TextArrayOf(gone).text);
  }
  if (stored.empty()) return Status::OK();
  std::vector<std::string> pks, keys, rooms;
  for (const Membership& membership : stored) {
    pks.push_back(ByteaText(membership.member_pk));
    keys.push_back(membership.key);
    rooms.push_back(membership.room);
  }
  tx_.exec_params0("INSERT INTO " + table + " (source, member_pk, key, room) SELECT $1, u.pk::bytea, u.key, u.room "
                   "FROM unnest($2::text[], $3::text[], $4::text[]) AS u(pk, key, room) "
                   "ON CONFLICT (source, member_pk) DO UPDATE SET key = excluded.key, room = excluded.room",
                   source, TextArrayOf(pks).text, TextArrayOf(keys).text, TextArrayOf(rooms).text);
  return Status::OK();
}

}  // namespace crbridge::postgres
