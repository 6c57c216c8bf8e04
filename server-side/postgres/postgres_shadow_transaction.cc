#include "postgres_shadow_transaction.h"

#include <span>

#include "crbridge/sqlite/sql_quote.h"
#include "crbridge/sqlite/text_encoding.h"
#include "postgres_batch.h"
#include "postgres_change_log.h"
#include "postgres_clock_rows.h"

namespace crbridge::postgres {
namespace {

std::vector<std::string> KeyNames(const ResolvedTable& t) {
  std::vector<std::string> names;
  for (size_t i = 0; i < t.pk_count; ++i) names.push_back(QuoteIdentifier(t.columns[i].server.name));
  return names;
}

// The key columns, then value columns `columns`, as text (prefixed with a
// table alias when given).
std::string TextColumns(const ResolvedTable& t, const std::vector<size_t>& columns, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& key : KeyNames(t)) out.push_back(prefix + key + "::text");
  for (const size_t i : columns) out.push_back(prefix + QuoteIdentifier(t.columns[t.pk_count + i].server.name) + "::text");
  return Join(out, ", ");
}

// Rows of a table without a room column belong to every room; the room is
// parameter `placeholder`.
std::string RoomCondition(const ResolvedTable& t, const std::optional<std::string>& room, const std::string& prefix,
                          int placeholder = 3) {
  return room && t.room_column ? " AND " + prefix + "__room = $" + std::to_string(placeholder) : std::string();
}

// Whether a pull of `room` reads `t`'s rows through its rooms table.
bool ThroughRooms(const ResolvedTable& t, const std::optional<std::string>& room) {
  return room && t.derives_rooms();
}

// What pulls of `room` read as `t`'s clock rows: the clock table, or for a
// table that derives its rooms, the clocks of the room's rows whose clock
// or entry into the room is of version `first_version` or later, each at
// the later of the two positions, with the room's causal length offset and
// the entry's position. The two halves are disjoint, and each is served
// by an index (the clocks' version, the entries' room and version).
std::string PulledClocks(const PostgresShadowStore& store, const ResolvedTable& t,
                         const std::optional<std::string>& room, const std::string& first_version,
                         const std::string& room_parameter) {
  const std::string clocks = store.ClockTable(t.mapping->name);
  if (!ThroughRooms(t, room)) return clocks;
  std::string key, join;
  for (size_t i = 0; i < t.pk_count; ++i) {
    const std::string column = QuoteIdentifier(t.columns[i].server.name);
    key += "c." + column + ", ";
    join += (i > 0 ? " AND " : "") + ("e." + column + " = c." + column);
  }
  const std::string select =
      "SELECT " + key +
      "c.__cl, c.__col_versions, c.__col_sites, c.__col_hashes, c.__room, "
      "CASE WHEN (c.__db_version, c.__seq) >= (e.__db_version, e.__seq) THEN c.__db_version ELSE e.__db_version END "
      "AS __db_version, "
      "CASE WHEN (c.__db_version, c.__seq) >= (e.__db_version, e.__seq) THEN c.__seq ELSE e.__seq END AS __seq, "
      "e.__cl_offset, e.__db_version AS __entered_version, e.__seq AS __entered_seq FROM " +
      store.RoomsTable(t.mapping->name) + " e JOIN " + clocks + " c ON " + join + " WHERE e.__room = " +
      room_parameter + " AND ";
  return "(" + select + "c.__db_version >= " + first_version + " UNION ALL " + select + "e.__db_version >= " +
         first_version + " AND c.__db_version < " + first_version + ")";
}

// The clock rows (alias c) after `after` and up to `through`, of `room`:
// the condition, its parameters in `params` ($1 to $4, the room $5). The
// bounds on the version alone let the version index serve it.
std::string PositionRange(const ResolvedTable& t, const PullPosition& after, const PullPosition& through,
                          const std::optional<std::string>& room, std::vector<ServerParameter>* params) {
  *params = {{false, std::to_string(after.version)},
             {false, std::to_string(after.seq)},
             {false, std::to_string(through.version)},
             {false, std::to_string(through.seq)}};
  if (room && (t.room_column || t.derives_rooms())) params->push_back({false, *room});
  return "c.__db_version >= $1::bigint AND c.__db_version <= $3::bigint AND (c.__db_version > $1::bigint OR "
         "c.__seq > $2::bigint) AND (c.__db_version < $3::bigint OR c.__seq <= $4::bigint)" +
         RoomCondition(t, room, "c.", 5);
}

// The clock table of `t` (alias c) joined with its app rows (alias t).
std::string ClockJoinedWithAppRows(const ResolvedTable& t, const std::string& clock_table) {
  std::string join;
  for (size_t i = 0; i < t.pk_count; ++i) {
    const std::string column = QuoteIdentifier(t.columns[i].server.name);
    join += (i > 0 ? " AND " : "") + ("t." + column + " = c." + column);
  }
  return clock_table + " c LEFT JOIN " + Qualified(*t.mapping) + " t ON " + join;
}

std::vector<ServerParameter> PullParameters(const ResolvedTable& t, int64_t first, int64_t second,
                                            const std::optional<std::string>& room) {
  std::vector<ServerParameter> params = {{false, std::to_string(first)}, {false, std::to_string(second)}};
  if (room && (t.room_column || t.derives_rooms())) params.push_back({false, *room});
  return params;
}

std::vector<size_t> EveryValueColumn(const ResolvedTable& t) {
  std::vector<size_t> columns(t.columns.size() - t.pk_count);
  for (size_t i = 0; i < columns.size(); ++i) columns[i] = i;
  return columns;
}

}  // namespace

