// The catalog rules of rooms by membership and by reference (issue 17):
// the tables and columns they name exist, a room_via references a mapped
// table whose primary key is a single column, and values on both sides of
// each reference are of one kind, so that they can match.
#include "room_rules_check.h"

#include <algorithm>
#include <map>

#include "crbridge/mappings/type_mapping.h"

namespace crbridge {
namespace {

const ServerColumn* ColumnOf(const ServerTable& table, const std::string& name) {
  for (const ServerColumn& column : table.columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

const ResolvedColumn* MappedColumn(const ResolvedTable& table, const std::string& server_name) {
  for (const ResolvedColumn& column : table.columns) {
    if (column.server.name == server_name) return &column;
  }
  return nullptr;
}

// "the primary key of lists (text)" when `table` has a single-column key.
std::string KeyOf(const ResolvedTable& table) {
  return "the primary key of " + table.mapping->name + " (" + table.columns[0].server.type + ")";
}

Status CheckRoomMembers(const Config& config, const ResolvedTable& table, const std::vector<ResolvedTable>& tables,
                        SourceDatabase& database, std::vector<Status>* problems) {
  const RoomMembers& members = *table.mapping->room_members;
  if (table.pk_count != 1) {
    problems->push_back(config.ErrorAt(members.path, "room_members needs a primary key of one column; " +
                                                         table.mapping->name + "'s has " +
                                                         std::to_string(table.pk_count)));
    return Status::OK();
  }
  ServerTable membership;
  bool found = false;
  CRBRIDGE_RETURN_IF_ERROR(database.ReadTable(members.source_schema, members.source_table, &membership, &found));
  const std::string qualified =
      members.source_schema.empty() ? members.source_table : members.source_schema + "." + members.source_table;
  if (!found) {
    problems->push_back(config.ErrorAt(members.path + ".table", "table " + qualified + " does not exist"));
    return Status::OK();
  }
  for (const auto& [key, name] : {std::pair<std::string, std::string>{"key", members.key}, {"room", members.room}}) {
    if (ColumnOf(membership, name) == nullptr) {
      problems->push_back(config.ErrorAt(members.path + "." + key, "column \"" + name + "\" does not exist in " + qualified));
    }
  }
  // Membership rows reach crbridge through capture, which reads mapped
  // tables only.
  if (std::none_of(tables.begin(), tables.end(), [&](const ResolvedTable& t) {
        return t.mapping != nullptr && t.mapping->source_schema == members.source_schema &&
               t.mapping->source_table == members.source_table;
      })) {
    problems->push_back(config.ErrorAt(members.path + ".table", "table " + qualified +
                                                                    " must be mapped too (writable: false keeps it "
                                                                    "read-only for clients)"));
  }
  const ServerColumn* key = ColumnOf(membership, members.key);
  if (key == nullptr) return Status::OK();
  ColumnType type;
  if (!ClassifyColumn(config.source.type, *key, &type).ok() || type.kind != table.columns[0].type.kind) {
    problems->push_back(config.ErrorAt(members.path + ".key", "column \"" + members.key + "\" (" + key->type +
                                                                  ") cannot match " + KeyOf(table)));
  }
  return Status::OK();
}

void CheckRoomVia(const Config& config, const ResolvedTable& table,
                  const std::map<std::string, const ResolvedTable*>& by_name, std::vector<Status>* problems) {
  const RoomVia& via = *table.mapping->room_via;
  const ResolvedColumn* column = MappedColumn(table, via.column);
  if (column == nullptr) {
    problems->push_back(config.ErrorAt(via.path + ".column", "column \"" + via.column + "\" of " +
                                                                 table.mapping->name + " must exist and be mapped"));
  }
  const auto target = by_name.find(via.table);
  if (target == by_name.end()) return;  // the config says why (ParseConfig)
  const ResolvedTable& referenced = *target->second;
  const TableMapping& parent = *referenced.mapping;
  if (!parent.room_column && !parent.room_members && !parent.room_via) {
    problems->push_back(config.ErrorAt(via.path + ".table", "table " + via.table +
                                                                " has no rooms (room_column, room_members or "
                                                                "room_via) for its rows to take"));
  }
  if (referenced.pk_count != 1) {
    problems->push_back(config.ErrorAt(via.path + ".table", "room_via needs a primary key of one column; " + via.table +
                                                                "'s has " + std::to_string(referenced.pk_count)));
    return;
  }
  if (column != nullptr && column->type.kind != referenced.columns[0].type.kind) {
    problems->push_back(config.ErrorAt(via.path + ".column", "column \"" + via.column + "\" (" +
                                                                 column->server.type + ") cannot match " +
                                                                 KeyOf(referenced)));
  }
}

}  // namespace

Status CheckRoomRules(const Config& config, const std::vector<ResolvedTable>& tables, SourceDatabase& database,
                      std::vector<Status>* problems) {
  std::map<std::string, const ResolvedTable*> by_name;
  for (const ResolvedTable& table : tables) {
    if (table.mapping != nullptr && !table.columns.empty()) by_name[table.mapping->name] = &table;
  }
  for (const auto& [name, table] : by_name) {
    if (table->mapping->room_members) CRBRIDGE_RETURN_IF_ERROR(CheckRoomMembers(config, *table, tables, database, problems));
    if (table->mapping->room_via) CheckRoomVia(config, *table, by_name, problems);
  }
  return Status::OK();
}

}  // namespace crbridge
