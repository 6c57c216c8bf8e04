#include "crbridge/mappings/resolved_table.h"

#include <algorithm>

namespace crbridge {
namespace {

const ServerColumn* FindColumn(const ServerTable& table, const std::string& name) {
  for (const ServerColumn& c : table.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

void ResolveTable(const Config& config, const TableMapping& mapping, const ServerTable* table,
                  ResolvedTable* resolved, std::vector<Status>* problems) {
  const std::string where = mapping.path;
  *resolved = ResolvedTable{&mapping, {}, 0, std::nullopt, std::nullopt};
  if (table == nullptr) {
    problems->push_back(config.ErrorAt(where + ".source", "table " + mapping.QualifiedSource() + " does not exist"));
    return;
  }
  const std::string qualified = mapping.QualifiedSource();
  const size_t before = problems->size();

  // Which server columns are mapped, under which client names.
  std::vector<std::pair<std::string, const ServerColumn*>> chosen;
  if (mapping.columns.empty()) {
    for (const ServerColumn& c : table->columns) {
      if (std::find(mapping.exclude.begin(), mapping.exclude.end(), c.name) == mapping.exclude.end()) {
        chosen.emplace_back(c.name, &c);
      }
    }
  } else {
    for (size_t i = 0; i < mapping.columns.size(); ++i) {
      const ColumnMapping& column = mapping.columns[i];
      const ServerColumn* server = FindColumn(*table, column.source);
      if (server == nullptr) {
        problems->push_back(config.ErrorAt(where + ".columns[" + std::to_string(i) + "]",
                                           "column \"" + column.source + "\" does not exist in " + qualified));
        continue;
      }
      chosen.emplace_back(column.name, server);
    }
  }
  for (size_t i = 0; i < mapping.exclude.size(); ++i) {
    if (FindColumn(*table, mapping.exclude[i]) == nullptr) {
      problems->push_back(config.ErrorAt(where + ".exclude[" + std::to_string(i) + "]",
                                         "column \"" + mapping.exclude[i] + "\" does not exist in " + qualified));
    }
  }

  // The primary key: every key column must be mapped, as it becomes the CRR key.
  std::vector<const ServerColumn*> pk;
  for (const ServerColumn& c : table->columns) {
    if (c.pk_position > 0) pk.push_back(&c);
  }
  std::sort(pk.begin(), pk.end(), [](const ServerColumn* a, const ServerColumn* b) { return a->pk_position < b->pk_position; });
  if (pk.empty()) {
    problems->push_back(config.ErrorAt(where + ".source", qualified + " has no primary key; crbridge needs one to identify rows"));
  }
  for (const ServerColumn* key : pk) {
    const bool mapped = std::any_of(chosen.begin(), chosen.end(), [&](const auto& c) { return c.second == key; });
    if (!mapped) {
      problems->push_back(config.ErrorAt(where + (mapping.columns.empty() ? ".exclude" : ".columns"),
                                         "primary key column \"" + key->name + "\" of " + qualified + " must be mapped"));
    }
  }

  // Client inserts must be able to fill every NOT NULL column.
  if (mapping.writable) {
    for (const ServerColumn& c : table->columns) {
      const bool mapped = std::any_of(chosen.begin(), chosen.end(), [&](const auto& m) { return m.second == &c; });
      if (c.not_null && !c.has_default && !mapped && c.pk_position == 0) {
        problems->push_back(config.ErrorAt(where + (mapping.columns.empty() ? ".exclude" : ".columns"),
                                           "column \"" + c.name + "\" of " + qualified +
                                               " is NOT NULL without a default, so client inserts need it mapped "
                                               "(or set writable: false)"));
      }
    }
  }

  for (const ServerColumn* key : pk) {
    for (const auto& [name, server] : chosen) {
      if (server != key) continue;
      ResolvedColumn column{name, *server, {}};
      if (Status s = ClassifyColumn(config.source.type, *server, &column.type); !s.ok()) {
        problems->push_back(config.ErrorAt(where, "column \"" + server->name + "\": " + s.message()));
      }
      resolved->columns.push_back(std::move(column));
    }
  }
  resolved->pk_count = resolved->columns.size();
  for (const auto& [name, server] : chosen) {
    if (server->pk_position > 0) continue;
    ResolvedColumn column{name, *server, {}};
    if (Status s = ClassifyColumn(config.source.type, *server, &column.type); !s.ok()) {
      problems->push_back(config.ErrorAt(where, "column \"" + server->name + "\": " + s.message()));
    }
    resolved->columns.push_back(std::move(column));
  }

  if (mapping.room_column) {
    for (size_t i = 0; i < resolved->columns.size(); ++i) {
      if (resolved->columns[i].server.name == *mapping.room_column) resolved->room_column = i;
    }
    if (!resolved->room_column) {
      const bool exists = FindColumn(*table, *mapping.room_column) != nullptr;
      problems->push_back(config.ErrorAt(where + ".room_column",
                                         exists ? "column \"" + *mapping.room_column + "\" must be mapped to be the room column"
                                                : "column \"" + *mapping.room_column + "\" does not exist in " + qualified));
    }
  }
  if (mapping.room_via) {
    // An unmapped column is refused with the rest of the room rules
    // (CheckRoomRules).
    for (size_t i = 0; i < resolved->columns.size(); ++i) {
      if (resolved->columns[i].server.name == mapping.room_via->column) resolved->via_column = i;
    }
  }
  if (problems->size() != before) resolved->columns.clear();
}

}  // namespace crbridge
