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
  BatchColumns batch;
  for (const char* type : {"int", "bytea", "\"char\"", "bigint", "text", "text", "bigint", "bigint"}) batch.Add(type);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) batch.values[c].push_back(&row[c]);
  }
  std::vector<ServerParameter> params;
  const std::string from = batch.From(&params);
  const int64_t now_us = UnixMicrosNow();
  const auto param = [&](const std::string& text) {
    params.push_back({false, text});
    return "$" + std::to_string(params.size());
  };
  const std::string constants = param(std::to_string(db_version)) + "::bigint, " + param(t.mapping->name) + ", " +
                                param(origin.from_client ? "t" : "f") + "::boolean, " +
                                (origin.from_client ? param(std::to_string(origin.client_ordinal)) + "::int" : "NULL") +
                                ", " + param(std::to_string(now_us)) + "::bigint";
  tx.exec_params0("INSERT INTO " + log_table +
                      " (db_version, table_name, from_client, client_ordinal, recorded_time_us, seq, pk, op, cl, "
                      "key_json, columns_json, source_lsn, source_time_us) SELECT " +
                      constants + ", " + Join(batch.casts, ", ") + " FROM " + from,
                  CRBRIDGE_PARAMS(params));
  return Status::OK();
}

}  // namespace crbridge::postgres
