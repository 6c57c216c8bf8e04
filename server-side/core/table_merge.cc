#include "table_merge.h"

#include <algorithm>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/clock_bounds.h"
#include "crbridge/sqlite/unix_time.h"
#include "room_moves.h"
#include "value_hash.h"

namespace crbridge {

TableMerge::TableMerge(ChangesetMerge& merge, const ResolvedTable& t, RowMap::iterator first, RowMap::iterator last)
    : merge_(merge), t_(t), n_(t.columns.size() - t.pk_count) {
  for (auto it = first; it != last; ++it) {
    RowState state;
    state.row = &it->second;
    state.clock = ClockRow(n_);
    state.values.resize(n_);
    state.written.resize(n_);
    state.written_params.resize(n_);
    states_.push_back(std::move(state));
  }
  for (RowState& state : states_) by_key_[KeyBytes(state.row->pk)] = &state;
}

Status TableMerge::Run() {
  CRBRIDGE_RETURN_IF_ERROR(LoadClocksAndLockRows());
  // Each row's changes, in arrival order, with cr-sqlite's rules.
  for (RowState& state : states_) CRBRIDGE_RETURN_IF_ERROR(MergeRow(state));
  CRBRIDGE_RETURN_IF_ERROR(DeleteDeadRows());
  CRBRIDGE_RETURN_IF_ERROR(InsertNewRows());
  CRBRIDGE_RETURN_IF_ERROR(UpdateChangedRows());
  return WriteClocksAndLog();
}

std::vector<const KeyParameters*> TableMerge::KeysOf(const std::vector<RowState*>& members) {
  std::vector<const KeyParameters*> keys;
  for (const RowState* state : members) keys.push_back(&state->row->pk_params);
  return keys;
}

// The clocks and app rows of the batch. Clocks need no row locks: every
// crbridge writer holds the version counter's lock until it commits (see
// ShadowStore::Write), so no other writer touches them meanwhile. App
// rows are locked: the app writes them too.
Status TableMerge::LoadClocksAndLockRows() {
  std::vector<RowState*> all;
  for (RowState& state : states_) all.push_back(&state);
  CRBRIDGE_RETURN_IF_ERROR(merge_.tx.ReadClocks(t_, KeysOf(all), [&](const Blob& key, ClockRow row) {
    RowState& state = StateOf(key);
    if (merge_.log_changes) state.before = row;
    state.clock = std::move(row);
    return Status::OK();
  }));
  CRBRIDGE_RETURN_IF_ERROR(merge_.tx.LockAppRows(t_, KeysOf(all), [&](const Blob& key, std::vector<Value> values) {
    RowState& state = StateOf(key);
    state.app_existed = true;
    state.values = std::move(values);
    return Status::OK();
  }));
  CRBRIDGE_RETURN_IF_ERROR(LoadRowRooms());
  // Every app write that committed before the locks above precedes this
  // position.
  return merge_.tx.AppPosition(&position_);
}

// The rooms of the batch's rows, when the table derives them.
Status TableMerge::LoadRowRooms() {
  if (!t_.derives_rooms()) return Status::OK();
  std::vector<RowState*> all;
  for (RowState& state : states_) all.push_back(&state);
  std::vector<RowRoom> rooms;
  CRBRIDGE_RETURN_IF_ERROR(merge_.tx.ReadRowRooms(t_, KeysOf(all), &rooms));
  for (const RowRoom& room : rooms) {
    RowState& state = StateOf(room.pk);
    state.rooms.insert(room.room);
    if (SendersRoom(state) == room.room) state.cl_offset = room.cl_offset;
  }
  return Status::OK();
}

// Whether a row of a table that derives its rooms is in the sender's room
// as the server has it (`before` the changes), or would be (after them,
// with the key it references then).
Status TableMerge::InSendersRoom(const RowState& state, bool before, bool* in) {
  if (before && state.clock.stored) {
    *in = state.rooms.contains(*SendersRoom(state));
    return Status::OK();
  }
  std::set<std::string> rooms;
  CRBRIDGE_RETURN_IF_ERROR(merge_.rooms.RoomsFor(t_, state.row->pk, RoomOf(state), &rooms));
  *in = rooms.contains(*SendersRoom(state));
  return Status::OK();
}

// A row outside the sender's room takes none of its changes, and leaves
// the sender: its exit from the room, at a causal length above every one
// the changes carry, deletes it on the client (and on every client of the
// room that got it from the sender's peers), never on the server.
Status TableMerge::RemoveFromSender(RowState& state) {
  ++ReportOf(state).left_room;
  int64_t cl = 0;
  for (const auto& [change, column] : state.row->changes) cl = std::max(cl, change->cl);
  cl += cl % 2;
  std::optional<int64_t> standing;
  CRBRIDGE_RETURN_IF_ERROR(SendersExit(state, &standing));
  if (standing && *standing >= cl) return Status::OK();  // the client has it, or will
  // The exit is a change of the version: the room's clients must pull it.
  state.row->sender->changed = true;
  return merge_.tx.WriteRoomExits(t_, {RoomExit{state.row->pk, *SendersRoom(state), cl, merge_.version, merge_.seq++}},
                                  {});
}

// A row of the sender's room that its changes would move out of it keeps
// its place and its values (the app's, recorded): every column they wrote
// is recorded again as the server's, one version above theirs, so that the
// sender (and every client) takes the server's values back. A dead row
// they would bring back elsewhere stays dead, its causal length raised
// past theirs so that the sender deletes it again.
void TableMerge::KeepInRoom(RowState& state) {
  ++ReportOf(state).kept_in_room;
  std::vector<std::optional<int64_t>> written(n_);
  int64_t cl = 0;
  for (const auto& [change, column] : state.row->changes) {
    cl = std::max(cl, change->cl - state.cl_offset);
    if (column == 0) continue;
    std::optional<int64_t>& version = written[column - t_.pk_count];
    version = std::max(version.value_or(0), change->col_version);
  }
  ClockRow clock = state.recorded;
  for (size_t i = 0; i < n_; ++i) {
    if (!written[i]) continue;
    clock.versions[i] =
        NextClock(std::max(clock.versions[i].value_or(0), *written[i]), &ReportOf(state).clocks_saturated);
    clock.sites[i] = 0;
  }
  if (!state.app_existed) clock.cl = std::max(clock.cl, cl + cl % 2);
  state.clock = std::move(clock);
  state.values = state.recorded_values;
  std::fill(state.written.begin(), state.written.end(), false);
  state.exists = state.app_existed;
  state.changed = true;
}

// The room a row's clock records (none without a room column or room_via,
// or with NULL in it).
std::optional<std::string> TableMerge::RoomOf(const RowState& state) const {
  const std::optional<size_t> column = t_.recorded_room_column();
  if (!column) return std::nullopt;
  const Value& value = *column < t_.pk_count ? state.row->pk_values[*column] : state.values[*column - t_.pk_count];
  return value.is_null() ? std::nullopt : std::optional<std::string>(RoomText(value));
}

// The room a row's clock records: the row's own while it lives; a dead
// row keeps the room of its stored clock (unset). A row the server had no
// clock of may arrive dead, as a tombstone alone (a client created and
// deleted it before it ever synced): it was in the room of the app's row,
// when the app had one capture had not recorded yet, or else in its
// sender's room, the only one the sender may write in. That room's clients
// must learn of its death: one that created a row under the same key
// meanwhile, with a lower causal length, has its writes outranked by the
// tombstone and would otherwise keep the row forever.
std::optional<std::string> TableMerge::ClockRoom(const RowState& state) const {
  if (state.exists) return RoomOf(state);
  if (state.clock.stored || !t_.room_column) return std::nullopt;
  return state.app_existed ? RoomOf(state) : SendersRoom(state);
}

// An app write that capture has not recorded yet (the row differs from
// its clock) is recorded first, as a server change, so that the client's
// changes merge against it (docs/design.md, "App write racing a client merge").
// Capture later skips it: the clock's position is past its commit.
bool TableMerge::RecordUncapturedAppWrite(RowState& state) {
  ClockRow& clock = state.clock;
  size_t& saturated = ReportOf(state).clocks_saturated;
  const size_t n = state.values.size();
  const bool alive = clock.stored && clock.cl % 2 == 1;
  if (!state.app_existed) {
    if (!alive) return false;
    clock.cl = NextClock(clock.cl, &saturated);  // deleted by the app
    return true;
  }
  bool recorded = false;
  if (!alive) {
    clock.cl = clock.stored ? NextClock(clock.cl, &saturated) : 1;  // inserted by the app
    recorded = true;
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t hash = ValueHash(state.values[i]);
    // An unknown hash (a clock from before hashes were kept) is learnt, as
    // nothing tells whether the value changed. A row the app inserted
    // again is a new life: every column it holds is new, as in capture.
    if (alive && (clock.hashes[i] == hash || !clock.hashes[i])) {
      clock.hashes[i] = hash;
      continue;
    }
    clock.versions[i] = NextClock(clock.versions[i].value_or(0), &saturated);
    clock.sites[i] = 0;
    clock.hashes[i] = hash;
    recorded = true;
  }
  return recorded;
}

// The causal length of the row's exit from the sender's room, if it left
// it: the sender wrote it before it learnt of the exit.
Status TableMerge::SendersExit(const RowState& state, std::optional<int64_t>* cl) {
  std::vector<RoomExit> exits;
  CRBRIDGE_RETURN_IF_ERROR(merge_.tx.ReadRoomExits(t_, {state.row->pk}, &exits));
  cl->reset();
  for (const RoomExit& exit : exits) {
    if (exit.room == *SendersRoom(state)) *cl = exit.cl;
  }
  return Status::OK();
}

// Whether the row is outside the sender's room, so that none of the
// sender's changes apply to it. With a room column that is a row that left
// the room (its exit removes it from the client), or that the app moved out
// in a write recorded just now; any other row of another room refuses the
// changeset. A row of a table that derives its rooms may be outside by the
// rooms table, or by the app's write recorded just now: it is removed from
// the sender.
Status TableMerge::OutsideSendersRoom(RowState& state, bool* outside) {
  *outside = false;
  const std::optional<std::string>& room = SendersRoom(state);
  if (!room) return Status::OK();
  if (t_.room_column) {
    if (!state.app_existed || RoomOf(state) == room) return Status::OK();
    std::optional<int64_t> left;
    CRBRIDGE_RETURN_IF_ERROR(SendersExit(state, &left));
    const bool moved_by_app = state.changed && state.clock.stored_room == room;
    if (!left && !moved_by_app) {
      return Status::InvalidArgument("a change to " + t_.mapping->name + " writes to a row of another room");
    }
    ++ReportOf(state).left_room;
    *outside = true;
    return Status::OK();
  }
  if (!t_.derives_rooms() || !(state.clock.stored || state.app_existed)) return Status::OK();
  bool in = true;
  CRBRIDGE_RETURN_IF_ERROR(InSendersRoom(state, true, &in));
  if (in && state.changed && state.exists) CRBRIDGE_RETURN_IF_ERROR(InSendersRoom(state, false, &in));
  if (in) return Status::OK();
  *outside = true;
  return RemoveFromSender(state);
}

// A row's changes, in arrival order, merged against what the app table and
// the clock hold, after the app's writes capture has not recorded yet; a
// client in a room writes only to rows of its room (OutsideSendersRoom).
// Tables that derive their rooms see memberships change under in-flight
// writes all the time: a row the changes would move out of the sender's
// room keeps its place, corrected on the sender (docs/design.md, "Rooms by
// membership and by reference").
Status TableMerge::MergeRow(RowState& state) {
  state.changed = RecordUncapturedAppWrite(state);
  state.exists = state.app_existed;
  state.recorded = state.clock;
  state.recorded_values = state.values;
  bool outside = false;
  CRBRIDGE_RETURN_IF_ERROR(OutsideSendersRoom(state, &outside));
  if (!outside) {
    for (size_t k = 0; k < state.row->changes.size(); ++k) ApplyChange(state, k);
  }
  const std::optional<std::string>& room = SendersRoom(state);
  if (!outside && room && t_.derives_rooms() && state.exists && state.changed) {
    bool in = true;
    CRBRIDGE_RETURN_IF_ERROR(InSendersRoom(state, false, &in));
    if (!in && !state.recorded.stored && !state.app_existed) {
      state.changed = false;
      return RemoveFromSender(state);
    }
    if (!in) KeepInRoom(state);
  }
  if (!outside && room && t_.room_column && state.exists && state.changed && RoomOf(state) != room) {
    return Status::InvalidArgument("a change to " + t_.mapping->name + " would put a row in room \"" +
                                   RoomOf(state).value_or("(none)") + "\", not \"" + *room + "\"");
  }
  CRBRIDGE_RETURN_IF_ERROR(ConvertWrittenValues(state));
  if (state.changed) state.row->sender->changed = true;
  return Status::OK();
}

// The row's k-th change, with cr-sqlite's rules (MergeChange), compared on
// its canonical value.
void TableMerge::ApplyChange(RowState& state, size_t k) {
  const auto& [change, column] = state.row->changes[k];
  ColumnClock current;
  Change compared = *change;
  // The sender's room sees the row's causal length raised by its offset;
  // a change from below it belongs to a life of the row that the room saw
  // end, and loses to the row's return as cr-sqlite's rule has it.
  compared.cl -= state.cl_offset;
  if (compared.cl < 1) return;
  if (!change->is_sentinel()) {
    const size_t i = column - t_.pk_count;
    current = ColumnClock{state.clock.versions[i].has_value(), state.clock.versions[i].value_or(0), state.values[i],
                          std::nullopt};
    compared.val = state.row->canonical[k];
  }
  const MergeOutcome outcome = MergeChange(RowClock{state.clock.cl, false}, current, compared);
  switch (outcome.row) {
    case RowAction::kDelete:
      state.exists = false;
      std::fill(state.clock.versions.begin(), state.clock.versions.end(), std::nullopt);
      std::fill(state.written.begin(), state.written.end(), false);
      break;
    case RowAction::kResurrect:
      state.exists = true;
      for (auto& v : state.clock.versions) {
        if (v) v = 0;
      }
      break;
    case RowAction::kCreate:
      state.exists = true;
      state.clock.cl = 1;
      break;
    case RowAction::kNone:
      break;
  }
  if (outcome.write_sentinel) state.clock.cl = compared.cl;
  if (outcome.write_column) {
    const size_t i = column - t_.pk_count;
    state.values[i] = change->val;
    state.clock.versions[i] = change->col_version;
    state.clock.sites[i] = state.row->sender->ordinal;
    state.written[i] = true;
  }
  if (outcome.row != RowAction::kNone || outcome.write_column) {
    ++ReportOf(state).applied;
    state.changed = true;
  }
}

// The written values of a live row as the server's parameters.
Status TableMerge::ConvertWrittenValues(RowState& state) {
  for (size_t i = 0; i < n_ && state.exists; ++i) {
    if (!state.written[i]) continue;
    const ResolvedColumn& c = t_.columns[t_.pk_count + i];
    CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(merge_.source, c.type, state.values[i], t_.mapping->name + "." + c.name,
                                               &state.written_params[i]));
    // NULL for a NOT NULL column: its default when the row is new, refused otherwise.
    if (state.written_params[i].is_null && c.server.not_null && state.app_existed) {
      return Status::InvalidArgument(t_.mapping->name + "." + c.name + ": cannot store NULL in a NOT NULL column");
    }
  }
  return Status::OK();
}

