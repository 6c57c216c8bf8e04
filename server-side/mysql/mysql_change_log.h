// The change log (the outbox of the Kafka events, docs/kafka.md) in a
// MySQL/MariaDB metadata database: the same rows as on Postgres, written in
// the transaction of the clocks they describe. Internal to server-side;
// stateless.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crbridge/server/core/shadow_store.h"
#include "mysql_session.h"

namespace crbridge::mysql {

// The CREATE TABLE IF NOT EXISTS of the log table `table` (quoted), without
// table options.
std::string ChangeLogDdl(const std::string& table);

// Appends `changes` of `t` in multi-row INSERTs. Throws sql::SQLException.
Status AppendChangeLog(MysqlSession& session, const std::string& table, const ResolvedTable& t,
                            int64_t db_version, const ChangeOrigin& origin, const std::vector<LoggedChange>& changes);

}  // namespace crbridge::mysql
