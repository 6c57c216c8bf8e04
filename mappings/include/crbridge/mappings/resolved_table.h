// ResolvedTable: a table mapping checked against the live database's
// catalog: which server columns clients see, under which names and types,
// and the primary key that becomes the CRR key. Built once at start-up (and
// by `crbridge check`); immutable afterwards, readable from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/server_table.h"
#include "crbridge/mappings/type_mapping.h"

namespace crbridge {

struct ResolvedColumn {
  std::string name;         // as clients see it
  ServerColumn server;      // the server column it maps
  ColumnType type;
};

struct ResolvedTable {
  const TableMapping* mapping = nullptr;  // points into the Config
  std::vector<ResolvedColumn> columns;    // primary key columns first, in key order
  size_t pk_count = 0;
  std::optional<size_t> room_column;      // index into columns
  std::optional<size_t> via_column;       // room_via's column, index into columns
  // Whether the table's rooms come from other rows (room_members, room_via):
  // a row may be in many rooms, recorded apart from its clock.
  bool derives_rooms() const { return mapping->room_members || mapping->room_via; }
  // The column whose value a row's clock records as its room: the room
  // column, or room_via's (the key of the row it references).
  std::optional<size_t> recorded_room_column() const { return room_column ? room_column : via_column; }
};

// Checks `mapping` against `table` (nullptr when the table does not exist)
// and appends one InvalidArgument per problem to *problems, each positioned
// at the config key responsible. *resolved is complete only when no problem
// was added.
void ResolveTable(const Config& config, const TableMapping& mapping, const ServerTable* table,
                  ResolvedTable* resolved, std::vector<Status>* problems);

}  // namespace crbridge