Status PostgresShadowTransaction::WriteAppRows(const ResolvedTable& t, const std::function<void()>& statement) {
  try {
    statement();
    return Status::OK();
  } catch (const pqxx::data_exception& e) {
    // Class 22: a value the type mapping let through that the column
    // refuses (a malformed array, an interval, an enum label).
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return Status::InvalidArgument(t.mapping->name + ": the database refused a value: " + EscapeUnprintable(what));
  }
}

Status PostgresShadowTransaction::ReadBack(const ResolvedTable& t, const std::vector<size_t>& columns,
                                           const pqxx::result& rows, const AppRowCallback& stored) {
  for (const auto& row : rows) {
    Blob key;
    CRBRIDGE_RETURN_IF_ERROR(ReadPackedKey(t, row, &key));
    std::vector<Value> values(columns.size());
    for (size_t k = 0; k < columns.size(); ++k) {
      const size_t column = t.pk_count + columns[k];
      if (const Status s = ReadField(t.columns[column].type, row[static_cast<int>(t.pk_count + k)], &values[k]);
          !s.ok()) {
        return RefuseUnmappedRow(t, column, key, s);
      }
    }
    CRBRIDGE_RETURN_IF_ERROR(stored(key, std::move(values)));
  }
  return Status::OK();
}

Status PostgresShadowTransaction::ReadClocks(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                             const std::function<Status(const Blob& key, ClockRow clock)>& found) {
  return ReadClockRows(tx_, store_.ClockTable(t.mapping->name), t, keys, found);
}

Status PostgresShadowTransaction::WriteClocks(const ResolvedTable& t, const std::vector<ClockWrite>& writes) {
  WriteClockRows(tx_, store_.ClockTable(t.mapping->name), t, writes);
  return Status::OK();
}

