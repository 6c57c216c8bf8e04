#include "crbridge/server/core/config_check.h"

#include "room_rules_check.h"

namespace crbridge {

Status CheckConfig(const Config& config, SourceDatabase& database, ConfigCheck* result) {
  *result = ConfigCheck{};
  std::vector<std::string> settings;
  CRBRIDGE_RETURN_IF_ERROR(database.CheckSettings(&settings));
  for (const std::string& problem : settings) result->problems.push_back(config.ErrorAt("source.url", problem));
  for (const TableMapping& mapping : config.tables) {
    ServerTable table;
    bool found = false;
    CRBRIDGE_RETURN_IF_ERROR(database.ReadTable(mapping.source_schema, mapping.source_table, &table, &found));
    ResolvedTable resolved;
    ResolveTable(config, mapping, found ? &table : nullptr, &resolved, &result->problems);
    result->tables.push_back(std::move(resolved));
  }
  CRBRIDGE_RETURN_IF_ERROR(database.CheckPrivileges(config, result->tables, &result->problems));
  return CheckRoomRules(config, result->tables, database, &result->problems);
}

}  // namespace crbridge
