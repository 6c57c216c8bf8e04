#include "crbridge/server/core/sync_store.h"

#include <algorithm>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crbridge/sqlite/unix_time.h"
#include "row_identity.h"
#include "value_hash.h"

namespace crbridge {
namespace {

constexpr int kMergeAttempts = 5;

// One row a changeset touches, and its changes in arrival order.
struct RowChanges {
  const ResolvedTable* table = nullptr;
  Blob pk;
  std::vector<Value> pk_values;
  KeyParameters pk_params;
  std::vector<std::pair<const Change*, size_t>> changes;  // with the column index (0 for the sentinel)
  // Per change, its value in the form the server stores it. Ties are
  // broken on it: a JavaScript client sends 1.0 for the integer 1 it stores.
  std::vector<Value> canonical;
};

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
};

using RowMap = std::map<std::pair<std::string, std::string>, RowChanges>;

// An app write that capture has not recorded yet (the row differs from
// its clock) is recorded first, as a server change, so that the client's
// changes merge against it (design.md, "App write racing a client merge").
// Capture later skips it: the clock's position is past its commit.
bool RecordUncapturedAppWrite(RowState& state) {
  ClockRow& clock = state.clock;
  const size_t n = state.values.size();
  const bool alive = clock.stored && clock.cl % 2 == 1;
  if (!state.app_existed) {
    if (!alive) return false;
    ++clock.cl;  // deleted by the app
    return true;
  }
  bool recorded = false;
  if (!alive) {
    clock.cl = clock.stored ? clock.cl + 1 : 1;  // inserted by the app
    recorded = true;
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t hash = ValueHash(state.values[i]);
    // An unknown hash (a clock from before hashes were kept) is learnt, as
    // nothing tells whether the value changed.
    if (clock.hashes[i] == hash || (alive && !clock.hashes[i])) {
      clock.hashes[i] = hash;
      continue;
    }
    clock.versions[i] = clock.versions[i].value_or(0) + 1;
    clock.sites[i] = 0;
    clock.hashes[i] = hash;
    recorded = true;
  }
  return recorded;
}

// Merges the rows [first, last) of one table: a handful of statements for
// the whole batch, whatever its size (docs/server-side.md, "Merge").
Status MergeTable(ShadowTransaction& tx, SourceType source, const ResolvedTable& t,
                  const std::optional<std::string>& room, RowMap::iterator first, RowMap::iterator last,
                  int64_t version, int sender_ordinal, bool log_changes, int* seq, bool* changed_any,
                  MergeReport* report) {
  const size_t n = t.columns.size() - t.pk_count;
  std::vector<RowState> states;
  for (auto it = first; it != last; ++it) {
    RowState state;
    state.row = &it->second;
    state.clock = ClockRow(n);
    state.values.resize(n);
    state.written.resize(n);
    state.written_params.resize(n);
    states.push_back(std::move(state));
  }
  std::map<std::string, RowState*> by_key;
  for (RowState& state : states) by_key[KeyBytes(state.row->pk)] = &state;
  const auto keys_of = [](const std::vector<RowState*>& members) {
    std::vector<const KeyParameters*> keys;
    for (const RowState* state : members) keys.push_back(&state->row->pk_params);
    return keys;
  };
  std::vector<RowState*> all;
  for (RowState& state : states) all.push_back(&state);

  // The clocks and app rows of the batch. Clocks need no row locks: every
  // crbridge writer holds the version counter's lock until it commits (see
  // ShadowStore::Write), so no other writer touches them meanwhile. App
  // rows are locked: the app writes them too.
  CRBRIDGE_RETURN_IF_ERROR(tx.ReadClocks(t, keys_of(all), [&](const Blob& key, ClockRow row) {
    RowState& state = *by_key.at(KeyBytes(key));
    if (log_changes) state.before = row;
    state.clock = std::move(row);
    return Status::OK();
  }));
  CRBRIDGE_RETURN_IF_ERROR(tx.LockAppRows(t, keys_of(all), [&](const Blob& key, std::vector<Value> values) {
    RowState& state = *by_key.at(KeyBytes(key));
    state.app_existed = true;
    state.values = std::move(values);
    return Status::OK();
  }));
  // Every app write that committed before the locks above precedes this
  // position.
  int64_t position = 0;
  CRBRIDGE_RETURN_IF_ERROR(tx.AppPosition(&position));

  // The room a row is in (none without a room column, or with NULL in it).
  const auto room_of = [&](const RowState& state) -> std::optional<std::string> {
    if (!t.room_column) return std::nullopt;
    const Value& value = *t.room_column < t.pk_count ? state.row->pk_values[*t.room_column]
                                                      : state.values[*t.room_column - t.pk_count];
    return value.is_null() ? std::nullopt : std::optional<std::string>(RoomText(value));
  };
  const bool check_room = room && t.room_column;

  // Each row's changes, in arrival order, with cr-sqlite's rules.
  for (RowState& state : states) {
    if (check_room && state.app_existed && room_of(state) != room) {
      return Status::InvalidArgument("a change to " + t.mapping->name + " writes to a row of another room");
    }
    state.changed = RecordUncapturedAppWrite(state);
    state.exists = state.app_existed;
    for (size_t k = 0; k < state.row->changes.size(); ++k) {
      const auto& [change, column] = state.row->changes[k];
      ColumnClock current;
      Change compared = *change;
      if (!change->is_sentinel()) {
        const size_t i = column - t.pk_count;
        current = ColumnClock{state.clock.versions[i].has_value(), state.clock.versions[i].value_or(0), state.values[i]};
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
      if (outcome.write_sentinel) state.clock.cl = change->cl;
      if (outcome.write_column) {
        const size_t i = column - t.pk_count;
        state.values[i] = change->val;
        state.clock.versions[i] = change->col_version;
        state.clock.sites[i] = sender_ordinal;
        state.written[i] = true;
      }
      if (outcome.row != RowAction::kNone || outcome.write_column) {
        ++report->applied;
        state.changed = true;
      }
    }
    if (check_room && state.exists && state.changed && room_of(state) != room) {
      return Status::InvalidArgument("a change to " + t.mapping->name + " would put a row in room \"" +
                                     room_of(state).value_or("(none)") + "\", not \"" + *room + "\"");
    }
    for (size_t i = 0; i < n && state.exists; ++i) {
      if (!state.written[i]) continue;
      const ResolvedColumn& c = t.columns[t.pk_count + i];
      CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(source, c.type, state.values[i], t.mapping->name + "." + c.name,
                                                 &state.written_params[i]));
      // NULL for a NOT NULL column: its default when the row is new, refused otherwise.
      if (state.written_params[i].is_null && c.server.not_null && state.app_existed) {
        return Status::InvalidArgument(t.mapping->name + "." + c.name + ": cannot store NULL in a NOT NULL column");
      }
    }
    *changed_any = *changed_any || state.changed;
  }

  // What the server stored wins everywhere: a value it stores in another
  // form becomes a server change, one version above the client's. Every
  // value read back is what the app table now holds: its hash is kept.
  const auto canonicalize = [&](const std::vector<size_t>& columns) -> AppRowCallback {
    return [&, columns](const Blob& key, std::vector<Value> stored) -> Status {
      RowState& state = *by_key.at(KeyBytes(key));
      for (size_t k = 0; k < columns.size(); ++k) {
        const size_t i = columns[k];
        state.clock.hashes[i] = ValueHash(stored[k]);
        if (state.written[i] && stored[k] != state.values[i]) {
          state.clock.versions[i] = *state.clock.versions[i] + 1;
          state.clock.sites[i] = 0;
          ++report->canonicalized;
        }
        state.values[i] = std::move(stored[k]);
      }
      return Status::OK();
    };
  };

  // Rows that died, in one statement.
  std::vector<RowState*> deleted;
  for (RowState& state : states) {
    if (state.changed && !state.exists && state.app_existed) deleted.push_back(&state);
  }
  CRBRIDGE_RETURN_IF_ERROR(tx.DeleteAppRows(t, keys_of(deleted)));

  // New rows, one INSERT per set of columns given (a NULL for a NOT NULL
  // column is left to its default), and changed rows, one UPDATE per set of
  // columns written.
  std::map<std::vector<bool>, std::vector<RowState*>> inserts;
  std::vector<RowState*> updates;
  for (RowState& state : states) {
    if (!state.changed || !state.exists) continue;
    if (!state.app_existed) {
      std::vector<bool> given(n);
      for (size_t i = 0; i < n; ++i) {
        given[i] = state.written[i] && !(state.written_params[i].is_null && t.columns[t.pk_count + i].server.not_null);
      }
      inserts[given].push_back(&state);
    } else if (std::find(state.written.begin(), state.written.end(), true) != state.written.end()) {
      updates.push_back(&state);
    }
  }
  std::vector<size_t> every_column(n);
  for (size_t i = 0; i < n; ++i) every_column[i] = i;
  for (const auto& [given, members] : inserts) {
    std::vector<size_t> given_columns;
    for (size_t i = 0; i < n; ++i) {
      if (given[i]) given_columns.push_back(i);
    }
    std::vector<AppRowWrite> rows;
    for (RowState* state : members) {
      AppRowWrite& row = rows.emplace_back(AppRowWrite{&state->row->pk_params, {}});
      for (const size_t i : given_columns) row.values.push_back(&state->written_params[i]);
    }
    CRBRIDGE_RETURN_IF_ERROR(tx.InsertAppRows(t, given_columns, rows, canonicalize(every_column)));
  }
  if (!updates.empty()) {
    std::vector<size_t> touched;
    for (size_t i = 0; i < n; ++i) {
      if (std::any_of(updates.begin(), updates.end(), [&](const RowState* s) { return s->written[i]; })) touched.push_back(i);
    }
    std::vector<AppRowWrite> rows;
    for (RowState* state : updates) {
      AppRowWrite& row = rows.emplace_back(AppRowWrite{&state->row->pk_params, {}});
      for (const size_t i : touched) row.values.push_back(state->written[i] ? &state->written_params[i] : nullptr);
    }
    CRBRIDGE_RETURN_IF_ERROR(tx.UpdateAppRows(t, touched, rows, canonicalize(touched)));
  }

  std::vector<ClockWrite> writes;
  std::vector<LoggedChange> logged;
  const int64_t merged_at_us = UnixMicrosNow();
  for (RowState& state : states) {
    if (!state.changed) continue;
    state.clock.lsn = position;
    if (t.room_column && state.exists) {
      const Value& value = *t.room_column < t.pk_count ? state.row->pk_values[*t.room_column]
                                                        : state.values[*t.room_column - t.pk_count];
      if (!value.is_null()) state.clock.room = RoomText(value);
    }
    writes.push_back(ClockWrite{&state.row->pk_params, &state.clock, version, *seq});
    if (log_changes) {
      std::vector<const Value*> values;
      for (const Value& value : state.values) values.push_back(&value);
      logged.push_back(LoggedChange{&state.row->pk_values, &state.before, &state.clock, std::move(values), *seq, 0,
                                    merged_at_us});
    }
    ++*seq;
  }
  CRBRIDGE_RETURN_IF_ERROR(tx.WriteClocks(t, writes));
  if (log_changes) CRBRIDGE_RETURN_IF_ERROR(tx.LogChanges(t, version, {true, sender_ordinal}, logged));
  return Status::OK();
}

}  // namespace

