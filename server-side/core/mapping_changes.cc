#include "crbridge/server/core/mapping_changes.h"

#include <algorithm>
#include <map>

namespace crbridge {
namespace {

std::string Listed(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// What a start does to the clocks of `t`, recorded as `recorded`.
void PlanTable(const Config& config, const RecordedTable& recorded, const ResolvedTable& t, MappingChanges* plan) {
  const ClockTableChange change = ChangeClockTable(recorded, t);
  for (const ClockTableChange::Refusal& refusal : change.refusals) {
    plan->refusals.push_back(config.ErrorAt(refusal.key, refusal.message));
  }
  if (!change.refusals.empty()) return;
  const std::string& name = t.mapping->name;
  if (change.moves_rooms) {
    plan->changes.push_back(name + ": rooms now by " + *change.rule_to_record + " (were by " + *recorded.room_rule +
                            "): the table is read whole again; rows whose room changed leave their old room's "
                            "clients and reach the new room's whole, with no client resync");
  }
  if (!change.moves_clocks) return;
  const std::vector<std::string>& now = change.columns.values;
  std::vector<std::string> added;
  std::vector<std::string> dropped;
  for (size_t i = 0; i < now.size(); ++i) {
    if (!change.from[i]) added.push_back(now[i]);
  }
  for (const std::string& column : recorded.columns.values) {
    if (std::find(now.begin(), now.end(), column) == now.end()) dropped.push_back(column);
  }
  if (!added.empty()) {
    plan->changes.push_back(name + ": new column(s) " + Listed(added) +
                            ": their clocks start empty and the table is read whole again, at a consistent "
                            "position, for their values (only those become changes)");
  }
  if (!dropped.empty()) {
    plan->changes.push_back(name + ": column(s) " + Listed(dropped) +
                            " no longer mapped: their clocks are dropped; clients whose schema version has them "
                            "keep syncing the rest, their changes to them left out");
  }
  if (added.empty() && dropped.empty()) {
    plan->changes.push_back(name + ": columns in another order: their clocks move with them");
  }
}

}  // namespace

MappingChanges PlanMappingChanges(const Config& config, const std::vector<RecordedTable>& recorded,
                                  const std::vector<ResolvedTable>& tables) {
  MappingChanges plan;
  if (recorded.empty()) return plan;
  std::map<std::string, const RecordedTable*> unmatched;
  for (const RecordedTable& table : recorded) unmatched[table.name] = &table;
  for (const ResolvedTable& t : tables) {
    const auto found = unmatched.find(t.mapping->name);
    if (found == unmatched.end()) {
      plan.changes.push_back(t.mapping->name +
                             ": new table: it gets its clock table and is read whole, with progress; the other "
                             "tables keep their clocks and clients their positions");
      continue;
    }
    PlanTable(config, *found->second, t, &plan);
    unmatched.erase(found);
  }
  for (const auto& [name, table] : unmatched) {
    plan.changes.push_back(name + ": no longer mapped: its clocks stay, unused, until it is mapped again");
  }
  return plan;
}

}  // namespace crbridge
