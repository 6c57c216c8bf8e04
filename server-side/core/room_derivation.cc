#include "room_derivation.h"

#include <algorithm>
#include <utility>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/packed_pk.h"
#include "row_identity.h"

namespace crbridge {
namespace {

const std::vector<const ResolvedTable*> kNoTables;
const std::vector<RoomGraph::MembershipRule> kNoRules;

// A single-column key as text (RoomText): how memberships and the clocks
// of rows that reference it name a row.
Status KeyText(const Blob& pk, std::string* text) {
  std::vector<Value> values;
  CRBRIDGE_RETURN_IF_ERROR(DecodePackedPk(pk, &values));
  if (values.size() != 1) return Status::Internal("a key of one column was expected");
  *text = RoomText(values[0]);
  return Status::OK();
}

// The packed key of the row of `t` (a single-column key) named by `text`;
// false when no row of `t` can have that key.
bool KeyFromText(const ResolvedTable& t, const std::string& text, Blob* pk) {
  Value value;
  if (!FromServerText(t.columns[0].type, text, &value).ok()) return false;
  return EncodePackedPk(std::vector<Value>{value}, pk).ok();
}

std::string MembershipSource(const ResolvedTable& t) {
  const RoomMembers& members = *t.mapping->room_members;
  return members.source_schema + "." + members.source_table + "(" + members.key + "," + members.room + ")";
}

}  // namespace

RoomGraph::RoomGraph(const std::vector<ResolvedTable>& tables) {
  std::map<std::string, const ResolvedTable*> by_name, by_source;
  for (const ResolvedTable& t : tables) {
    by_name[t.mapping->name] = &t;
    by_source[t.mapping->source_schema + "." + t.mapping->source_table] = &t;
  }
  for (const ResolvedTable& t : tables) {
    if (t.mapping->room_via) {
      const auto parent = by_name.find(t.mapping->room_via->table);
      if (parent == by_name.end()) continue;
      parents_[&t] = parent->second;
      children_[parent->second].push_back(&t);
    }
    if (t.mapping->room_members) {
      const RoomMembers& members = *t.mapping->room_members;
      const auto holder = by_source.find(members.source_schema + "." + members.source_table);
      if (holder == by_source.end()) continue;
      const ResolvedTable& m = *holder->second;
      MembershipRule rule{&t, m.columns.size(), m.columns.size(), MembershipSource(t)};
      for (size_t i = 0; i < m.columns.size(); ++i) {
        if (m.columns[i].server.name == members.key) rule.key_column = i;
        if (m.columns[i].server.name == members.room) rule.room_column = i;
      }
      if (rule.key_column == m.columns.size() || rule.room_column == m.columns.size()) continue;
      rules_[&m].push_back(rule);
    }
  }
  for (const auto& [m, rules] : rules_) {
    for (const MembershipRule& rule : rules) rule_of_[rule.table] = &rule;
  }
  for (const ResolvedTable& t : tables) max_merge_rank_ = std::max(max_merge_rank_, MergeRank(t));
}

int RoomGraph::MergeRank(const ResolvedTable& t) const {
  if (rules_.contains(&t)) return 0;
  int rank = 1;
  // `check` refuses chains that loop; the bound keeps a loop finite anyway.
  for (const ResolvedTable* parent = ViaParent(t); parent != nullptr && rank <= static_cast<int>(parents_.size());
       parent = ViaParent(*parent)) {
    ++rank;
  }
  return rank;
}

bool RoomGraph::Concerns(const ResolvedTable& t) const {
  return t.derives_rooms() || children_.contains(&t) || rules_.contains(&t);
}

const ResolvedTable* RoomGraph::ViaParent(const ResolvedTable& t) const {
  const auto found = parents_.find(&t);
  return found == parents_.end() ? nullptr : found->second;
}

const std::vector<const ResolvedTable*>& RoomGraph::ViaChildren(const ResolvedTable& t) const {
  const auto found = children_.find(&t);
  return found == children_.end() ? kNoTables : found->second;
}

const std::vector<RoomGraph::MembershipRule>& RoomGraph::RulesHeldBy(const ResolvedTable& membership_table) const {
  const auto found = rules_.find(&membership_table);
  return found == rules_.end() ? kNoRules : found->second;
}

const RoomGraph::MembershipRule* RoomGraph::RuleOf(const ResolvedTable& t) const {
  const auto found = rule_of_.find(&t);
  return found == rule_of_.end() ? nullptr : found->second;
}

Status RoomDerivation::ClocksWritten(const ResolvedTable& t, const std::vector<ClockToWrite>& clocks) {
  if (!graph_.Concerns(t)) return Status::OK();
  std::vector<Blob> placed;
  for (const ClockToWrite& write : clocks) {
    const ClockRow& clock = *write.clock;
    if (!clock.stored || (clock.room && clock.room != clock.stored_room)) placed.push_back(*write.pk);
  }
  if (placed.empty()) return Status::OK();
  return t.derives_rooms() ? Place(t, placed) : Children(t, placed);
}

Status RoomDerivation::MembersWritten(const ResolvedTable& m, const std::vector<MemberRowWrite>& rows) {
  for (const RoomGraph::MembershipRule& rule : graph_.RulesHeldBy(m)) {
    std::vector<std::string> member_keys;
    for (const MemberRowWrite& row : rows) member_keys.push_back(KeyBytes(*row.pk));
    std::vector<Membership> standing;
    CRBRIDGE_RETURN_IF_ERROR(tx_.ReadMemberships(rule.source, member_keys, false, &standing));
    std::map<std::string, Membership> old;
    for (Membership& membership : standing) old[KeyBytes(membership.member_pk)] = std::move(membership);
    std::map<std::string, Membership> stored;
    std::map<std::string, Blob> removed;
    std::set<std::string> affected;  // keys of rule.table, as text
    for (const MemberRowWrite& row : rows) {
      const std::string member = KeyBytes(*row.pk);
      const auto before = old.find(member);
      const Membership* was = before == old.end() ? nullptr : &before->second;
      // A column the write did not carry (a large value Postgres left
      // out) kept its value.
      const auto column = [&](size_t i, const std::string Membership::*field) -> std::optional<std::string> {
        const Value* value = i < m.pk_count ? &(*row.key_values)[i] : row.values[i - m.pk_count];
        if (value == nullptr) return was ? std::optional<std::string>(was->*field) : std::nullopt;
        if (value->is_null()) return std::nullopt;
        return RoomText(*value);
      };
      std::optional<std::string> key, room;
      if (!row.deleted) {
        key = column(rule.key_column, &Membership::key);
        room = column(rule.room_column, &Membership::room);
      }
      if (was) affected.insert(was->key);
      if (key && room) {
        affected.insert(*key);
        stored[member] = Membership{*row.pk, *key, *room};
        removed.erase(member);
      } else if (was) {
        removed[member] = *row.pk;
        stored.erase(member);
      }
    }
    std::vector<Membership> stored_list;
    for (auto& [member, membership] : stored) stored_list.push_back(std::move(membership));
    std::vector<Blob> removed_list;
    for (auto& [member, pk] : removed) removed_list.push_back(std::move(pk));
    CRBRIDGE_RETURN_IF_ERROR(tx_.WriteMemberships(rule.source, stored_list, removed_list));
    std::vector<Blob> keys;
    for (const std::string& text : affected) {
      if (Blob pk; KeyFromText(*rule.table, text, &pk)) keys.push_back(std::move(pk));
    }
    CRBRIDGE_RETURN_IF_ERROR(Place(*rule.table, keys));
  }
  return Status::OK();
}

Status RoomDerivation::RoomsFor(const ResolvedTable& t, const Blob& pk, const std::optional<std::string>& room,
                                std::set<std::string>* rooms) {
  rooms->clear();
  if (const RoomGraph::MembershipRule* rule = graph_.RuleOf(t)) {
    std::string key;
    CRBRIDGE_RETURN_IF_ERROR(KeyText(pk, &key));
    std::vector<Membership> memberships;
    CRBRIDGE_RETURN_IF_ERROR(tx_.ReadMemberships(rule->source, {key}, true, &memberships));
    for (const Membership& membership : memberships) rooms->insert(membership.room);
    return Status::OK();
  }
  const ResolvedTable* parent = graph_.ViaParent(t);
  Blob parent_pk;
  if (parent == nullptr || !room || !KeyFromText(*parent, *room, &parent_pk)) return Status::OK();
  std::map<std::string, std::set<std::string>> by_key;
  CRBRIDGE_RETURN_IF_ERROR(RoomsOfRows(*parent, {parent_pk}, &by_key));
  *rooms = std::move(by_key[KeyBytes(parent_pk)]);
  return Status::OK();
}

Status RoomDerivation::RoomsOfRows(const ResolvedTable& t, const std::vector<Blob>& keys,
                                   std::map<std::string, std::set<std::string>>* rooms) {
  DecodedKeys decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeKeys(source_, t, keys, &decoded));
  const std::vector<const KeyParameters*>& pointers = decoded.pointers;
  if (t.derives_rooms()) {
    std::vector<RowRoom> found;
    CRBRIDGE_RETURN_IF_ERROR(tx_.ReadRowRooms(t, pointers, &found));
    for (const RowRoom& row : found) (*rooms)[KeyBytes(row.pk)].insert(row.room);
    return Status::OK();
  }
  return tx_.ReadClocks(t, pointers, [&](const Blob& key, ClockRow clock) {
    if (clock.stored_room) (*rooms)[KeyBytes(key)].insert(*clock.stored_room);
    return Status::OK();
  });
}

