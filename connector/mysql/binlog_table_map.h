// The body of a TABLE_MAP event: a table's columns with their wire types,
// metadata and nullability, and the optional metadata (signedness,
// charsets, names, ENUM/SET values, primary key). Private to connector/,
// for the event decoder (binlog_events.cc). Stateless.
#pragma once

#include <cstdint>

#include "binlog_reader.h"
#include "crbridge/connector/mysql/binlog_events.h"

namespace crbridge::mysql {

// MySQL and MariaDB refuse tables with more columns, so a larger count in a
// TABLE_MAP or ROWS event is corruption (and bounds what we allocate).
inline constexpr uint64_t kMaxColumns = 4096;

// Reads the body after the event header.
Status DecodeTableMap(BinlogReader& reader, MysqlFlavor flavor, BinlogTableMap* table);

}  // namespace crbridge::mysql