Status PostgresShadowTransaction::KillLiveClocks(const ResolvedTable& t, Kill which, int64_t position,
                                                 int64_t db_version, int seq, bool report_dead,
                                                 const std::function<Status(std::vector<Value> key, int64_t cl)>& dead,
                                                 size_t* killed) {
  // The killed rows come back only when asked for.
  std::string returning;
  for (size_t i = 0; report_dead && i <= t.pk_count; ++i) {
    returning += i < t.pk_count ? "c." + QuoteIdentifier(t.columns[i].server.name) + "::text, " : "c.__cl";
  }
  std::string gone;
  if (which == Kill::kRowsTheAppLacks) {
    std::vector<std::string> same;
    for (const std::string& key : KeyNames(t)) same.push_back("a." + key + " = c." + key);
    gone = " AND NOT EXISTS (SELECT 1 FROM " + Qualified(*t.mapping) + " a WHERE " + Join(same, " AND ") + ")";
  }
  if (which == Kill::kRowsTheAppLacks) {
    tx_.exec0("SET LOCAL lock_timeout = '" + std::to_string(kAppTableLockWaitSeconds) + "s'");
  }
  // A causal length at the top (stored before client clocks were bounded,
  // clock_bounds.h) stays where it is rather than overflow.
  pqxx::result rows;
  try {
    rows = tx_.exec_params(
      "UPDATE " + store_.ClockTable(t.mapping->name) +
          " c SET __cl = c.__cl + 1, __lsn = $1, __db_version = $2, __seq = $3 WHERE c.__cl % 2 = 1 AND c.__lsn < $1"
          " AND c.__cl < 9223372036854775807" +
          gone + (returning.empty() ? std::string() : " RETURNING " + returning),
      position, db_version, seq);
  } catch (const pqxx::sql_error& e) {
    if (which == Kill::kRowsTheAppLacks && e.sqlstate() == "55P03") return AppTableBusy(t, e.what());
    throw;
  }
  if (which == Kill::kRowsTheAppLacks) tx_.exec0("SET LOCAL lock_timeout = DEFAULT");
  *killed = static_cast<size_t>(rows.affected_rows());
  for (const auto& row : rows) {
    std::vector<Value> key(t.pk_count);
    for (size_t i = 0; i < t.pk_count; ++i) {
      CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[i].type, row[static_cast<int>(i)], &key[i]));
    }
    CRBRIDGE_RETURN_IF_ERROR(dead(std::move(key), row[static_cast<int>(t.pk_count)].as<int64_t>()));
  }
  return Status::OK();
}

Status PostgresShadowTransaction::LockAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                                              const AppRowCallback& found) {
  if (keys.empty()) return Status::OK();
  std::vector<ServerParameter> params;
  const std::string where = KeySet(t, keys, &params);
  const std::vector<size_t> columns = EveryValueColumn(t);
  const pqxx::result rows =
      tx_.exec_params("SELECT " + TextColumns(t, columns, "") + " FROM " + Qualified(*t.mapping) + " WHERE " + where +
                          " ORDER BY " + Join(KeyNames(t), ", ") + " FOR UPDATE",
                      CRBRIDGE_PARAMS(params));
  return ReadBack(t, columns, rows, found);
}

Status PostgresShadowTransaction::AppPosition(int64_t* offset) {
  *offset = tx_.exec1("SELECT pg_current_wal_insert_lsn() - '0/0'")[0].as<int64_t>();
  return Status::OK();
}

Status PostgresShadowTransaction::DeleteAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys) {
  if (keys.empty()) return Status::OK();
  std::vector<ServerParameter> params;
  const std::string where = KeySet(t, keys, &params);  // fills params: not in the same expression
  tx_.exec_params0("DELETE FROM " + Qualified(*t.mapping) + " WHERE " + where, CRBRIDGE_PARAMS(params));
  return Status::OK();
}

Status PostgresShadowTransaction::InsertAppRows(const ResolvedTable& t, const std::vector<size_t>& columns,
                                                const std::vector<AppRowWrite>& rows, const AppRowCallback& stored) {
  if (rows.empty()) return Status::OK();
  BatchColumns batch;
  std::vector<std::string> names = KeyNames(t);
  for (size_t i = 0; i < t.pk_count; ++i) batch.Add(t.columns[i].server.type);
  for (const size_t i : columns) {
    batch.Add(t.columns[t.pk_count + i].server.type);
    names.push_back(QuoteIdentifier(t.columns[t.pk_count + i].server.name));
  }
  for (const AppRowWrite& row : rows) {
    for (size_t i = 0; i < t.pk_count; ++i) batch.values[i].push_back(&(*row.key)[i]);
    for (size_t k = 0; k < columns.size(); ++k) batch.values[t.pk_count + k].push_back(row.values[k]);
  }
  std::vector<ServerParameter> params;
  const std::string from = batch.From(&params);
  const std::vector<size_t> every = EveryValueColumn(t);
  pqxx::result back;
  CRBRIDGE_RETURN_IF_ERROR(WriteAppRows(t, [&] {
    back = tx_.exec_params("INSERT INTO " + Qualified(*t.mapping) + " (" + Join(names, ", ") + ") SELECT " +
                               Join(batch.casts, ", ") + " FROM " + from + " RETURNING " + TextColumns(t, every, ""),
                           CRBRIDGE_PARAMS(params));
  }));
  return ReadBack(t, every, back, stored);
}

