#include "mysql_change_log.h"

#include <cppconn/prepared_statement.h>

#include "crbridge/server/core/change_event_json.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/unix_time.h"

namespace crbridge::mysql {

std::string ChangeLogDdl(const std::string& table) {
  return "CREATE TABLE IF NOT EXISTS " + table +
         " (db_version BIGINT NOT NULL, seq INT NOT NULL, table_name VARCHAR(255) NOT NULL, pk BLOB NOT NULL, "
         "op CHAR(1) NOT NULL, cl BIGINT NOT NULL, key_json LONGTEXT NOT NULL, columns_json LONGTEXT NOT NULL, "
         "from_client BOOLEAN NOT NULL, source_lsn BIGINT, client_ordinal INT, source_time_us BIGINT NOT NULL, "
         "recorded_time_us BIGINT NOT NULL, PRIMARY KEY (db_version, seq))";
}

Status AppendChangeLog(MysqlSession& session, const std::string& table, const ResolvedTable& t,
                            int64_t db_version, const ChangeOrigin& origin, const std::vector<LoggedChange>& changes) {
  constexpr size_t kWidth = 13;
  const int64_t now_us = UnixMicrosNow();
  return ForEachBatch(changes.size(), kWidth, kBatchRows, [&](size_t first, size_t count) -> Status {
    sql::PreparedStatement& insert = session.Prepare(
        "INSERT INTO " + table +
        " (db_version, seq, table_name, pk, op, cl, key_json, columns_json, from_client, source_lsn, client_ordinal, "
        "source_time_us, recorded_time_us) VALUES " + Placeholders(count, kWidth));
    MysqlBinder bind(insert);
    for (size_t r = first; r < first + count; ++r) {
      const LoggedChange& change = changes[r];
      Blob pk;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(*change.key, &pk));
      const ChangeEventJson fields = ChangeEventFields(t, change);
      bind.Int(db_version).Int(change.seq).Text(t.mapping->name).Text(std::string(pk.begin(), pk.end()));
      bind.Text(std::string(1, fields.op)).Int(change.after->cl).Text(fields.key).Text(fields.columns);
      bind.Int(origin.from_client ? 1 : 0);
      if (change.source_lsn == 0) {
        bind.Null();
      } else {
        bind.Int(change.source_lsn);
      }
      if (origin.from_client) {
        bind.Int(origin.client_ordinal);
      } else {
        bind.Null();
      }
      bind.Int(change.source_time_us).Int(now_us);
    }
    insert.executeUpdate();
    return Status::OK();
  });
}

}  // namespace crbridge::mysql
