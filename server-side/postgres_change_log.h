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
#include "postgres_clock_rows.h"

namespace crbridge {

// Who made the changes of a write: captured app writes, or a merged client
// changeset (with the sender's site ordinal).
struct ChangeOrigin {
  bool from_client = false;
  int client_ordinal = 0;
};

// One row's change under the write's db_version: the columns whose clock
// moved from `before` to `after`, with their values from `values` (per
// value column, the value the row now holds; read only for those columns).
struct LoggedChange {
  const std::vector<Value>* key;
  const ClockRow* before;
  const ClockRow* after;
  std::vector<const Value*> values;
  int seq;
  // App writes: the end of the source transaction that last changed the
  // row (0 for client writes), and its commit time; client writes: when
  // the merge ran. Unix microseconds.
  int64_t source_lsn = 0;
  int64_t source_time_us = 0;
};

// The DDL of the log table, `table` quoted and qualified.
std::string ChangeLogDdl(const std::string& table);

// Appends `changes` of table `t` in one statement.
Status LogChanges(pqxx::work& tx, const std::string& log_table, const ResolvedTable& t, int64_t db_version,
                  const ChangeOrigin& origin, const std::vector<LoggedChange>& changes);

}  // namespace crbridge