Status PostgresShadowTransaction::UpdateAppRows(const ResolvedTable& t, const std::vector<size_t>& columns,
                                                const std::vector<AppRowWrite>& rows, const AppRowCallback& stored) {
  if (rows.empty()) return Status::OK();
  // One UPDATE for every row: each column takes the row's value where the
  // row writes it (its mask) and keeps its own otherwise.
  static const ServerParameter kWritten{false, "t"}, kKept{false, "f"}, kNull{true, ""};
  const std::vector<std::string> key_names = KeyNames(t);
  BatchColumns batch;
  for (size_t i = 0; i < t.pk_count; ++i) batch.Add(t.columns[i].server.type);
  std::vector<std::string> assignments, match;
  for (size_t i = 0; i < t.pk_count; ++i) match.push_back("t." + key_names[i] + " = " + batch.casts[i]);
  for (const size_t i : columns) {
    const std::string name = QuoteIdentifier(t.columns[t.pk_count + i].server.name);
    batch.Add("boolean");
    const std::string mask = batch.casts.back();
    batch.Add(t.columns[t.pk_count + i].server.type);
    assignments.push_back(name + " = CASE WHEN " + mask + " THEN " + batch.casts.back() + " ELSE t." + name + " END");
  }
  for (const AppRowWrite& row : rows) {
    for (size_t i = 0; i < t.pk_count; ++i) batch.values[i].push_back(&(*row.key)[i]);
    for (size_t k = 0; k < columns.size(); ++k) {
      batch.values[t.pk_count + 2 * k].push_back(row.values[k] ? &kWritten : &kKept);
      batch.values[t.pk_count + 2 * k + 1].push_back(row.values[k] ? row.values[k] : &kNull);
    }
  }
  std::vector<ServerParameter> params;
  const std::string from = batch.From(&params);
  pqxx::result back;
  CRBRIDGE_RETURN_IF_ERROR(WriteAppRows(t, [&] {
    back = tx_.exec_params("UPDATE " + Qualified(*t.mapping) + " AS t SET " + Join(assignments, ", ") + " FROM " +
                               from + " WHERE " + Join(match, " AND ") + " RETURNING " + TextColumns(t, columns, "t."),
                           CRBRIDGE_PARAMS(params));
  }));
  return ReadBack(t, columns, back, stored);
}

Status PostgresShadowTransaction::SiteOrdinal(const SiteId& site, int* ordinal) {
  const std::string sites = store_.MetadataTable("sites");
  const std::string id = Bytea(site);
  tx_.exec_params0("INSERT INTO " + sites + " (site_id) VALUES ($1::bytea) ON CONFLICT DO NOTHING", id);
  *ordinal = tx_.exec_params1("SELECT ordinal FROM " + sites + " WHERE site_id = $1::bytea", id)[0].as<int>();
  return Status::OK();
}

// A site bound to another owner is left as it is: no row is written then.
// The owner travels in hex: it is bytes (a room name may be any).
Status PostgresShadowTransaction::SetPeerVersion(const SiteId& site, const PeerVersion& version,
                                                 const std::optional<std::string>& owner) {
  std::optional<std::string> owner_hex;
  if (owner) owner_hex = EncodeHex(std::span(reinterpret_cast<const uint8_t*>(owner->data()), owner->size()));
  const pqxx::result written = tx_.exec_params(
      "INSERT INTO " + store_.MetadataTable("peers") +
          " AS peers (site_id, version, seq, owner) VALUES ($1::bytea, $2, $3, decode($4, 'hex')) "
          "ON CONFLICT (site_id) DO UPDATE SET "
          "version = GREATEST(peers.version, excluded.version), "
          "seq = CASE WHEN peers.version > excluded.version THEN peers.seq ELSE excluded.seq END, "
          "owner = COALESCE(peers.owner, excluded.owner) "
          "WHERE excluded.owner IS NULL OR peers.owner IS NULL OR peers.owner = excluded.owner",
      Bytea(site), version.version, version.seq, owner_hex);
  if (written.affected_rows() == 0) return SiteBoundElsewhere(site);
  return Status::OK();
}

Status PostgresShadowTransaction::SetCapturePosition(const SourcePosition& position) {
  tx_.exec_params0("UPDATE " + store_.MetadataTable("capture") + " SET lsn = GREATEST(lsn, $1)", position.offset);
  return Status::OK();
}

