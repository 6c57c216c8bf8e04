// BinlogChangeMapper: turns the row changes of a MySQL/MariaDB row binlog
// (binlog_events.h, binlog_rows.h) of mapped tables into CapturedRows
// (captured_change.h in server-side/core): columns matched by name through the
// latest TABLE_MAP of each table id (binlog_row_metadata=FULL), values
// mapped with type_mapping's FromServerText from the text the server's
// SELECT gives for them (a row whose values do not map is a rejection),
// key changes split into a delete and an insert.
// The binlog's counterpart of PgOutputChangeMapper. Changes of unmapped
// tables cost a map lookup. Not thread-safe; one per binlog stream.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/connector/mysql/binlog_rows.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/captured_change.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

class BinlogChangeMapper {
 public:
  // `tables` must outlive the mapper. A mapping's source_schema is the
  // MySQL database; "" means `default_database` (the url's).
  BinlogChangeMapper(const std::vector<ResolvedTable>& tables, std::string default_database)
      : tables_(tables), default_database_(std::move(default_database)) {}

  // Remembers how a table id's columns map. InvalidArgument naming the
  // table and column when a mapped table has no column names in the table
  // map (binlog_row_metadata is not FULL) or no longer has a mapped column
  // (its definition changed under crbridge).
  Status OnTableMap(const BinlogTableMap& table);

  // Appends the rows of a ROWS event to `rows` (nothing for unmapped
  // tables): writes as inserts, deletes as deletes, updates as updates or,
  // when the key changed, a delete of the old key and an insert of the new.
  // Columns an image leaves out (binlog_row_image=MINIMAL) are unset
  // values; a row with a value that does not map is a rejection
  // (CapturedRow::rejection). Corruption for a table id never described or
  // rows that do not decode.
  Status OnRows(const BinlogRowsEvent& event, std::vector<CapturedRow>* rows) const;

 private:
  struct MappedTable {
    const ResolvedTable* table = nullptr;  // nullptr: not mapped
    BinlogTableMap map;                    // mapped tables only
    // Per column of the table's ResolvedTable: its index in the table map.
    std::vector<uint32_t> map_column;
  };

  // The key and (unless `key_only`) values of an image.
  static Status Read(const MappedTable& mapped, const BinlogRowImage& image, bool key_only, CapturedRow* row);

  const std::vector<ResolvedTable>& tables_;
  std::string default_database_;
  // By table id. Ids change only after DDL, so old entries are few.
  std::map<uint64_t, MappedTable> table_ids_;
};

}  // namespace crbridge::mysql