// What the server stored wins everywhere: a value it stores in another
// form becomes a server change, one version above the client's. Every
// value read back is what the app table now holds: its hash is kept.
AppRowCallback TableMerge::Canonicalize(std::vector<size_t> columns) {
  return [this, columns = std::move(columns)](const Blob& key, std::vector<Value> stored) -> Status {
    RowState& state = StateOf(key);
    for (size_t k = 0; k < columns.size(); ++k) {
      const size_t i = columns[k];
      state.clock.hashes[i] = ValueHash(stored[k]);
      if (state.written[i] && stored[k] != state.values[i]) {
        state.clock.versions[i] = NextClock(*state.clock.versions[i], &ReportOf(state).clocks_saturated);
        state.clock.sites[i] = 0;
        ++ReportOf(state).canonicalized;
      }
      state.values[i] = std::move(stored[k]);
    }
    return Status::OK();
  };
}

// Rows that died, in one statement.
Status TableMerge::DeleteDeadRows() {
  std::vector<RowState*> deleted;
  for (RowState& state : states_) {
    if (state.changed && !state.exists && state.app_existed) deleted.push_back(&state);
  }
  return merge_.tx.DeleteAppRows(t_, KeysOf(deleted));
}

// New rows, one INSERT per set of columns given (a NULL for a NOT NULL
// column is left to its default).
Status TableMerge::InsertNewRows() {
  std::map<std::vector<bool>, std::vector<RowState*>> inserts;
  for (RowState& state : states_) {
    if (!state.changed || !state.exists || state.app_existed) continue;
    std::vector<bool> given(n_);
    for (size_t i = 0; i < n_; ++i) {
      given[i] = state.written[i] && !(state.written_params[i].is_null && t_.columns[t_.pk_count + i].server.not_null);
    }
    inserts[given].push_back(&state);
  }
  std::vector<size_t> every_column(n_);
  for (size_t i = 0; i < n_; ++i) every_column[i] = i;
  for (const auto& [given, members] : inserts) {
    std::vector<size_t> given_columns;
    for (size_t i = 0; i < n_; ++i) {
      if (given[i]) given_columns.push_back(i);
    }
    std::vector<AppRowWrite> rows;
    for (RowState* state : members) {
      AppRowWrite& row = rows.emplace_back(AppRowWrite{&state->row->pk_params, {}});
      for (const size_t i : given_columns) row.values.push_back(&state->written_params[i]);
    }
    CRBRIDGE_RETURN_IF_ERROR(merge_.tx.InsertAppRows(t_, given_columns, rows, Canonicalize(every_column)));
  }
  return Status::OK();
}