Status PostgresShadowTransaction::MarkSnapshotDone(const ResolvedTable& t, int64_t offset) {
  tx_.exec_params0("UPDATE " + store_.MetadataTable("tables") + " SET snapshot_lsn = $2 WHERE name = $1",
                   t.mapping->name, offset);
  return Status::OK();
}

Status PostgresShadowTransaction::RecordRejectedRows(const std::vector<RejectedRow>& rows) {
  // Rejections are rare: a statement each.
  for (const RejectedRow& row : rows) {
    tx_.exec_params0("INSERT INTO " + store_.MetadataTable("rejected_rows") +
                         " (table_name, key_hash, pk, reason, source_position) VALUES ($1, $2, $3::bytea, $4, $5) "
                         "ON CONFLICT (table_name, key_hash) DO UPDATE SET pk = excluded.pk, reason = excluded.reason, "
                         "source_position = excluded.source_position, rejected_at = now()",
                     row.table, RejectedKeyHash(row.key), "\\x" + EncodeHex(row.key), row.reason, row.position);
  }
  return Status::OK();
}

Status PostgresShadowTransaction::ClearRejectedRows(const std::string& table, const std::vector<Blob>& keys) {
  for (const Blob& key : keys) {
    tx_.exec_params0("DELETE FROM " + store_.MetadataTable("rejected_rows") + " WHERE table_name = $1 AND key_hash = $2",
                     table, RejectedKeyHash(key));
  }
  return Status::OK();
}

Status PostgresShadowTransaction::LogChanges(const ResolvedTable& t, int64_t db_version, const ChangeOrigin& origin,
                                             const std::vector<LoggedChange>& changes) {
  return AppendChangeLog(tx_, store_.MetadataTable("change_events"), t, db_version, origin, changes);
}

Status PostgresShadowSnapshot::VersionsAfter(const ResolvedTable& t, int64_t after,
                                             const std::optional<std::string>& room, size_t limit,
                                             std::vector<int64_t>* versions) {
  const std::vector<ServerParameter> params = PullParameters(t, after, static_cast<int64_t>(limit), room);
  const pqxx::result rows = tx_.exec_params("SELECT __db_version FROM " +
                                                PulledClocks(store_, t, room, "($1::bigint + 1)", "$3") +
                                                " c WHERE __db_version > $1" + RoomCondition(t, room, "") +
                                                " ORDER BY __db_version LIMIT $2",
                                            CRBRIDGE_PARAMS(params));
  versions->clear();
  for (const auto& row : rows) versions->push_back(row[0].as<int64_t>());
  return Status::OK();
}

Status PostgresShadowSnapshot::RowSizes(const ResolvedTable& t, const PullPosition& after, int64_t through,
                                        const std::optional<std::string>& room, size_t limit,
                                        std::vector<RowSize>* sizes) {
  // Lengths read from the stored values' headers: octet_length of text and
  // bytea does not unpack a TOASTed value.
  std::string bytes = "0::bigint";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const ResolvedColumn& c = t.columns[i];
    if (!CountsTowardsRowSize(c.type)) continue;
    const std::string column = (i < t.pk_count ? "c." : "t.") + QuoteIdentifier(c.server.name);
    bytes += " + coalesce(octet_length(" + column + (c.type.kind == ValueKind::kBlob ? ")" : "::text)") + ", 0)";
  }
  std::vector<ServerParameter> params;
  const std::string range = PositionRange(t, after, PullPosition(through), room, &params);
  params.push_back({false, std::to_string(limit)});
  const pqxx::result rows =
      tx_.exec_params("SELECT c.__db_version, c.__seq, " + bytes + " FROM " +
                          ClockJoinedWithAppRows(t, PulledClocks(store_, t, room, "$1::bigint", "$5")) + " WHERE " +
                          range +
                          " ORDER BY c.__db_version, c.__seq LIMIT $" + std::to_string(params.size()),
                      CRBRIDGE_PARAMS(params));
  sizes->clear();
  for (const auto& row : rows) sizes->push_back({row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>()});
  return Status::OK();
}

