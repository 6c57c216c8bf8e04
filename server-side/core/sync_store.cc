#include "crbridge/server/core/sync_store.h"

#include <algorithm>
#include <iterator>
#include <tuple>

#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/clock_bounds.h"
#include "crbridge/server/core/clock_columns.h"
#include "crbridge/sqlite/packed_pk.h"
#include "row_identity.h"
#include "room_derivation.h"
#include "table_merge.h"
#include "value_hash.h"

namespace crbridge {
namespace {

constexpr int kMergeAttempts = 5;

// The value column a change writes (its index in t.columns), and its value
// in the form the server stores it (the value itself when the server's
// text does not read back).
Status ResolveColumnChange(SourceType source, const ResolvedTable& t, const Change& change, size_t* column,
                           Value* canonical_value) {
  for (size_t i = t.pk_count; i < t.columns.size(); ++i) {
    if (t.columns[i].name == change.cid) *column = i;
  }
  if (*column == 0) return Status::InvalidArgument("table " + change.table + " has no column \"" + change.cid + "\"");
  const ResolvedColumn& c = t.columns[*column];
  ServerParameter parameter;
  CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(source, c.type, change.val, change.table + "." + c.name, &parameter));
  // NULL in a NOT NULL column with a default stands for the default when
  // it creates the row (clients cannot express now() and the like); it is
  // checked again at write time, when it is known whether the row exists.
  if (parameter.is_null && c.server.not_null && !c.server.has_default) {
    return Status::InvalidArgument(change.table + "." + c.name + ": cannot store NULL in a NOT NULL column");
  }
  if (Value stored; parameter.is_null || FromServerText(c.type, parameter.text, &stored).ok()) {
    *canonical_value = parameter.is_null ? Value::Null() : std::move(stored);
  }
  return Status::OK();
}

// The row a change's key names: its key's values and the server's
// parameters for them.
Status DecodeRowKey(SourceType source, const ResolvedTable& t, const Change& change, RowChanges* row) {
  row->table = &t;
  row->pk = change.pk;
  if (Status s = DecodePackedPk(change.pk, &row->pk_values); !s.ok()) {
    return Status::InvalidArgument("a change to " + change.table + " has a malformed key: " + s.message());
  }
  if (row->pk_values.size() != t.pk_count) {
    return Status::InvalidArgument("a change to " + change.table + " has a key of " +
                                   std::to_string(row->pk_values.size()) + " columns; the table's has " +
                                   std::to_string(t.pk_count));
  }
  // The key must be in its canonical form, or client and server would
  // name the same row differently.
  std::vector<Value> canonical;
  for (size_t i = 0; i < t.pk_count; ++i) {
    ServerParameter p;
    CRBRIDGE_RETURN_IF_ERROR(ToServerParameter(source, t.columns[i].type, row->pk_values[i],
                                               change.table + "." + t.columns[i].name, &p));
    if (p.is_null) return Status::InvalidArgument(change.table + "." + t.columns[i].name + ": a key cannot be NULL");
    Value v;
    CRBRIDGE_RETURN_IF_ERROR(FromServerText(t.columns[i].type, p.text, &v));
    canonical.push_back(v);
    row->pk_params.push_back(std::move(p));
  }
  Blob packed;
  CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(canonical, &packed));
  if (packed != change.pk) {
    return Status::InvalidArgument("a change to " + change.table + " names its row by a key that is not in the "
                                   "server's canonical form");
  }
  return Status::OK();
}

// Groups a changeset's changes by row, checking each: everything is checked
// before anything is written, so a bad change refuses the whole changeset.
// Changes to what is `gone` are counted in *left_out instead.
Status GroupChangeset(SourceType source, const std::map<std::string, const ResolvedTable*>& tables,
                      const Changeset& changes, const AddedColumns* gone, RowMap* rows, size_t* left_out) {
  for (const Change& change : changes) {
    if (gone && AddedHas(*gone, change)) {
      ++*left_out;
      continue;
    }
    const auto found = tables.find(change.table);
    if (found == tables.end()) return Status::InvalidArgument("unknown table \"" + change.table + "\"");
    const ResolvedTable& t = *found->second;
    if (!t.mapping->writable) return Status::InvalidArgument("table " + change.table + " is read-only for clients");
    size_t column = 0;
    Value canonical_value = change.val;
    if (!change.is_sentinel()) {
      CRBRIDGE_RETURN_IF_ERROR(ResolveColumnChange(source, t, change, &column, &canonical_value));
    }
    CRBRIDGE_RETURN_IF_ERROR(CheckClientClocks(change));
    RowChanges& row = (*rows)[{change.table, KeyBytes(change.pk)}];
    if (row.table == nullptr) CRBRIDGE_RETURN_IF_ERROR(DecodeRowKey(source, t, change, &row));
    row.changes.emplace_back(&change, column);
    row.canonical.push_back(std::move(canonical_value));
  }
  return Status::OK();
}

