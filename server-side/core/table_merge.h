// TableMerge: SyncStore::Merge's work on one table of a changeset, in
// phases: load the clocks and lock the app rows, apply cr-sqlite's rules to
// each row, write the app rows, write the clocks and the change log
// (docs/server-side.md, "Merge"). Internal to server-side.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/server/core/sync_store.h"
#include "crbridge/sqlite/change.h"
#include "room_derivation.h"
#include "row_identity.h"

namespace crbridge {

// A client whose changes a merge applies: its site, its room, and what
// its merge did.
struct MergeSender {
  int ordinal = 0;
  const std::optional<std::string>* room = nullptr;  // the client's room, if it is in one
  MergeReport* report = nullptr;
  bool changed = false;  // whether a row of its got a new clock (or an exit)
};

// One row a changeset touches, and its changes in arrival order.
struct RowChanges {
  MergeSender* sender = nullptr;  // whose changes they are
  const ResolvedTable* table = nullptr;
  Blob pk;
  std::vector<Value> pk_values;
  KeyParameters pk_params;
  std::vector<std::pair<const Change*, size_t>> changes;  // with the column index (0 for the sentinel)
  // Per change, its value in the form the server stores it. Ties are
  // broken on it: a JavaScript client sends 1.0 for the integer 1 it stores.
  std::vector<Value> canonical;
};

// A changeset's rows by table name and key bytes: grouped by table and
// ordered by key.
using RowMap = std::map<std::pair<std::string, std::string>, RowChanges>;

// What the merge of changesets (one client's, or several clients' that
// touch no row in common) shares across its tables.
struct ChangesetMerge {
  ShadowTransaction& tx;
  SourceType source;
  int64_t version;
  bool log_changes;
  RoomDerivation& rooms;
  int& seq;  // of the next clock (or room entry, or exit) written under `version`
};

// Merges the rows [first, last) of one table: a handful of statements for
// the whole batch, whatever its size. Each row takes its sender's changes,
// in its sender's room.
class TableMerge {
 public:
  TableMerge(ChangesetMerge& merge, const ResolvedTable& t, RowMap::iterator first, RowMap::iterator last);
  TableMerge(const TableMerge&) = delete;
  TableMerge& operator=(const TableMerge&) = delete;

  Status Run();

 private:
  // What a merge makes of one row: its clock and values before and after.
  struct RowState {
    RowChanges* row = nullptr;
    bool app_existed = false;
    bool exists = false;
    bool changed = false;
    ClockRow clock;
    ClockRow before;                               // as stored, for the change log
    std::vector<Value> values;                     // per value column
    std::vector<bool> written;
    std::vector<ServerParameter> written_params;   // per value column, for written ones
    // Tables that derive their rooms: the rooms the row is in, and what
    // the sender's room sees over its causal length.
    std::set<std::string> rooms;
    int64_t cl_offset = 0;
    // The clock and values with the app's writes recorded, before the
    // changes: what a row kept in the sender's room returns to.
    ClockRow recorded;
    std::vector<Value> recorded_values;
  };

  Status LoadClocksAndLockRows();
  Status LoadRowRooms();
  Status MergeRow(RowState& state);
  Status SendersExit(const RowState& state, std::optional<int64_t>* cl);
  Status InSendersRoom(const RowState& state, bool before, bool* in);
  Status OutsideSendersRoom(RowState& state, bool* outside);
  Status RemoveFromSender(RowState& state);
  void KeepInRoom(RowState& state);
  bool RecordUncapturedAppWrite(RowState& state);
  void ApplyChange(RowState& state, size_t k);
  Status ConvertWrittenValues(RowState& state);
  Status DeleteDeadRows();
  Status InsertNewRows();
  Status UpdateChangedRows();
  Status WriteClocksAndLog();

  // Reads back the value columns `columns` as the app table stores them.
  AppRowCallback Canonicalize(std::vector<size_t> columns);
  std::optional<std::string> RoomOf(const RowState& state) const;
  std::optional<std::string> ClockRoom(const RowState& state) const;
  RowState& StateOf(const Blob& key) { return *by_key_.at(KeyBytes(key)); }
  static std::vector<const KeyParameters*> KeysOf(const std::vector<RowState*>& members);
  static const std::optional<std::string>& SendersRoom(const RowState& state) { return *state.row->sender->room; }
  static MergeReport& ReportOf(const RowState& state) { return *state.row->sender->report; }

  ChangesetMerge& merge_;
  const ResolvedTable& t_;
  const size_t n_;  // value columns
  std::vector<RowState> states_;
  std::map<std::string, RowState*> by_key_;
  int64_t position_ = 0;
};

}  // namespace crbridge