SyncStore::SyncStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore& shadow)
    : config_(config), shadow_(shadow) {
  for (const ResolvedTable& table : tables) tables_[table.mapping->name] = &table;
}

Status SyncStore::Merge(const SiteId& sender, const Changeset& changes, const PeerVersion& end,
                                MergeReport* report, const std::optional<std::string>& room) {
  *report = MergeReport{};
  // Everything is checked before anything is written: a bad change refuses
  // the whole changeset.
  RowMap rows;
  for (const Change& change : changes) {
    const auto found = tables_.find(change.table);
    if (found == tables_.end()) return Status::InvalidArgument("unknown table \"" + change.table + "\"");
    const ResolvedTable& t = *found->second;
    if (!t.mapping->writable) return Status::InvalidArgument("table " + change.table + " is read-only for clients");
    size_t column = 0;
    Value canonical_value = change.val;
    if (!change.is_sentinel()) {
      for (size_t i = t.pk_count; i < t.columns.size(); ++i) {
        if (t.columns[i].name == change.cid) column = i;
      }
      if (column == 0) return Status::InvalidArgument("table " + change.table + " has no column \"" + change.cid + "\"");
      const ResolvedColumn& c = t.columns[column];
      ServerParameter parameter;
      CRBRIDGE_RETURN_IF_ERROR(
          ToServerParameter(config_.source.type, c.type, change.val, change.table + "." + c.name, &parameter));
      // NULL in a NOT NULL column with a default stands for the default when
      // it creates the row (clients cannot express now() and the like); it is
      // checked again at write time, when it is known whether the row exists.
      if (parameter.is_null && c.server.not_null && !c.server.has_default) {
        return Status::InvalidArgument(change.table + "." + c.name + ": cannot store NULL in a NOT NULL column");
      }
      if (Value stored; parameter.is_null || FromServerText(c.type, parameter.text, &stored).ok()) {
        canonical_value = parameter.is_null ? Value::Null() : std::move(stored);
      }
    }
    if (change.cl < 1 || change.col_version < 0) {
      return Status::InvalidArgument("a change to " + change.table + " has an invalid clock (cl " +
                                     std::to_string(change.cl) + ", col_version " + std::to_string(change.col_version) + ")");
    }
    RowChanges& row = rows[{change.table, KeyBytes(change.pk)}];
    if (row.table == nullptr) {
      row.table = &t;
      row.pk = change.pk;
      if (Status s = DecodePackedPk(change.pk, &row.pk_values); !s.ok()) {
        return Status::InvalidArgument("a change to " + change.table + " has a malformed key: " + s.message());
      }
      if (row.pk_values.size() != t.pk_count) {
        return Status::InvalidArgument("a change to " + change.table + " has a key of " +
                                       std::to_string(row.pk_values.size()) + " columns; the table's has " +
                                       std::to_string(t.pk_count));
      }
      // The key must be in its canonical form, or client and server would
      // name the same row differently.
      std::vector<Value> canonical;
      for (size_t i = 0; i < t.pk_count; ++i) {
        ServerParameter p;
        CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(config_.source.type, t.columns[i].type, row.pk_values[i],
                                                   change.table + "." + t.columns[i].name, &p));
        if (p.is_null) return Status::InvalidArgument(change.table + "." + t.columns[i].name + ": a key cannot be NULL");
        Value v;
        CRBRIDGE_RETURN_IF_ERROR(FromServerText(t.columns[i].type, p.text, &v));
        canonical.push_back(v);
        row.pk_params.push_back(std::move(p));
      }
      Blob packed;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(canonical, &packed));
      if (packed != change.pk) {
        return Status::InvalidArgument("a change to " + change.table + " names its row by a key that is not in the "
                                       "server's canonical form");
      }
    }
    row.changes.emplace_back(&change, column);
    row.canonical.push_back(std::move(canonical_value));
  }

  // Sites are never removed, so an ordinal once committed stays valid; a
  // new one is remembered only after its transaction commits.
  std::optional<int> new_ordinal;
  const auto merge = [&](ShadowTransaction& tx, int64_t version) -> Status {
    *report = MergeReport{};
    new_ordinal.reset();
    int sender_ordinal = 0;
    if (const auto known = site_ordinals_.find(sender); known != site_ordinals_.end()) {
      sender_ordinal = known->second;
    } else {
      CRBRIDGE_RETURN_IF_ERROR(tx.SiteOrdinal(sender, &sender_ordinal));
      new_ordinal = sender_ordinal;
    }
    int seq = 0;
    bool changed_any = false;
    // Rows are grouped by table and ordered by key (the map's order), so
    // every merge takes its row locks in one order.
    for (auto first = rows.begin(); first != rows.end();) {
      const ResolvedTable& t = *first->second.table;
      auto last = first;
      while (last != rows.end() && last->second.table == &t) ++last;
      CRBRIDGE_RETURN_IF_ERROR(MergeTable(tx, config_.source.type, t, room, first, last, version, sender_ordinal,
                                          shadow_.logs_changes(), &seq, &changed_any, report));
      first = last;
    }
    if (changed_any) report->db_version = version;
    return tx.SetPeerVersion(sender, end);
  };
  // An app transaction can insert a row the merge found missing, or
  // deadlock with it: the merge then runs again, against what the app left.
  Status merged;
  for (int attempt = 0; attempt < kMergeAttempts; ++attempt) {
    merged = shadow_.Write(merge);
    if (merged.code() != Status::Code::kAborted) break;
  }
  if (merged.ok() && new_ordinal) site_ordinals_[sender] = *new_ordinal;
  return merged;
}