// Merges a changeset's rows a table at a time. Rows are grouped by table
// and ordered by key (the map's order), so every merge takes its row locks
// in one order. Tables come in RoomGraph::MergeRank's order: a client
// that makes itself a member of a new list, or adds a todo and its
// comments, has the rows it references in its room first.
Status MergeRows(ChangesetMerge& merge, RowMap& rows) {
  const RoomGraph& graph = merge.rooms.graph();
  for (int rank = 0; rank <= graph.max_merge_rank(); ++rank) {
    for (auto first = rows.begin(); first != rows.end();) {
      const ResolvedTable& t = *first->second.table;
      auto last = first;
      while (last != rows.end() && last->second.table == &t) ++last;
      if (graph.MergeRank(t) == rank) CRBRIDGE_RETURN_IF_ERROR(TableMerge(merge, t, first, last).Run());
      first = last;
    }
  }
  return Status::OK();
}

// Locks the app rows that several clients' changes touch in the one order
// a single changeset's merge takes them (merge rank, table, key), before
// any client's merge: merged one client after another, their rows would be
// locked in several passes, and an app transaction locking rows in key
// order could deadlock with the merge.
Status LockRowsInOneOrder(ShadowTransaction& tx, const RoomGraph& graph, const std::vector<RowMap>& clients) {
  std::map<std::pair<int, std::string>, std::map<std::string, const RowChanges*>> by_table;
  for (const RowMap& rows : clients) {
    for (const auto& [table_and_key, row] : rows) {
      by_table[{graph.MergeRank(*row.table), table_and_key.first}].emplace(table_and_key.second, &row);
    }
  }
  for (const auto& [rank_and_table, rows] : by_table) {
    std::vector<const KeyParameters*> keys;
    for (const auto& [key, row] : rows) keys.push_back(&row->pk_params);
    CRBRIDGE_RETURN_IF_ERROR(tx.LockAppRows(*rows.begin()->second->table, keys,
                                            [](const Blob&, std::vector<Value>) { return Status::OK(); }));
  }
  return Status::OK();
}

// About what one clock row's changes take in a Changes message besides
// the values StoreRowSizes counts: a sentinel and a change per value
// column, each with the table's name, the key, the column's name and the
// clocks.
size_t RowOverheadBytes(const ResolvedTable& t) {
  constexpr size_t kPerChange = 64;  // key, clocks, site id, lengths
  size_t bytes = t.mapping->name.size() + kPerChange + 2;  // the sentinel
  for (size_t i = t.pk_count; i < t.columns.size(); ++i) bytes += t.mapping->name.size() + kPerChange + t.columns[i].name.size();
  return bytes;
}

// Which rows a pull reads: those of one room, those of every room (each
// given to the rooms it is in), or every row as the server has it.
struct PullScope {
  std::optional<std::string> room;
  bool every_room = false;
};

// A pull's reading of one snapshot: where the batch ends, then its rows as
// changes, in version and seq order.
class SnapshotPull {
 public:
  SnapshotPull(ShadowSnapshot& snapshot, const std::map<std::string, const ResolvedTable*>& tables,
               const SiteId& server_site, std::map<int64_t, SiteId>& site_ids, const std::optional<SiteId>& exclude,
               PullScope scope)
      : snapshot_(snapshot), tables_(tables), server_site_(server_site), site_ids_(site_ids), exclude_(exclude),
        scope_(std::move(scope)) {}

