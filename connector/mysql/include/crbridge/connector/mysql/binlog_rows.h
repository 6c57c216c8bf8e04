// The row images of a binlog ROWS event (binlog_events.h) decoded into raw
// typed values, one per column the image carries, using the TABLE_MAP that
// describes the table. Mapping them to crbridge's canonical SQLite values is
// type_mapping's job. Stateless functions over plain structs; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

struct BinlogNull {
  friend bool operator==(const BinlogNull&, const BinlogNull&) = default;
};

struct BinlogBytes {
  std::string data;
  friend bool operator==(const BinlogBytes&, const BinlogBytes&) = default;
};

// A value in the form MySQL's text protocol gives it (with the session's
// time_zone '+00:00'), so that type_mapping's FromServerText applies:
//   TINYINT..BIGINT, YEAR      int64_t; an unsigned BIGINT above INT64_MAX
//                              is uint64_t (and no other value is)
//   FLOAT, DOUBLE              double (a FLOAT widened exactly)
//   DECIMAL                    std::string, exact with the column's scale:
//                              "0.05", "-12.50", "7"
//   DATE, DATETIME, TIMESTAMP  std::string "2024-05-06", "2024-05-06
//                              07:08:09.120" (the column's fractional
//                              digits; TIMESTAMP in UTC)
//   TIME                       std::string "-838:59:59", "-00:00:01.50"
//   CHAR, VARCHAR, TEXT,       std::string in the column's charset
//   ENUM, SET, MariaDB JSON    (SET: the members joined by ",")
//   MySQL JSON                 std::string, the JSON text MySQL prints:
//                              {"a": 1.5, "b": [true, null]}
//   BINARY, VARBINARY, BLOB,   BinlogBytes (BINARY padded back to its
//   BIT, GEOMETRY              length with zero bytes; BIT big-endian);
//                              also the strings of a table map without
//                              charsets
using BinlogValue = std::variant<BinlogNull, int64_t, uint64_t, double, std::string, BinlogBytes>;

struct BinlogColumnValue {
  uint32_t column = 0;  // index into the table map's columns
  BinlogValue value;
  friend bool operator==(const BinlogColumnValue&, const BinlogColumnValue&) = default;
};

// The columns an image carries, in column order: every column with
// binlog_row_image=FULL, fewer with MINIMAL or NOBLOB.
using BinlogRowImage = std::vector<BinlogColumnValue>;

// A written row has only `after`, a deleted one only `before`, an updated
// one both.
struct BinlogRowChange {
  BinlogRowImage before;
  BinlogRowImage after;
  friend bool operator==(const BinlogRowChange&, const BinlogRowChange&) = default;
};

// Decodes every row of `rows` with the columns of `table`, the latest
// TABLE_MAP with the event's table id. Returns InvalidArgument when the
// table ids differ and for columns this decoder cannot read (compressed
// columns, pre-5.0 DECIMAL, ENUM and SET without their values in the table
// map), Corruption naming the column for truncated or malformed images
// (a MySQL JSON value included) or a column count that disagrees with the
// table map. MySQL's partial JSON updates (PARTIAL_UPDATE_ROWS events,
// binlog_row_value_options=PARTIAL_JSON) are not read. Never reads outside
// `rows.rows`; what it allocates is bounded by its size. On error `changes`
// is unchanged.
Status DecodeBinlogRows(const BinlogTableMap& table, const BinlogRowsEvent& rows,
                        std::vector<BinlogRowChange>* changes);

}  // namespace crbridge::mysql
