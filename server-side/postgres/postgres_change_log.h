// The change log: the outbox of the Kafka events (docs/kafka.md). Each row
// a write records under a db_version is logged in the same transaction as
// its clock, so that a committed change cannot miss Kafka whatever crashes;
// the Kafka sink reads it in version order and deletes what Kafka has
// acknowledged. Internal to server-side; stateless.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/value.h"
#include "crbridge/server/core/shadow_store.h"

namespace crbridge::postgres {

// The DDL of the log table, `table` quoted and qualified.
std::string ChangeLogDdl(const std::string& table);

// Appends `changes` of table `t` in one statement.
Status AppendChangeLog(pqxx::work& tx, const std::string& log_table, const ResolvedTable& t, int64_t db_version,
                  const ChangeOrigin& origin, const std::vector<LoggedChange>& changes);

}  // namespace crbridge::postgres