  // Where the batch after `after` ends (`after` itself when there is
  // nothing), and whether more may follow. First the versions that each
  // table's next `limit.rows` rows reach, from the version index alone;
  // then the rows up to there in pull order with their sizes, cut where
  // the rows or the bytes reach the limit (after one row at least).
  Status FindBatchEnd(const PullPosition& after, const PullLimit& limit, PullPosition* through, bool* more) {
    *through = after;
    *more = false;
    // A batch that ended inside a version goes on in that version.
    const int64_t before = after.whole_version() ? after.version : after.version - 1;
    std::optional<int64_t> cut;
    int64_t last = 0;
    for (const auto& [name, t] : tables_) {
      std::vector<int64_t> versions;
      CRBRIDGE_RETURN_IF_ERROR(snapshot_.VersionsAfter(*t, before, scope_.room, limit.rows + 1, &versions));
      std::vector<RowSize> extra;
      CRBRIDGE_RETURN_IF_ERROR(ExtraRows(*t, PullPosition(before), kEnd, limit.rows + 1, &extra));
      if (!extra.empty()) {
        for (const RowSize& row : extra) versions.push_back(row.db_version);
        std::sort(versions.begin(), versions.end());
        versions.resize(std::min(versions.size(), limit.rows + 1));
      }
      if (versions.empty()) continue;
      if (versions.size() > limit.rows) cut = cut ? std::min(*cut, versions[limit.rows - 1]) : versions[limit.rows - 1];
      last = std::max(last, versions[std::min(limit.rows, versions.size()) - 1]);
    }
    if (last == 0) return Status::OK();
    const int64_t end = cut ? *cut : last;
    std::vector<RowSize> rows;
    for (const auto& [name, t] : tables_) {
      std::vector<RowSize> sizes;
      CRBRIDGE_RETURN_IF_ERROR(snapshot_.RowSizes(*t, after, end, scope_.room, limit.rows + 1, &sizes));
      for (RowSize& row : sizes) row.bytes += static_cast<int64_t>(RowOverheadBytes(*t));
      rows.insert(rows.end(), sizes.begin(), sizes.end());
      CRBRIDGE_RETURN_IF_ERROR(ExtraRows(*t, after, PullPosition(end), limit.rows + 1, &rows));
    }
    std::sort(rows.begin(), rows.end(),
              [](const RowSize& a, const RowSize& b) { return std::tie(a.db_version, a.seq) < std::tie(b.db_version, b.seq); });
    // A table listed limit.rows + 1 rows at the most: the batch, of
    // limit.rows at the most, never passes a row of it that was not listed.
    size_t taken = 0;
    size_t bytes = 0;
    while (taken < rows.size() && taken < limit.rows &&
           (taken == 0 || bytes + static_cast<size_t>(rows[taken].bytes) <= limit.bytes)) {
      bytes += static_cast<size_t>(rows[taken].bytes);
      ++taken;
    }
    if (taken == rows.size()) {
      *through = PullPosition(end);
      *more = cut.has_value();
    } else {
      *through = PullPosition(rows[taken - 1].db_version, rows[taken - 1].seq);
      *more = true;
    }
    return Status::OK();
  }

  // Every table's rows after `after` and up to `through`.
  Status ReadRows(const PullPosition& after, const PullPosition& through) {
    for (const auto& [name, t] : tables_) {
      if (scope_.every_room && (t->room_column || t->derives_rooms())) {
        CRBRIDGE_RETURN_IF_ERROR(ReadRowsOfEveryRoom(name, *t, after, through));
        continue;
      }
      CRBRIDGE_RETURN_IF_ERROR(snapshot_.RowsBetween(*t, after, through, scope_.room, [&](PulledRow row) {
        return AddRow(name, *t, std::move(row), &pending_);
      }));
      if (HasExits(*t)) CRBRIDGE_RETURN_IF_ERROR(ReadExits(name, *t, after, through));
    }
    return Status::OK();
  }

  // The rows' changes in version and seq order, each carrying its row's
  // seq.
  void SortChanges(Changeset* changes) { Sorted(pending_, changes); }

  // The same for a pull of every room.
  void SortChanges(EveryRoomBatch* batch) {
    Sorted(pending_, &batch->every_room);
    for (auto& [room, units] : by_room_) Sorted(units, &batch->by_room[room]);
  }

 private:
  // The end of every pull.
  static inline const PullPosition kEnd{INT64_MAX};

  // One row's changes.
  struct Pending {
    int64_t version;
    int seq;
    Changeset changes;
  };

