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

Status ParseRecordedTable(std::string name, const std::string& key_json, const std::string& values_json,
                          std::optional<std::string> room_rule, RecordedTable* recorded) {
  recorded->name = std::move(name);
  CRBRIDGE_RETURN_IF_ERROR(ParseColumnNamesJson(key_json, &recorded->columns.key));
  CRBRIDGE_RETURN_IF_ERROR(ParseColumnNamesJson(values_json, &recorded->columns.values));
  recorded->room_rule = std::move(room_rule);
  return Status::OK();
}

namespace {
constexpr std::string_view kRoomColumnRule = "room_column: ";
}  // namespace

std::string RoomRuleOf(const ResolvedTable& t) {
  const TableMapping& m = *t.mapping;
  if (m.room_column) return std::string(kRoomColumnRule) + *m.room_column;
  if (m.room_via) return "room_via: {column: " + m.room_via->column + ", table: " + m.room_via->table + "}";
  if (m.room_members) {
    const RoomMembers& members = *m.room_members;
    return "room_members: {table: " + (members.source_schema.empty() ? "" : members.source_schema + ".") +
           members.source_table + ", key: " + members.key + ", room: " + members.room + "}";
  }
  return "every room";
}

namespace {

// The config key of `t`'s room rule ("tables[1].room_column"), or of the
// table when it has none.
std::string RoomRuleKey(const ResolvedTable& t) {
  const TableMapping& m = *t.mapping;
  if (m.room_column) return m.path + ".room_column";
  if (m.room_via) return m.room_via->path;
  if (m.room_members) return m.room_members->path;
  return m.path;
}

}  // namespace

bool ClockTableChange::adds_columns() const {
  return std::any_of(from.begin(), from.end(), [](const std::optional<size_t>& i) { return !i; });
}

Status ClockTableChange::Refused() const {
  if (refusals.empty()) return Status::OK();
  return Status::InvalidArgument(refusals.front().key + ": " + refusals.front().message);
}

ClockTableChange ChangeClockTable(const RecordedTable& recorded, const ResolvedTable& t) {
  ClockTableChange change;
  change.columns = ClockColumnsOf(t);
  const std::string& name = t.mapping->name;
  const std::string rule = RoomRuleOf(t);
  if (!recorded.room_rule) {
    change.rule_to_record = rule;
  } else if (*recorded.room_rule != rule && recorded.room_rule->starts_with(kRoomColumnRule) &&
             t.mapping->room_column) {
    // Each row's room is read from the table again: rows whose room changed
    // move (room_moves.h), as if the app had moved them.
    change.rule_to_record = rule;
    change.moves_rooms = true;
  } else if (*recorded.room_rule != rule) {
    change.refusals.push_back(
        {RoomRuleKey(t), "the rooms of table " + name + " changed from \"" + *recorded.room_rule + "\" to \"" + rule +
                             "\"; crbridge moves rows between rooms in place only from one room column to another: "
                             "put the rule back, map the table under a new name (clients get it as a new table) or "
                             "run `crbridge drop` and resync every client"});
  }
  if (change.columns.key != recorded.columns.key) {
    change.refusals.push_back(
        {t.mapping->path, "the primary key of table " + name + " changed from " + ColumnNamesJson(recorded.columns.key) +
                              " to " + ColumnNamesJson(change.columns.key) +
                              "; clocks cannot follow a new key (every row's identity changes): map the table under "
                              "a new name (clients get it as a new table) or run `crbridge drop` and resync every "
                              "client"});
  }
  const std::vector<std::string>& was = recorded.columns.values;
  for (const std::string& column : change.columns.values) {
    const auto found = std::find(was.begin(), was.end(), column);
    change.from.push_back(found == was.end() ? std::nullopt
                                             : std::optional<size_t>(static_cast<size_t>(found - was.begin())));
  }
  change.moves_clocks = change.columns.values != was;
  return change;
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
