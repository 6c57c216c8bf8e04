// The SQLite schema that clients apply: one CREATE TABLE per mapped table
// (client names, SQLite types, the primary key, NOT NULL with defaults
// that SQLite can express) and crsql_as_crr for each, plus the schema
// version a vlcn client announces after applying it with automigrateTo.
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/schema_version.h"  // SchemaVersion, the version of ClientSchemaSql's text

namespace crbridge {

// The schema text; clients must apply it byte for byte, since its hash is
// the schema version.
std::string ClientSchemaSql(const std::vector<ResolvedTable>& tables);

// A server column default as an SQLite literal, when it is a plain
// constant ("''::text", "0", "false", "'open'"); empty otherwise.
std::string SqliteDefault(const ColumnType& type, const std::string& server_default);

}  // namespace crbridge