  static void Sorted(std::vector<Pending>& units, Changeset* changes) {
    std::sort(units.begin(), units.end(),
              [](const Pending& a, const Pending& b) { return std::tie(a.version, a.seq) < std::tie(b.version, b.seq); });
    for (Pending& unit : units) {
      for (Change& change : unit.changes) changes->push_back(std::move(change));
    }
  }

  // Whether a pull of one room reads exits of `t` (rows that left the room).
  bool HasExits(const ResolvedTable& t) const { return scope_.room && (t.room_column || t.derives_rooms()); }

  // Where the rows a pull reads besides clock rows stand, after `after` and
  // up to `through`, at most `limit` of each kind: the exits of the room's
  // rows (of every room's, for every room), and for every room, the entries
  // of rows into rooms (a pull of one room reads those with the clocks).
  Status ExtraRows(const ResolvedTable& t, const PullPosition& after, const PullPosition& through, size_t limit,
                   std::vector<RowSize>* rows) {
    const bool every = scope_.every_room && (t.room_column || t.derives_rooms());
    if (!HasExits(t) && !every) return Status::OK();
    std::vector<RoomExit> exits;
    CRBRIDGE_RETURN_IF_ERROR(snapshot_.RoomExitsBetween(t, scope_.room, after, through, limit, &exits));
    for (const RoomExit& exit : exits) {
      rows->push_back(RowSize{exit.db_version, exit.seq, static_cast<int64_t>(exit.pk.size() + RowOverheadBytes(t))});
    }
    if (!every || !t.derives_rooms()) return Status::OK();
    std::vector<RowRoom> entries;
    CRBRIDGE_RETURN_IF_ERROR(snapshot_.RoomEntriesBetween(t, after, through, limit, &entries));
    for (const RowRoom& entry : entries) {
      rows->push_back(RowSize{entry.db_version, entry.seq, static_cast<int64_t>(entry.pk.size() + RowOverheadBytes(t))});
    }
    return Status::OK();
  }

  // The rows' deaths in the rooms they left: they live on in others.
  Status ReadExits(const std::string& name, const ResolvedTable& t, const PullPosition& after,
                   const PullPosition& through) {
    std::vector<RoomExit> exits;
    CRBRIDGE_RETURN_IF_ERROR(snapshot_.RoomExitsBetween(t, scope_.room, after, through, SIZE_MAX, &exits));
    for (RoomExit& exit : exits) {
      std::vector<Pending>& units = scope_.every_room ? by_room_[exit.room] : pending_;
      units.push_back(Pending{exit.db_version, exit.seq,
                              {Change{name, std::move(exit.pk), kSentinelColumn, Value::Null(), exit.cl,
                                      exit.db_version, server_site_, exit.cl, exit.seq}}});
    }
    return Status::OK();
  }

