// CapturedTransaction: an app transaction as the source database reported
// it (Postgres pgoutput, MySQL row binlog), reduced to what crbridge
// records: changes of mapped rows with their values already mapped to
// SQLite values, and the source position where the transaction ends.
// Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

struct CapturedRow {
  // A key change arrives as a delete of the old key and an insert of the new.
  enum class Kind { kInsert, kUpdate, kDelete, kTruncate };
  Kind kind = Kind::kInsert;
  const ResolvedTable* table = nullptr;
  std::vector<Value> key;                     // empty for kTruncate
  // Per value column of the table; unset when the source did not send it
  // (Postgres's unchanged TOASTed values). Empty for kDelete and kTruncate.
  std::vector<std::optional<Value>> values;
};

struct CapturedTransaction {
  // The source position just past the transaction's commit (Postgres: the
  // Commit message's end_lsn). Positions grow with commit order.
  int64_t end_position = 0;
  std::vector<CapturedRow> rows;  // in the order the transaction made them
  int64_t commit_time_us = 0;     // Unix microseconds
};

}  // namespace crbridge
