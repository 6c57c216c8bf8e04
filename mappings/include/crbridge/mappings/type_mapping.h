// Type mapping between server columns (Postgres, MySQL/MariaDB) and SQLite
// values, with one canonical SQLite value per server value, so that a value
// that travels client -> server -> client comes back identical.
//
//   server type                              SQLite value (canonical form)
//   integers of every width, MySQL unsigned  INTEGER (beyond int64: error)
//   boolean, MySQL tinyint(1)                INTEGER 0 / 1
//   real, double, float                      REAL
//   numeric, decimal                         TEXT exactly as the server prints it
//   text, varchar, char, citext, enum, set   TEXT
//   bytea, binary, varbinary, blob           BLOB
//   uuid                                     TEXT, lowercase
//   date                                     TEXT YYYY-MM-DD
//   timestamp, MySQL datetime                TEXT YYYY-MM-DDTHH:MM:SS[.ffffff]
//   timestamptz, MySQL timestamp             TEXT YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC)
//   time, interval, arrays, others           TEXT in the server's text form
//   json, jsonb                              TEXT (jsonb in its normalised form)
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

  // The column's type in the client schema: INTEGER, REAL, TEXT or BLOB.
  std::string_view SqliteType() const;
};

// Classifies a server column. InvalidArgument naming the type when crbridge
// cannot map it so that values round-trip.
Status ClassifyColumn(SourceType source, const ServerColumn& column, ColumnType* type);

// A value as the server prints it (text protocol) -> its canonical SQLite value.
// Corruption when the text does not parse as the type says (or, for
// integers, does not fit in 64 bits).
Status FromServerText(const ColumnType& type, std::string_view text, Value* value);

// What a server write takes for a value: NULL, or the text to bind. Blobs
// become raw bytes for MySQL and \x hex for Postgres.
struct ServerParameter {
  bool is_null = false;
  std::string text;
};

// A client value -> the server parameter for a column of `type`. Accepts
// what the vlcn client sends (integers as floats, booleans as integers);
// InvalidArgument for what cannot fit, with `what` (table.column) and the
// value in the message.
Status ToServerParameter(SourceType source, const ColumnType& type, const Value& value, std::string_view what,
                         ServerParameter* parameter);

}  // namespace crbridge
