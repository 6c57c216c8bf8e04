// Type mapping between server columns (Postgres, MySQL/MariaDB) and SQLite
// values, with one canonical SQLite value per server value, so that a value
// that travels client -> server -> client comes back identical.
//
//   server type                              SQLite value (canonical form)
//   integers of every width, MySQL unsigned  INTEGER (beyond int64: error)
//   boolean, MySQL tinyint(1)                INTEGER 0 / 1
//   real, double, float                      REAL; Postgres NaN: TEXT 'NaN' (SQLite
//                                            stores a REAL NaN as NULL); +-Infinity:
//                                            REAL infinities
//   numeric, decimal                         TEXT exactly as the server prints it
//                                            ('NaN', 'Infinity' on Postgres)
//   text, varchar, char, citext, enum, set   TEXT
//   bytea, binary, varbinary, blob           BLOB
//   uuid                                     TEXT, lowercase
//   date                                     TEXT YYYY-MM-DD
//   timestamp, MySQL datetime                TEXT YYYY-MM-DDTHH:MM:SS[.ffffff]
//   timestamptz, MySQL timestamp             TEXT YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC)
//   time, interval, arrays, others           TEXT in the server's text form
//   json, jsonb                              TEXT (jsonb in its normalised form)
//
// Dates and timestamps the ISO forms above cannot say keep the server's
// words: Postgres 'infinity' and '-infinity', years before 1 with ' BC' at
// the end ('0044-03-15 BC', '0044-03-15T12:00:00Z BC'), years past 9999 in
// more digits ('10000-01-01'); MariaDB's zero dates as it prints them
// ('0000-00-00', '2024-00-15', '0000-00-00T00:00:00Z'). Clients may write
// each back.
//
// Text must be valid UTF-8 without NUL bytes (from the server, other text
// cannot be mapped: the published cr-sqlite client cuts text at a NUL).
// From clients, every value is checked against what the column can hold
// before any SQL runs, so the client's error names the column and the rule
// rather than the server's own words: text as above, fitting the column's
// length, dates and
// timestamps are real calendar dates in the server's range, numbers fit
// numeric(p,s), JSON parses, NaN and infinities only where the server has
// them.
//
// Servers are read and written in text form with the session set up as
// crbridge's connections set it (Postgres: DateStyle ISO, TimeZone UTC,
// bytea_output hex, extra_float_digits 3; MySQL: time_zone '+00:00').
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/server_table.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

enum class ValueKind {
  kInteger,
  kBoolean,
  kReal,
  kDecimal,
  kText,
  kBlob,
  kUuid,
  kDate,
  kTimestamp,
  kTimestampTz,
  kJson,
  kServerText,  // time, interval, arrays, enums and others, as the server prints them
};

struct ColumnType {
  ValueKind kind = ValueKind::kText;
  // Integer range accepted from clients (and read from the server).
  int64_t min = INT64_MIN;
  uint64_t max = INT64_MAX;
  std::string server_type;  // as the catalog names it, for casts and messages
  // What the column holds at most: characters of text, bytes of blobs (0:
  // no limit crbridge checks).
  uint64_t max_length = 0;
  // numeric(precision, scale); precision 0 when unconstrained.
  int precision = 0;
  int scale = 0;

  // The column's type in the client schema: INTEGER, REAL, TEXT or BLOB.
  std::string_view SqliteType() const;
};

// Classifies a server column. InvalidArgument naming the type when crbridge
// cannot map it so that values round-trip.
Status ClassifyColumn(SourceType source, const ServerColumn& column, ColumnType* type);

// A value as the server prints it (text protocol) -> its canonical SQLite value.
// Corruption when the text does not parse as the type says (or, for
// integers, does not fit in 64 bits; for text, is not valid UTF-8 or holds
// a NUL byte); the message shows the text with unprintable bytes escaped.
Status FromServerText(const ColumnType& type, std::string_view text, Value* value);

// What a server write takes for a value: NULL, or the text to bind. Blobs
// become raw bytes for MySQL and \x hex for Postgres.
struct ServerParameter {
  bool is_null = false;
  std::string text;
};

// A client value -> the server parameter for a column of `type`. Accepts
// what the vlcn client sends (integers as floats, booleans as integers);
// InvalidArgument for what the column cannot hold, naming `what`
// (table.column), the value (unprintable bytes escaped) and the rule:
//   todos.title: cannot store 'a\x00b' (text) in a text column: text must be valid UTF-8 without NUL bytes
Status ToServerParameter(SourceType source, const ColumnType& type, const Value& value, std::string_view what,
                         ServerParameter* parameter);

}  // namespace crbridge
