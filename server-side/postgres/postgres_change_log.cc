#include "postgres_change_log.h"

#include "crbridge/server/core/change_event_json.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/sqlite/unix_time.h"
#include "postgres_batch.h"

namespace crbridge::postgres {
std::string ChangeLogDdl(const std::string& table) {
  return "CREATE TABLE " + table +
         " (db_version bigint NOT NULL, seq int NOT NULL, table_name text NOT NULL, pk bytea NOT NULL, "
         "op \"char\" NOT NULL, cl bigint NOT NULL, key_json text NOT NULL, columns_json text NOT NULL, "
         "from_client boolean NOT NULL, source_lsn bigint, client_ordinal int, source_time_us bigint NOT NULL, "
         "recorded_time_us bigint NOT NULL, PRIMARY KEY (db_version, seq))";
}

Status AppendChangeLog(pqxx::work& tx, const std::string& log_table, const ResolvedTable& t, int64_t db_version,
                  const ChangeOrigin& origin, const std::vector<LoggedChange>& changes) {
  if (changes.empty()) return Status::OK();
  std::vector<std::vector<ServerParameter>> rows;
  for (const LoggedChange& change : changes) {
    const ChangeEventJson fields = ChangeEventFields(t, change);
    Blob pk;
    CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(*change.key, &pk));
    rows.push_back({{false, std::to_string(change.seq)},
                    {false, "\\x" + EncodeHex(pk)},
                    {false, std::string(1, fields.op)},
                    {false, std::to_string(change.after->cl)},
                    {false, fields.key},
                    {false, fields.columns},
                    {change.source_lsn == 0, std::to_string(change.source_lsn)},
                    {false, std::to_string(change.source_time_us)}});
  }
  // Every row's own fields, then those all rows share.
  const int64_t now_us = UnixMicrosNow();
  const ServerParameter version{false, std::to_string(db_version)}, table{false, t.mapping->name},
      from_client{false, origin.from_client ? "t" : "f"},
      client_ordinal{!origin.from_client, std::to_string(origin.client_ordinal)},
      recorded{false, std::to_string(now_us)};
  BatchColumns batch;
  for (const char* type : {"int", "bytea", "\"char\"", "bigint", "text", "text", "bigint", "bigint", "bigint", "text",
                           "boolean", "int", "bigint"}) {
    batch.Add(type);
  }
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) batch.values[c].push_back(&row[c]);
    size_t c = row.size();
    for (const ServerParameter* shared : {&version, &table, &from_client, &client_ordinal, &recorded}) {
      batch.values[c++].push_back(shared);
    }
  }
  InsertRows(tx, log_table,
             {"seq", "pk", "op", "cl", "key_json", "columns_json", "source_lsn", "source_time_us", "db_version",
              "table_name", "from_client", "client_ordinal", "recorded_time_us"},
             batch);
  return Status::OK();
}

}  // namespace crbridge::postgres
