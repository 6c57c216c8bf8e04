#include "crbridge/server/core/served_schema.h"

#include <nlohmann/json.hpp>

#include "crbridge/mappings/client_schema.h"

namespace crbridge {

ServedSchema ServedSchemaOf(const std::vector<ResolvedTable>& tables) {
  ServedSchema schema;
  schema.sql = ClientSchemaSql(tables);
  schema.version = SchemaVersion(schema.sql);
  for (const ResolvedTable& t : tables) {
    std::set<std::string>& columns = schema.columns[t.mapping->name];
    for (size_t i = t.pk_count; i < t.columns.size(); ++i) columns.insert(t.columns[i].name);
  }
  return schema;
}

std::string EncodeSchemaColumns(const SchemaColumns& columns) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [table, names] : columns) json[table] = names;
  return json.dump();
}

Status DecodeSchemaColumns(const std::string& text, SchemaColumns* columns) {
  columns->clear();
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return Status::Corruption("a served schema's columns are not a JSON object: " + text);
  for (const auto& [table, names] : json.items()) {
    if (!names.is_array()) return Status::Corruption("a served schema's columns of " + table + " are not an array");
    std::set<std::string>& out = (*columns)[table];
    for (const nlohmann::json& name : names) {
      if (!name.is_string()) return Status::Corruption("a served schema's column of " + table + " is not a string");
      out.insert(name.get<std::string>());
    }
  }
  return Status::OK();
}

AddedColumns ColumnsAdded(const SchemaColumns& from, const SchemaColumns& to) {
  AddedColumns added;
  for (const auto& [table, names] : to) {
    const auto known = from.find(table);
    if (known == from.end()) {
      added.tables.insert(table);
      continue;
    }
    for (const std::string& name : names) {
      if (!known->second.contains(name)) added.columns[table].insert(name);
    }
  }
  return added;
}

bool SchemaHas(const SchemaColumns& columns, const Change& change) {
  const auto table = columns.find(change.table);
  return table != columns.end() && (change.is_sentinel() || table->second.contains(change.cid));
}

bool AddedHas(const AddedColumns& added, const Change& change) {
  if (added.tables.contains(change.table)) return true;
  const auto table = added.columns.find(change.table);
  return table != added.columns.end() && !change.is_sentinel() && table->second.contains(change.cid);
}

}  // namespace crbridge