Status SyncStore::Pull(int64_t after, const std::optional<std::string>& room, const std::optional<SiteId>& exclude,
                       size_t limit, PullBatch* batch) {
  *batch = PullBatch{{}, after, false};
  return shadow_.Read([&](ShadowSnapshot& snapshot) -> Status {
    // The batch ends on a version boundary: at the lowest last version of a
    // table that has more than `limit` rows to send, or at the highest
    // version there is. Rows of that last version all go in the batch.
    int64_t through = 0;
    std::optional<int64_t> cut;
    for (const auto& [name, t] : tables_) {
      std::vector<int64_t> versions;
      CRBRIDGE_RETURN_IF_ERROR(snapshot.VersionsAfter(*t, after, room, limit + 1, &versions));
      if (versions.empty()) continue;
      if (versions.size() > limit) cut = cut ? std::min(*cut, versions[limit - 1]) : versions[limit - 1];
      through = std::max(through, versions[std::min(limit, versions.size()) - 1]);
    }
    if (through == 0) return Status::OK();
    batch->more = cut.has_value();
    batch->through = cut ? *cut : through;

    // Sites are never removed: the ids are read again only when a clock
    // names an ordinal not seen yet.
    const auto site_of = [&](int64_t ordinal, SiteId* site) -> Status {
      if (ordinal == 0) {
        *site = shadow_.site_id();
        return Status::OK();
      }
      if (!site_ids_.contains(ordinal)) CRBRIDGE_RETURN_IF_ERROR(snapshot.Sites(&site_ids_));
      const auto found = site_ids_.find(ordinal);
      if (found == site_ids_.end()) return Status::Corruption("a clock names an unknown site");
      *site = found->second;
      return Status::OK();
    };

    struct Pending {
      int64_t version;
      int seq;
      Changeset changes;
    };
    std::vector<Pending> pending;
    for (const auto& [name, t] : tables_) {
      const size_t n = t->columns.size() - t->pk_count;
      const auto add_row = [&](PulledRow row) -> Status {
        Blob pk;
        CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(row.key, &pk));
        const int64_t cl = row.clock.cl;
        const auto& versions = row.clock.versions;
        Pending unit{row.db_version, row.seq, {}};
        // A row the app changed and capture has not recorded yet is left
        // out: its values are not those of its clock, and a peer holding
        // another value under the same version would never converge. Its
        // recorded change comes with a later version.
        if (cl % 2 == 1 && !row.app_row_exists) return Status::OK();
        for (size_t i = 0; cl % 2 == 1 && i < n; ++i) {
          const auto& hash = row.clock.hashes[i];
          if (versions[i] && hash && *hash != ValueHash(row.values[i])) return Status::OK();
        }
        // A sentinel when the row is dead, came back from the dead, or has
        // nothing else to carry its existence (as cr-sqlite records one).
        const bool no_columns = std::none_of(versions.begin(), versions.end(), [](const auto& v) { return v.has_value(); });
        if (cl != 1 || no_columns) {
          unit.changes.push_back(Change{name, pk, kSentinelColumn, Value::Null(), cl, unit.version, shadow_.site_id(), cl, 0});
        }
        for (size_t i = 0; cl % 2 == 1 && i < n; ++i) {
          if (!versions[i]) continue;
          SiteId site{};
          CRBRIDGE_RETURN_IF_ERROR(site_of(row.clock.sites[i].value_or(0), &site));
          if (exclude && site == *exclude) continue;
          unit.changes.push_back(
              Change{name, pk, t->columns[t->pk_count + i].name, row.values[i], *versions[i], unit.version, site, cl, 0});
        }
        if (!unit.changes.empty()) pending.push_back(std::move(unit));
        return Status::OK();
      };
      CRBRIDGE_RETURN_IF_ERROR(snapshot.RowsBetween(*t, after, batch->through, room, add_row));
    }
    std::sort(pending.begin(), pending.end(),
              [](const Pending& a, const Pending& b) { return std::tie(a.version, a.seq) < std::tie(b.version, b.seq); });
    int64_t version = -1;
    int64_t seq = 0;
    for (Pending& unit : pending) {
      if (unit.version != version) {
        version = unit.version;
        seq = 0;
      }
      for (Change& change : unit.changes) {
        change.seq = seq++;
        batch->changes.push_back(std::move(change));
      }
    }
    return Status::OK();
  });
}

}  // namespace crbridge
