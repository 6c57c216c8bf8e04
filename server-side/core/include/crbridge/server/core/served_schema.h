// ServedSchema: a client schema crbridge has served, kept in the shadow
// store for as long as the store lives (docs/design.md, "Schema
// versions"): clients of any version served keep syncing, each with the
// tables and columns its version has. A version is the hash a vlcn client
// announces (SchemaVersion of ClientSchemaSql's text).
//
// ColumnsAdded says what a client moving from one version to another
// lacks: the sync server sends it those columns' values for the rows it
// already has. Plain data and stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// Per table as clients name it, its value columns as clients name them.
using SchemaColumns = std::map<std::string, std::set<std::string>>;

struct ServedSchema {
  int64_t version = 0;
  std::string sql;  // the text clients apply (ClientSchemaSql)
  SchemaColumns columns;
};

// The schema `tables` make.
ServedSchema ServedSchemaOf(const std::vector<ResolvedTable>& tables);

// `columns` as the shadow store keeps them (JSON), and back;
// Corruption when the text is not what EncodeSchemaColumns writes.
std::string EncodeSchemaColumns(const SchemaColumns& columns);
Status DecodeSchemaColumns(const std::string& text, SchemaColumns* columns);

// What `to` has that `from` lacks: its new tables (every change of them,
// sentinels included) and the new columns of tables both have.
struct AddedColumns {
  SchemaColumns columns;      // new columns of tables both have
  std::set<std::string> tables;  // tables `from` lacks
  bool empty() const { return columns.empty() && tables.empty(); }
};
AddedColumns ColumnsAdded(const SchemaColumns& from, const SchemaColumns& to);

// Whether a client with `columns` has the table and column of `change`
// (a sentinel needs the table only).
bool SchemaHas(const SchemaColumns& columns, const Change& change);
// Whether `change` is one of `added`'s.
bool AddedHas(const AddedColumns& added, const Change& change);

}  // namespace crbridge
