// Rooms by membership (room_members) and by reference (room_via): where a
// row of such a table is, kept apart from its clock as one RowRoom per
// room (docs/design.md, "Rooms by membership and by reference"). The
// writers of clocks (capture's recording, the merge) tell a RoomDerivation
// which rows they wrote and which membership rows changed; it places those
// rows anew, and the rows that reference them, down every room_via chain:
// a row entering a room is sent whole to its clients from there, a row
// leaving one gets an exit there (room_moves.h). RoomGraph is immutable
// and readable from any thread; a RoomDerivation runs on the thread of the
// ShadowTransaction it is given.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/status.h"
#include "room_moves.h"

namespace crbridge {

// How the mapped tables' rooms depend on each other.
class RoomGraph {
 public:
  // A room_members rule, as its membership table (a mapped table) sees
  // it: the table whose rooms it gives, and the columns of the membership
  // table holding that table's key and the room.
  struct MembershipRule {
    const ResolvedTable* table;
    size_t key_column;   // index into the membership table's columns
    size_t room_column;
    std::string source;  // names the rule's memberships in the metadata
  };

  RoomGraph() = default;
  // `tables` must outlive the graph. Membership tables that are not mapped
  // are left out (`check` refuses them, CheckRoomRules).
  explicit RoomGraph(const std::vector<ResolvedTable>& tables);

  // Whether writes of `t` concern the graph: it derives its rooms, other
  // tables reference it through room_via, or it holds memberships.
  bool Concerns(const ResolvedTable& t) const;
  const ResolvedTable* ViaParent(const ResolvedTable& t) const;
  const std::vector<const ResolvedTable*>& ViaChildren(const ResolvedTable& t) const;
  const std::vector<MembershipRule>& RulesHeldBy(const ResolvedTable& membership_table) const;
  // The rule giving `t`'s rooms (t has room_members), nullptr otherwise.
  const MembershipRule* RuleOf(const ResolvedTable& t) const;
  // Where `t` comes in a merge of a changeset's tables, lowest first:
  // membership tables, then each table before the tables that reference
  // it (room_via), so that a client's new rows are placed in its room
  // before rows that reference them are checked.
  int MergeRank(const ResolvedTable& t) const;
  int max_merge_rank() const { return max_merge_rank_; }

 private:
  std::map<const ResolvedTable*, const ResolvedTable*> parents_;
  std::map<const ResolvedTable*, std::vector<const ResolvedTable*>> children_;
  std::map<const ResolvedTable*, std::vector<MembershipRule>> rules_;  // by membership table
  std::map<const ResolvedTable*, const MembershipRule*> rule_of_;
  int max_merge_rank_ = 1;
};

// A membership table's row as a write left it: its key and, per value
// column, its value (nullptr: not known, unchanged), or deleted.
struct MemberRowWrite {
  const Blob* pk;
  const std::vector<Value>* key_values;
  std::vector<const Value*> values;
  bool deleted = false;
};

class RoomDerivation {
 public:
  // Entries and exits are stamped with `version` and the next seqs from
  // `*seq`.
  RoomDerivation(ShadowTransaction& tx, SourceType source, const RoomGraph& graph, int64_t version, int* seq)
      : tx_(tx), source_(source), graph_(graph), version_(version), seq_(*seq) {}

  const RoomGraph& graph() const { return graph_; }

  // Rows of `t` whose clocks the write stored (after WriteClocks): the new
  // ones and those whose recorded room changed are placed anew, and so
  // are the rows that reference them.
  Status ClocksWritten(const ResolvedTable& t, const std::vector<ClockToWrite>& clocks);
  // Rows of membership table `m` that the write changed.
  Status MembersWritten(const ResolvedTable& m, const std::vector<MemberRowWrite>& rows);
  // The rooms a row of `t` would be in with `room` recorded in its clock
  // (its key as text, for room_members; the key of the row it references,
  // for room_via).
  Status RoomsFor(const ResolvedTable& t, const Blob& pk, const std::optional<std::string>& room,
                  std::set<std::string>* rooms);

 private:
  // Places the rows of `t` with packed keys `keys` anew.
  Status Place(const ResolvedTable& t, const std::vector<Blob>& keys);
  // The rooms of the rows of `t` (a table with rooms of any kind) by key.
  Status RoomsOfRows(const ResolvedTable& t, const std::vector<Blob>& keys,
                     std::map<std::string, std::set<std::string>>* rooms);
  Status Children(const ResolvedTable& t, const std::vector<Blob>& keys);

  ShadowTransaction& tx_;
  const SourceType source_;
  const RoomGraph& graph_;
  const int64_t version_;
  int& seq_;
};

}  // namespace crbridge