Status RoomDerivation::Place(const ResolvedTable& t, const std::vector<Blob>& keys) {
  if (keys.empty()) return Status::OK();
  DecodedKeys decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeKeys(source_, t, keys, &decoded));
  const std::vector<const KeyParameters*>& pointers = decoded.pointers;
  std::map<std::string, ClockRow> clocks;  // rows without a clock have no rooms yet
  CRBRIDGE_RETURN_IF_ERROR(tx_.ReadClocks(t, pointers, [&](const Blob& key, ClockRow clock) {
    clocks.emplace(KeyBytes(key), std::move(clock));
    return Status::OK();
  }));
  // Where each row belongs now.
  std::map<std::string, std::set<std::string>> wanted;
  if (const RoomGraph::MembershipRule* rule = graph_.RuleOf(t)) {
    std::vector<std::string> texts;
    std::map<std::string, std::string> key_of_text;
    for (const Blob& pk : keys) {
      std::string text;
      CRBRIDGE_RETURN_IF_ERROR(KeyText(pk, &text));
      key_of_text[text] = KeyBytes(pk);
      texts.push_back(std::move(text));
    }
    std::vector<Membership> memberships;
    CRBRIDGE_RETURN_IF_ERROR(tx_.ReadMemberships(rule->source, texts, true, &memberships));
    for (const Membership& membership : memberships) wanted[key_of_text.at(membership.key)].insert(membership.room);
  } else if (const ResolvedTable* parent = graph_.ViaParent(t)) {
    std::vector<Blob> parents;
    std::map<std::string, std::string> parent_of;  // row key -> parent key
    for (const auto& [key, clock] : clocks) {
      Blob parent_pk;
      if (!clock.stored_room || !KeyFromText(*parent, *clock.stored_room, &parent_pk)) continue;
      parent_of[key] = KeyBytes(parent_pk);
      parents.push_back(std::move(parent_pk));
    }
    std::map<std::string, std::set<std::string>> parent_rooms;
    if (!parents.empty()) CRBRIDGE_RETURN_IF_ERROR(RoomsOfRows(*parent, parents, &parent_rooms));
    for (const auto& [key, parent_key] : parent_of) wanted[key] = parent_rooms[parent_key];
  }
  std::vector<RowRoom> standing;
  CRBRIDGE_RETURN_IF_ERROR(tx_.ReadRowRooms(t, pointers, &standing));
  std::map<std::string, std::map<std::string, RowRoom>> current;
  for (RowRoom& row : standing) current[KeyBytes(row.pk)][row.room] = std::move(row);
  std::vector<RoomExit> exits;
  CRBRIDGE_RETURN_IF_ERROR(tx_.ReadRoomExits(t, keys, &exits));
  std::map<std::pair<std::string, std::string>, int64_t> exit_cl;
  for (const RoomExit& exit : exits) exit_cl[{KeyBytes(exit.pk), exit.room}] = exit.cl;

  std::vector<RowRoom> entered, left;
  std::vector<RoomExit> new_exits, ended_exits;
  std::vector<Blob> moved;
  for (const Blob& pk : keys) {
    const std::string key = KeyBytes(pk);
    const auto clock = clocks.find(key);
    if (clock == clocks.end()) continue;
    const int64_t cl = clock->second.cl;
    const std::set<std::string>& rooms = wanted[key];
    const std::map<std::string, RowRoom>& in = current[key];
    bool changed = false;
    for (const std::string& room : rooms) {
      if (in.contains(room)) continue;
      // Back in a room it left: the room's clients hold the row dead at
      // the exit's causal length, so theirs rises past it.
      int64_t offset = 0;
      if (const auto exit = exit_cl.find({key, room}); exit != exit_cl.end()) {
        offset = std::max<int64_t>(0, exit->second - cl + cl % 2);
        ended_exits.push_back(RoomExit{pk, room, exit->second, version_, seq_});
      }
      entered.push_back(RowRoom{pk, room, offset, version_, seq_++});
      changed = true;
    }
    for (const auto& [room, row] : in) {
      if (rooms.contains(room)) continue;
      const int64_t seen = cl + row.cl_offset;
      int64_t exit_at = seen + seen % 2;
      // The merge may have removed the row from its sender already, above
      // the causal length of the sender's changes.
      if (const auto removed = exit_cl.find({key, room}); removed != exit_cl.end()) exit_at = std::max(exit_at, removed->second);
      new_exits.push_back(RoomExit{pk, room, exit_at, version_, seq_++});
      left.push_back(row);
      changed = true;
    }
    if (changed) moved.push_back(pk);
  }
  CRBRIDGE_RETURN_IF_ERROR(tx_.WriteRowRooms(t, entered, left));
  if (!new_exits.empty() || !ended_exits.empty()) CRBRIDGE_RETURN_IF_ERROR(tx_.WriteRoomExits(t, new_exits, ended_exits));
  return Children(t, moved);
}

Status RoomDerivation::Children(const ResolvedTable& t, const std::vector<Blob>& keys) {
  const std::vector<const ResolvedTable*>& children = graph_.ViaChildren(t);
  if (keys.empty() || children.empty()) return Status::OK();
  std::vector<std::string> texts;
  for (const Blob& pk : keys) {
    std::string text;
    CRBRIDGE_RETURN_IF_ERROR(KeyText(pk, &text));
    texts.push_back(std::move(text));
  }
  for (const ResolvedTable* child : children) {
    std::vector<Blob> child_keys;
    CRBRIDGE_RETURN_IF_ERROR(tx_.ReadClocksInRooms(*child, texts, [&](const Blob& key, ClockRow) {
      child_keys.push_back(key);
      return Status::OK();
    }));
    CRBRIDGE_RETURN_IF_ERROR(Place(*child, child_keys));
  }
  return Status::OK();
}

}  // namespace crbridge