  // A pull of every room's rows of `t`, a table with rooms: each row is
  // read once and given to each room it is in, at its place there (the
  // later of its clock's and its entry's, for a table that derives its
  // rooms), as a pull of that room alone would give it.
  Status ReadRowsOfEveryRoom(const std::string& name, const ResolvedTable& t, const PullPosition& after,
                             const PullPosition& through) {
    std::map<std::string, PulledRow> rows;  // by key bytes
    std::vector<Blob> keys;
    const Status read = snapshot_.RowsBetween(t, after, through, std::nullopt, [&](PulledRow row) -> Status {
      if (t.room_column) {
        if (!row.clock.room) return Status::OK();
        const std::string room = *row.clock.room;
        return AddRow(name, t, std::move(row), &by_room_[room]);
      }
      Blob pk;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(row.key, &pk));
      rows.emplace(KeyBytes(pk), std::move(row));
      keys.push_back(std::move(pk));
      return Status::OK();
    });
    CRBRIDGE_RETURN_IF_ERROR(read);
    CRBRIDGE_RETURN_IF_ERROR(ReadExits(name, t, after, through));
    if (!t.derives_rooms()) return Status::OK();
    // Rows that entered a room in the batch, whose clocks are older.
    std::vector<RowRoom> entries;
    CRBRIDGE_RETURN_IF_ERROR(snapshot_.RoomEntriesBetween(t, after, through, SIZE_MAX, &entries));
    std::vector<Blob> entered_keys;
    for (const RowRoom& entry : entries) {
      if (!rows.contains(KeyBytes(entry.pk))) entered_keys.push_back(entry.pk);
    }
    std::map<std::string, PulledRow> entered_rows;
    const Status entered = snapshot_.RowsOfKeys(t, entered_keys, [&](PulledRow row) -> Status {
      if (PullPosition(row.db_version, row.seq) > through) return Status::OK();  // a later batch has it
      Blob pk;
      CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(row.key, &pk));
      entered_rows.emplace(KeyBytes(pk), std::move(row));
      return Status::OK();
    });
    CRBRIDGE_RETURN_IF_ERROR(entered);
    std::vector<RowRoom> rooms;
    CRBRIDGE_RETURN_IF_ERROR(snapshot_.RowRoomsOf(t, keys, &rooms));
    for (const RowRoom& room : rooms) CRBRIDGE_RETURN_IF_ERROR(AddToRoom(name, t, rows.at(KeyBytes(room.pk)), room, after, through));
    for (const RowRoom& entry : entries) {
      const auto row = entered_rows.find(KeyBytes(entry.pk));
      if (row != entered_rows.end()) CRBRIDGE_RETURN_IF_ERROR(AddToRoom(name, t, row->second, entry, after, through));
    }
    return Status::OK();
  }

  // `row` as the clients of `room.room` get it.
  Status AddToRoom(const std::string& name, const ResolvedTable& t, const PulledRow& row, const RowRoom& room,
                   const PullPosition& after, const PullPosition& through) {
    const PullPosition clock(row.db_version, row.seq), entry(room.db_version, room.seq);
    if (entry > through) return Status::OK();  // a later batch has it
    PulledRow copy = row;
    copy.cl_offset = room.cl_offset;
    copy.entered = entry > after;
    if (entry > clock) {
      copy.db_version = room.db_version;
      copy.seq = room.seq;
    }
    return AddRow(name, t, std::move(copy), &by_room_[room.room]);
  }

  // Sites are never removed: the ids are read again only when a clock
  // names an ordinal not seen yet.
  Status SiteOf(int64_t ordinal, SiteId* site) {
    if (ordinal == 0) {
      *site = server_site_;
      return Status::OK();
    }
    if (!site_ids_.contains(ordinal)) CRBRIDGE_RETURN_IF_ERROR(snapshot_.Sites(&site_ids_));
    const auto found = site_ids_.find(ordinal);
    if (found == site_ids_.end()) return Status::Corruption("a clock names an unknown site");
    *site = found->second;
    return Status::OK();
  }

  Status AddRow(const std::string& name, const ResolvedTable& t, PulledRow row, std::vector<Pending>* out) {
    const size_t n = t.columns.size() - t.pk_count;
    Blob pk;
    CRBRIDGE_RETURN_IF_ERROR(EncodePackedPk(row.key, &pk));
    const int64_t cl = row.clock.cl + row.cl_offset;
    const auto& versions = row.clock.versions;
    Pending unit{row.db_version, row.seq, {}};
    // A row the app changed and capture has not recorded yet is left
    // out: its values are not those of its clock, and a peer holding
    // another value under the same version would never converge. Its
    // recorded change comes with a later version. So is a row with a
    // value that does not map (a row capture rejected): clients keep it as
    // they last got it until a change of it maps.
    if (cl % 2 == 1 && (!row.app_row_exists || !row.app_values_map)) return Status::OK();
    for (size_t i = 0; cl % 2 == 1 && i < n; ++i) {
      const auto& hash = row.clock.hashes[i];
      if (versions[i] && hash && *hash != ValueHash(row.values[i])) return Status::OK();
    }
    // A sentinel when the row is dead, came back from the dead, or has
    // nothing else to carry its existence (as cr-sqlite records one).
    const bool no_columns = std::none_of(versions.begin(), versions.end(), [](const auto& v) { return v.has_value(); });
    if (cl != 1 || no_columns) {
      unit.changes.push_back(Change{name, pk, kSentinelColumn, Value::Null(), cl, unit.version, server_site_, cl, unit.seq});
    }
    for (size_t i = 0; cl % 2 == 1 && i < n; ++i) {
      if (!versions[i]) continue;
      SiteId site{};
      CRBRIDGE_RETURN_IF_ERROR(SiteOf(row.clock.sites[i].value_or(0), &site));
      // A row that entered the room goes whole, as the server's: a client
      // there that wrote a column deleted it with the row when it left.
      if (row.entered) {
        site = server_site_;
      } else if (exclude_ && site == *exclude_) {
        continue;
      }
      unit.changes.push_back(
          Change{name, pk, t.columns[t.pk_count + i].name, row.values[i], *versions[i], unit.version, site, cl, unit.seq});
    }
    if (!unit.changes.empty()) out->push_back(std::move(unit));
    return Status::OK();
  }

  ShadowSnapshot& snapshot_;
  const std::map<std::string, const ResolvedTable*>& tables_;
  const SiteId& server_site_;
  std::map<int64_t, SiteId>& site_ids_;
  const std::optional<SiteId> exclude_;
  const PullScope scope_;
  std::vector<Pending> pending_;  // of the room, or of every room
  std::map<std::string, std::vector<Pending>> by_room_;  // for every room: each room's own
};

}  // namespace

