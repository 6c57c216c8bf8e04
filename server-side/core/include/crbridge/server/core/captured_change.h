// CapturedTransaction: an app transaction as the source database reported
// it (Postgres pgoutput, MySQL row binlog), reduced to what crbridge
// records: changes of mapped rows with their values already mapped to
// SQLite values, and the source position where the transaction ends.
// A row with a value that does not map is kept as a rejection
// (rejected_row.h), so that the rest flows on. Plain data, and the
// stateless mapping of a column's server text into a row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

struct CapturedRow {
  // A key change arrives as a delete of the old key and an insert of the new.
  enum class Kind { kInsert, kUpdate, kDelete, kTruncate };

  CapturedRow() = default;
  CapturedRow(Kind change, const ResolvedTable* of, std::vector<Value> key_values,
              std::vector<std::optional<Value>> column_values)
      : kind(change), table(of), key(std::move(key_values)), values(std::move(column_values)) {}

  Kind kind = Kind::kInsert;
  const ResolvedTable* table = nullptr;
  std::vector<Value> key;                     // empty for kTruncate
  // Per value column of the table; unset when the source did not send it
  // (Postgres's unchanged TOASTed values). Empty for kDelete and kTruncate.
  std::vector<std::optional<Value>> values;
  // Why the row cannot be mapped, empty when it can: an insert or update
  // whose values do not map, or any change whose key does not (its key
  // then holds the server's text of that value). Such a change is
  // recorded as a rejected row instead (a delete clears one).
  std::string rejection;
};

// Maps column `i` of `row->table`, as the server printed it (nullopt for
// NULL), into row->key or row->values (sized for the table). A value that
// does not map rejects the row: the first reason is kept, and a key column
// keeps the server's text so that the row can still be named.
void MapCapturedValue(size_t i, std::optional<std::string_view> server_text, CapturedRow* row);

// Rejects the row for column `i`, whose server text `server_text` could not
// be read (`why`).
void RejectCapturedValue(size_t i, std::string_view server_text, const Status& why, CapturedRow* row);

struct CapturedTransaction {
  // The source position just past the transaction's commit (Postgres: the
  // Commit message's end_lsn). Positions grow with commit order.
  int64_t end_position = 0;
  std::vector<CapturedRow> rows;  // in the order the transaction made them
  int64_t commit_time_us = 0;     // Unix microseconds
};

}  // namespace crbridge