// Changed rows, one UPDATE per set of columns written.
Status TableMerge::UpdateChangedRows() {
  std::vector<RowState*> updates;
  for (RowState& state : states_) {
    if (!state.changed || !state.exists || !state.app_existed) continue;
    if (std::find(state.written.begin(), state.written.end(), true) != state.written.end()) updates.push_back(&state);
  }
  if (updates.empty()) return Status::OK();
  std::vector<size_t> touched;
  for (size_t i = 0; i < n_; ++i) {
    if (std::any_of(updates.begin(), updates.end(), [&](const RowState* s) { return s->written[i]; }))
      touched.push_back(i);
  }
  std::vector<AppRowWrite> rows;
  for (RowState* state : updates) {
    AppRowWrite& row = rows.emplace_back(AppRowWrite{&state->row->pk_params, {}});
    for (const size_t i : touched) row.values.push_back(state->written[i] ? &state->written_params[i] : nullptr);
  }
  return merge_.tx.UpdateAppRows(t_, touched, rows, Canonicalize(touched));
}

// The changed rows' clocks, stamped with the app position and their room,
// and their changes in the change log when the store keeps one.
Status TableMerge::WriteClocksAndLog() {
  std::vector<ClockWrite> writes;
  std::vector<ClockToWrite> moving, placed;
  std::vector<MemberRowWrite> members;
  std::map<int, std::vector<LoggedChange>> logged;  // by sender
  const int64_t merged_at_us = UnixMicrosNow();
  const bool placing = merge_.rooms.graph().Concerns(t_);
  const bool holds_members = !merge_.rooms.graph().RulesHeldBy(t_).empty();
  for (RowState& state : states_) {
    if (!state.changed) continue;
    state.clock.lsn = position_;
    state.clock.room = ClockRoom(state);
    writes.push_back(ClockWrite{&state.row->pk_params, &state.clock, merge_.version, merge_.seq});
    const ClockToWrite written{&state.row->pk, &state.clock, merge_.version, merge_.seq};
    if (t_.room_column) moving.push_back(written);
    if (placing) placed.push_back(written);
    if (holds_members) {
      std::vector<const Value*> values;
      for (const Value& value : state.values) values.push_back(&value);
      members.push_back(MemberRowWrite{&state.row->pk, &state.row->pk_values, std::move(values), !state.exists});
    }
    if (merge_.log_changes) {
      std::vector<const Value*> values;
      for (const Value& value : state.values) values.push_back(&value);
      logged[state.row->sender->ordinal].push_back(LoggedChange{&state.row->pk_values, &state.before, &state.clock, std::move(values), merge_.seq,
                                    0, merged_at_us});
    }
    ++merge_.seq;
  }
  CRBRIDGE_RETURN_IF_ERROR(RecordRoomMoves(merge_.tx, t_, moving));
  CRBRIDGE_RETURN_IF_ERROR(merge_.tx.WriteClocks(t_, writes));
  CRBRIDGE_RETURN_IF_ERROR(merge_.rooms.ClocksWritten(t_, placed));
  if (!members.empty()) CRBRIDGE_RETURN_IF_ERROR(merge_.rooms.MembersWritten(t_, members));
  for (const auto& [sender, changes] : logged) {
    CRBRIDGE_RETURN_IF_ERROR(merge_.tx.LogChanges(t_, merge_.version, {true, sender}, changes));
  }
  return Status::OK();
}

}  // namespace crbridge