SyncStore::SyncStore(const Config& config, const std::vector<ResolvedTable>& tables, ShadowStore& shadow)
    : config_(config), shadow_(shadow), served_schema_(ServedSchemaOf(tables)), graph_(std::make_unique<RoomGraph>(tables)) {
  for (const ResolvedTable& table : tables) tables_[table.mapping->name] = &table;
}

SyncStore::~SyncStore() = default;

Status SyncStore::Merge(const SiteId& sender, const Changeset& changes, const PeerVersion& end,
                        MergeReport* report, const std::optional<std::string>& room,
                        const std::optional<std::string>& owner, const AddedColumns* gone) {
  ClientMerge merge{sender, {&changes}, end, room, owner, gone, std::nullopt, {}, false};
  const Status merged = MergeTogether(std::span(&merge, 1));
  *report = merge.report;
  return merged;
}

Status SyncStore::MergeTogether(std::span<ClientMerge> merges) {
  std::vector<RowMap> rows(merges.size());
  std::vector<size_t> left_out(merges.size(), 0);
  // The rows' tables, each once, by client name: every merge takes their
  // table locks in that one order.
  std::map<std::string, const ResolvedTable*> touched;
  for (size_t i = 0; i < merges.size(); ++i) {
    ClientMerge& client = merges[i];
    client.report = MergeReport{};
    if (client.sender == shadow_.site_id()) return ServerSiteRefused(client.sender);
    for (const Changeset* changes : client.changesets) {
      CRBRIDGE_RETURN_IF_ERROR(
          GroupChangeset(config_.source.type, tables_, *changes, client.gone, &rows[i], &left_out[i]));
    }
    for (const auto& [table_and_key, row] : rows[i]) touched.emplace(table_and_key.first, row.table);
  }
  std::vector<const ResolvedTable*> app_tables;
  for (const auto& [name, t] : touched) app_tables.push_back(t);
  // Clients are merged in passes, several at once with one set of
  // statements: a client joins the first pass after every earlier client
  // that touches one of its rows, so that a row takes its clients'
  // changes in their order, and no row has two senders in one pass. A
  // client writing a table of the room graph (memberships, rooms derived
  // or referenced) goes after every earlier client: where a row is
  // depends on other rows, which a pass merges in table order, not in
  // the clients' order.
  std::vector<size_t> pass_of(merges.size(), 0);
  size_t passes = 0;
  {
    std::map<std::pair<std::string, std::string>, size_t> last_pass;  // by row
    for (size_t i = 0; i < merges.size(); ++i) {
      for (const auto& [row, changes] : rows[i]) {
        if (const auto found = last_pass.find(row); found != last_pass.end()) {
          pass_of[i] = std::max(pass_of[i], found->second + 1);
        }
        if (graph_->Concerns(*changes.table)) pass_of[i] = std::max(pass_of[i], passes);
      }
      for (const auto& [row, changes] : rows[i]) last_pass[row] = pass_of[i];
      passes = std::max(passes, pass_of[i] + 1);
    }
  }

  // Sites are never removed, so an ordinal once committed stays valid; a
  // new one is remembered only after its transaction commits.
  std::map<SiteId, int> new_ordinals;
  std::vector<MergeSender> senders(merges.size());
  const auto merge = [&](ShadowTransaction& tx, int64_t version) -> Status {
    new_ordinals.clear();
    if (merges.size() > 1) CRBRIDGE_RETURN_IF_ERROR(LockRowsInOneOrder(tx, *graph_, rows));
    for (size_t i = 0; i < merges.size(); ++i) {
      ClientMerge& client = merges[i];
      client.report = MergeReport{};
      client.expired = client.expiry && std::chrono::system_clock::now() >= *client.expiry;
      if (client.expired) continue;
      // First, so that a site bound to another owner reads nothing.
      CRBRIDGE_RETURN_IF_ERROR(tx.SetPeerVersion(client.sender, client.end, client.owner));
      int sender_ordinal = 0;
      if (const auto known = site_ordinals_.find(client.sender); known != site_ordinals_.end()) {
        sender_ordinal = known->second;
      } else {
        CRBRIDGE_RETURN_IF_ERROR(tx.SiteOrdinal(client.sender, &sender_ordinal));
        new_ordinals[client.sender] = sender_ordinal;
      }
      senders[i] = MergeSender{sender_ordinal, &client.room, &client.report, false};
    }
    int seq = 0;  // shared by every client's rows: one version
    for (size_t pass = 0; pass < passes; ++pass) {
      RowMap pass_rows;
      for (size_t i = 0; i < merges.size(); ++i) {
        if (pass_of[i] != pass || merges[i].expired) continue;
        for (const auto& [row, changes] : rows[i]) {
          RowChanges& copy = pass_rows.emplace(row, changes).first->second;
          copy.sender = &senders[i];
        }
      }
      RoomDerivation rooms(tx, config_.source.type, *graph_, version, &seq);
      ChangesetMerge changeset{tx, config_.source.type, version, shadow_.logs_changes(), rooms, seq};
      CRBRIDGE_RETURN_IF_ERROR(MergeRows(changeset, pass_rows));
    }
    for (size_t i = 0; i < merges.size(); ++i) {
      if (!merges[i].expired && senders[i].changed) merges[i].report.db_version = version;
    }
    return Status::OK();
  };
  // An app transaction can insert a row the merge found missing, or
  // deadlock with it: the merge then runs again, against what the app left.
  Status merged;
  for (int attempt = 0; attempt < kMergeAttempts; ++attempt) {
    merged = shadow_.Write(app_tables, merge);
    if (merged.code() != Status::Code::kAborted || IsMappingsChanged(merged)) break;
  }
  if (merged.ok()) site_ordinals_.merge(new_ordinals);
  for (size_t i = 0; i < merges.size(); ++i) merges[i].report.gone = left_out[i];
  return merged;
}

