#include "crbridge/server/core/clock_columns.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace crbridge {

ClockColumns ClockColumnsOf(const ResolvedTable& t) {
  ClockColumns columns;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    (i < t.pk_count ? columns.key : columns.values).push_back(t.columns[i].server.name);
  }
  return columns;
}

bool ClockColumnsMove::adds_columns() const {
  return std::any_of(from.begin(), from.end(), [](const std::optional<size_t>& i) { return !i; });
}

Status MoveClockColumns(const ClockColumns& recorded, const ResolvedTable& t, ClockColumnsMove* move) {
  const ClockColumns now = ClockColumnsOf(t);
  if (now.key != recorded.key) {
    return Status::InvalidArgument(
        "the primary key of table " + t.mapping->name + " changed from " + ColumnNamesJson(recorded.key) + " to " +
        ColumnNamesJson(now.key) +
        "; clocks cannot follow a new key (every row's identity changes): map the table under a new name (clients "
        "get it as a new table) or run `crbridge drop` and resync every client");
  }
  move->from.clear();
  for (const std::string& name : now.values) {
    const auto found = std::find(recorded.values.begin(), recorded.values.end(), name);
    move->from.push_back(found == recorded.values.end()
                             ? std::nullopt
                             : std::optional<size_t>(static_cast<size_t>(found - recorded.values.begin())));
  }
  return Status::OK();
}

std::string RoomRuleOf(const ResolvedTable& t) {
  const TableMapping& m = *t.mapping;
  if (m.room_column) return "room_column: " + *m.room_column;
  if (m.room_via) return "room_via: {column: " + m.room_via->column + ", table: " + m.room_via->table + "}";
  if (m.room_members) {
    const RoomMembers& members = *m.room_members;
    return "room_members: {table: " + (members.source_schema.empty() ? "" : members.source_schema + ".") +
           members.source_table + ", key: " + members.key + ", room: " + members.room + "}";
  }
  return "every room";
}

std::string RoomRuleChange(const std::string& recorded, const ResolvedTable& t) {
  return "the rooms of table " + t.mapping->name + " changed from \"" + recorded + "\" to \"" + RoomRuleOf(t) +
         "\"; crbridge does not move rows between the rooms of another rule in place: put the rule back, map the "
         "table under a new name (clients get it as a new table) or run `crbridge drop` and resync every client";
}

Status RoomRuleChanged(const std::string& recorded, const ResolvedTable& t) {
  return Status::InvalidArgument(t.mapping->path + ": " + RoomRuleChange(recorded, t));
}

std::string RoomRuleKey(const ResolvedTable& t) {
  const TableMapping& m = *t.mapping;
  if (m.room_column) return m.path + ".room_column";
  if (m.room_via) return m.room_via->path;
  if (m.room_members) return m.room_members->path;
  return m.path;
}

namespace {
constexpr std::string_view kMappingsChanged = "the mappings changed: ";
}  // namespace

Status MappingsChanged(const std::string& what) {
  // Aborted: nothing was done; it is done again with the new mappings.
  return Status::Aborted(std::string(kMappingsChanged) + what);
}

bool IsMappingsChanged(const Status& status) {
  return status.code() == Status::Code::kAborted && status.message().starts_with(kMappingsChanged);
}

std::string ColumnNamesJson(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

Status ParseColumnNamesJson(const std::string& text, std::vector<std::string>* names) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_array()) return Status::Corruption("recorded clock columns are not a JSON array: " + text);
  names->clear();
  for (const nlohmann::json& name : json) {
    if (!name.is_string()) return Status::Corruption("a recorded clock column is not a string: " + text);
    names->push_back(name.get<std::string>());
  }
  return Status::OK();
}

}  // namespace crbridge