Status PostgresShadowSnapshot::SelectPulledRows(const ResolvedTable& t, const std::string& clocks,
                                                const std::string& extra, const std::string& where,
                                                const std::vector<ServerParameter>& params,
                                                const std::function<Status(PulledRow row)>& found) {
  const size_t n = t.columns.size() - t.pk_count;
  std::string select;
  for (size_t i = 0; i < t.pk_count; ++i) select += "c." + QuoteIdentifier(t.columns[i].server.name) + "::text, ";
  select += "c.__cl, c.__col_versions::text, c.__col_sites::text, c.__col_hashes::text, c.__db_version, c.__seq, "
            "c.__room, t." + QuoteIdentifier(t.columns[0].server.name) + " IS NOT NULL, " + extra;
  for (size_t i = t.pk_count; i < t.columns.size(); ++i) select += ", t." + QuoteIdentifier(t.columns[i].server.name) + "::text";
  const pqxx::result rows = tx_.exec_params("SELECT " + select + " FROM " + ClockJoinedWithAppRows(t, clocks) +
                                                " WHERE " + where,
                                            CRBRIDGE_PARAMS(params));
  for (const auto& row : rows) {
    PulledRow pulled;
    pulled.key.resize(t.pk_count);
    for (size_t i = 0; i < t.pk_count; ++i) {
      CRBRIDGE_RETURN_IF_ERROR(ReadField(t.columns[i].type, row[static_cast<int>(i)], &pulled.key[i]));
    }
    const int base = static_cast<int>(t.pk_count);
    pulled.clock = ClockRow(n);
    pulled.clock.stored = true;
    pulled.clock.cl = row[base].as<int64_t>();
    pulled.clock.versions = ParseClockArray(row[base + 1].c_str(), n);
    pulled.clock.sites = ParseClockArray(row[base + 2].c_str(), n);
    pulled.clock.hashes = ParseClockArray(row[base + 3].c_str(), n);
    pulled.db_version = row[base + 4].as<int64_t>();
    pulled.seq = row[base + 5].as<int>();
    if (!row[base + 6].is_null()) pulled.clock.room = row[base + 6].as<std::string>();
    pulled.app_row_exists = row[base + 7].as<bool>();
    pulled.cl_offset = row[base + 8].as<int64_t>();
    pulled.entered = row[base + 9].as<bool>();
    if (pulled.app_row_exists) {
      pulled.values.resize(n);
      for (size_t i = 0; i < n; ++i) {
        pulled.app_values_map = pulled.app_values_map &&
            ReadField(t.columns[t.pk_count + i].type, row[base + 10 + static_cast<int>(i)], &pulled.values[i]).ok();
      }
    }
    CRBRIDGE_RETURN_IF_ERROR(found(std::move(pulled)));
  }
  return Status::OK();
}

Status PostgresShadowSnapshot::RowsBetween(const ResolvedTable& t, const PullPosition& after,
                                           const PullPosition& through, const std::optional<std::string>& room,
                                           const std::function<Status(PulledRow row)>& found) {
  std::vector<ServerParameter> params;
  const std::string range = PositionRange(t, after, through, room, &params);
  return SelectPulledRows(t, PulledClocks(store_, t, room, "$1::bigint", "$5"),
                          ThroughRooms(t, room) ? "c.__cl_offset, (c.__entered_version, c.__entered_seq::bigint) > ($1, $2)"
                                                : "0::bigint, false",
                          range, params, found);
}

Status PostgresShadowSnapshot::RowsOfKeys(const ResolvedTable& t, const std::vector<Blob>& keys,
                                          const std::function<Status(PulledRow row)>& found) {
  if (keys.empty()) return Status::OK();
  DecodedKeys decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeKeys(SourceType::kPostgres, t, keys, &decoded));
  const std::vector<const KeyParameters*>& pointers = decoded.pointers;
  std::vector<ServerParameter> params;
  const std::string where = KeySet(t, pointers, &params, "c.");
  return SelectPulledRows(t, store_.ClockTable(t.mapping->name), "0::bigint, false", where, params, found);
}

Status PostgresShadowSnapshot::Sites(std::map<int64_t, SiteId>* sites) {
  for (const auto& row : tx_.exec("SELECT ordinal, site_id FROM " + store_.MetadataTable("sites"))) {
    const pqxx::binarystring id(row[1]);
    std::copy(id.begin(), id.end(), (*sites)[row[0].as<int64_t>()].begin());
  }
  return Status::OK();
}

}  // namespace crbridge::postgres