Status SyncStore::Pull(const PullPosition& after, const std::optional<std::string>& room,
                       const std::optional<SiteId>& exclude, const PullLimit& limit, PullBatch* batch) {
  *batch = PullBatch{{}, after, false};
  return shadow_.Read([&](ShadowSnapshot& snapshot) -> Status {
    SnapshotPull pull(snapshot, tables_, shadow_.site_id(), site_ids_, exclude, PullScope{room, false});
    CRBRIDGE_RETURN_IF_ERROR(pull.FindBatchEnd(after, limit, &batch->through, &batch->more));
    if (batch->through <= after) return Status::OK();
    CRBRIDGE_RETURN_IF_ERROR(pull.ReadRows(after, batch->through));
    pull.SortChanges(&batch->changes);
    return Status::OK();
  });
}

Status SyncStore::PullEveryRoom(const PullPosition& after, const PullLimit& limit, EveryRoomBatch* batch) {
  *batch = EveryRoomBatch{{}, {}, after, false};
  return shadow_.Read([&](ShadowSnapshot& snapshot) -> Status {
    SnapshotPull pull(snapshot, tables_, shadow_.site_id(), site_ids_, std::nullopt, PullScope{std::nullopt, true});
    CRBRIDGE_RETURN_IF_ERROR(pull.FindBatchEnd(after, limit, &batch->through, &batch->more));
    if (batch->through <= after) return Status::OK();
    CRBRIDGE_RETURN_IF_ERROR(pull.ReadRows(after, batch->through));
    pull.SortChanges(batch);
    return Status::OK();
  });
}

Changeset EveryRoomBatch::For(const std::string& room) const {
  const auto own = by_room.find(room);
  if (own == by_room.end()) return every_room;
  Changeset changes;
  changes.reserve(every_room.size() + own->second.size());
  std::merge(every_room.begin(), every_room.end(), own->second.begin(), own->second.end(), std::back_inserter(changes),
             [](const Change& a, const Change& b) { return std::tie(a.db_version, a.seq) < std::tie(b.db_version, b.seq); });
  return changes;
}

}  // namespace crbridge
