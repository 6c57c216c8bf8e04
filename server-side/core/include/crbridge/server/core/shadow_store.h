// ShadowStore: crbridge's shadow tables in the source database
// (docs/server-side.md) reached through one dialect: the server's site id,
// the db_version counter, the clock table of each mapped table, the tracked
// versions of client sites, the capture position and the change log, plus
// the few statements a merge makes on the app's tables. Everything above it
// (SyncStore's merge and pulls, ChangeRecorder, the sync server, capture's
// recording) is the same for every database; a dialect is added by
// implementing ShadowStore, ShadowTransaction and ShadowSnapshot
// (PostgresShadowStore, MysqlShadowStore).
//
// Writes run through ShadowStore::Write, one database transaction each,
// holding the next db_version until it commits (versions in commit order);
// pulls read one consistent snapshot through Read. Values cross this
// interface as canonical SQLite values (reads) and ServerParameters
// (writes), keys of rows as packed primary keys. Not thread-safe: one store
// per thread (each has its own connections).
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crbridge/mappings/config.h"
#include "crbridge/mappings/resolved_table.h"
#include "crbridge/mappings/type_mapping.h"
#include "crbridge/server/core/rejected_row.h"
#include "crbridge/server/core/served_schema.h"
#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"
#include "crbridge/sqlite/text_encoding.h"
#include "crbridge/sqlite/value.h"

namespace crbridge {

// How far the server has applied a client site's changes (vlcn "last seen").
struct PeerVersion {
  int64_t version = 0;
  int64_t seq = 0;
};

// What the server keeps of a client site: how far it has applied the
// site's changes, and the owner the site is bound to (docs/sync-server.md,
// "Site ids"): unset until the site's first acknowledged write.
struct PeerRecord {
  PeerVersion applied;
  std::optional<std::string> owner;
  // The schema version the site announced last (ServedSchema), unset for
  // a site that never announced one to this version of crbridge.
  std::optional<int64_t> schema_version;
};

// PermissionDenied: `site` is bound to another owner than the client's
// (which one is not said: it may name a user).
inline Status SiteBoundElsewhere(const SiteId& site) {
  return Status::PermissionDenied("site id " + EncodeHex(site) +
                                  " is bound to another client; a client may only use a site id of its own");
}

// Where capture stands in the source's change stream. `offset` grows with
// commit order (Postgres: a WAL position; MySQL: the binlog file's number
// and the offset in it) and is what clocks compare; `resume` is what the
// stream restarts from when `offset` alone cannot say it (MySQL: the GTID
// state), empty otherwise.
struct SourcePosition {
  int64_t offset = 0;
  std::string resume;
};

// The row-wide clock of one app row (docs/server-side.md).
struct ClockRow {
  bool stored = false;  // the clock table has a row for it
  int64_t cl = 0;
  // Per value column: col_version, the site ordinal that wrote it (0 = the
  // server), and ValueHash of the value the app table holds.
  std::vector<std::optional<int64_t>> versions, sites, hashes;
  // The source offset the clock reflects: capture skips a row's changes
  // that committed at or before it (they are recorded already).
  int64_t lsn = 0;
  // The room to record; unset keeps the stored one (a dead row stays in the
  // room its clients knew it in).
  std::optional<std::string> room;
  // The room and causal length the clock table held when the clock was
  // read (never written): a row whose room changes leaves that room
  // (room_moves.h).
  std::optional<std::string> stored_room;
  int64_t stored_cl = 0;

  explicit ClockRow(size_t value_columns = 0)
      : versions(value_columns), sites(value_columns), hashes(value_columns) {}
};

// A row's exit from a room it was in (rooms by column): the room's clients
// learn of the row's death, at the even causal length `cl`, though the row
// lives on in another room (docs/design.md, "Rows moving between rooms").
// The exit holds the (db_version, seq) of the clock write that moved the
// row, and ends when the row enters the room again.
struct RoomExit {
  Blob pk;  // packed
  std::string room;
  int64_t cl = 0;
  int64_t db_version = 0;
  int seq = 0;
};

// A row's key as statement parameters, in key column order.
using KeyParameters = std::vector<ServerParameter>;

// The key parameters of `t`'s row with packed key `pk` (InvalidArgument
// when it does not decode to values of the key's types).
Status KeyParametersOf(SourceType source, const ResolvedTable& t, const Blob& pk, KeyParameters* params);

// The key parameters of many rows, and pointers to them as statements
// take them.
struct DecodedKeys {
  std::vector<KeyParameters> params;
  std::vector<const KeyParameters*> pointers;
};
Status DecodeKeys(SourceType source, const ResolvedTable& t, const std::vector<Blob>& keys, DecodedKeys* decoded);

// A row's place in one of its rooms, for tables whose rooms come from
// other rows (room_members, room_via): a row may be in many rooms, each
// recorded apart from its clock (docs/design.md, "Rooms by membership and
// by reference"). The room's clients see the row's causal length raised by
// `cl_offset` (even, so that life and death read the same), which lifts it
// past the exit they saw when the row left the room before. The entry
// holds the (db_version, seq) of the write that put the row in the room:
// pulls send the row whole from there.
struct RowRoom {
  Blob pk;  // packed
  std::string room;
  int64_t cl_offset = 0;
  int64_t db_version = 0;
  int seq = 0;
};

// One row of a membership table (room_members' `table`) as crbridge keeps
// it: the member row's packed key, the key it names (as text) and its room.
struct Membership {
  Blob member_pk;
  std::string key;
  std::string room;
};

struct ClockWrite {
  const KeyParameters* key;
  const ClockRow* clock;
  int64_t db_version;
  int seq;
};

// Who made the changes of a write: captured app writes, or a merged client
// changeset (with the sender's site ordinal).
struct ChangeOrigin {
  bool from_client = false;
  int client_ordinal = 0;
};

// One row's change under the write's db_version, for the change log: the
// columns whose clock moved from `before` to `after`, with their values
// from `values` (per value column, the value the row now holds; read only
// for those columns).
struct LoggedChange {
  const std::vector<Value>* key;
  const ClockRow* before;
  const ClockRow* after;
  std::vector<const Value*> values;
  int seq;
  // App writes: the end of the source transaction that last changed the
  // row (0 for client writes), and its commit time; client writes: when
  // the merge ran. Unix microseconds.
  int64_t source_lsn = 0;
  int64_t source_time_us = 0;
};

// A row a merge writes to an app table: its key and, per column the
// statement sets, the value.
struct AppRowWrite {
  const KeyParameters* key;
  std::vector<const ServerParameter*> values;
};

// Called with an app row's packed key and the canonical values of the
// value columns asked for, in the order asked.
using AppRowCallback = std::function<Status(const Blob& key, std::vector<Value> values)>;

// How long the last batch of a table read whole waits for the app table's
// lock (ShadowTransaction::KillLiveClocks), and the Aborted it then
// returns, naming the table.
inline constexpr int kAppTableLockWaitSeconds = 1;
inline Status AppTableBusy(const ResolvedTable& t, const std::string& cause) {
  return Status::Aborted("an app statement on " + t.mapping->QualifiedSource() +
                         " (a DDL, most likely) waits for capture's read of the table, which reads it again once the "
                         "statement is through (" + cause + ")");
}

// The statements of one write (ShadowStore::Write). Value columns are
// numbered from 0 (t.columns[t.pk_count + i]). Errors: Unavailable when the
// connection is lost, Aborted when an app transaction got in the way (a key
// found free was taken, a deadlock), InvalidArgument when the server
// refuses a value an app row write gives it (a value the type mapping let
// through, such as a malformed array literal: the message names the table
// and escapes the server's words), Internal otherwise; the write then
// rolls back.
class ShadowTransaction {
 public:
  virtual ~ShadowTransaction() = default;

  // The clocks of the rows of `keys` that the clock table holds.
  virtual Status ReadClocks(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                            const std::function<Status(const Blob& key, ClockRow clock)>& found) = 0;
  // Stores the clocks of `writes` (new rows have clock->stored false).
  virtual Status WriteClocks(const ResolvedTable& t, const std::vector<ClockWrite>& writes) = 0;
  // The standing exits of `t`'s rows with packed keys `keys`, from any room.
  virtual Status ReadRoomExits(const ResolvedTable& t, const std::vector<Blob>& keys,
                               std::vector<RoomExit>* exits) = 0;
  // Stores `left` (replacing a row's exit from the same room) and ends the
  // exits `entered` (packed key and room: the row is back in the room).
  virtual Status WriteRoomExits(const ResolvedTable& t, const std::vector<RoomExit>& left,
                                const std::vector<RoomExit>& entered) = 0;
  // The rooms of `t`'s rows with keys `keys` (`t` derives its rooms).
  virtual Status ReadRowRooms(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                              std::vector<RowRoom>* rooms) = 0;
  // Stores `entered` (new rooms of rows) and removes `left` (packed key and
  // room).
  virtual Status WriteRowRooms(const ResolvedTable& t, const std::vector<RowRoom>& entered,
                               const std::vector<RowRoom>& left) = 0;
  // The clocks of `t`'s rows whose recorded room is one of `rooms` (for a
  // room_via table, the keys of the rows they reference, as text).
  virtual Status ReadClocksInRooms(const ResolvedTable& t, const std::vector<std::string>& rooms,
                                   const std::function<Status(const Blob& key, ClockRow clock)>& found) = 0;
  // The memberships of membership table `source` (schema.table) whose
  // member rows have packed keys `member_keys`, or (with `by_key`) which
  // name one of the keys `member_keys` holds as text.
  virtual Status ReadMemberships(const std::string& source, const std::vector<std::string>& keys, bool by_key,
                                 std::vector<Membership>* memberships) = 0;
  // Stores `stored` (replacing what a member row held) and removes the
  // member rows with packed keys `removed`.
  virtual Status WriteMemberships(const std::string& source, const std::vector<Membership>& stored,
                                  const std::vector<Blob>& removed) = 0;
  // Which live clocks KillLiveClocks kills: all of them (a truncate), or
  // those whose app row is gone (the table was read whole again: a row
  // that is in the clocks but no longer in the table was deleted unseen).
  enum class Kill { kEveryLiveRow, kRowsTheAppLacks };
  // Every live clock of `t` (of `which`) whose lsn is below `position`
  // dies: cl + 1, at lsn `position`, stamped with `db_version` and `seq`.
  // Calls `dead` with the key and new cl of each when `report_dead`.
  // kRowsTheAppLacks reads the app table while capture's read of it still
  // holds it open: an app DDL on the table waits for that read, and every
  // later statement on the table waits behind the DDL, this one too, for
  // ever. It waits kAppTableLockWaitSeconds at the most, then returns
  // AppTableBusy: capture reads the table again once the DDL is through.
  virtual Status KillLiveClocks(const ResolvedTable& t, Kill which, int64_t position, int64_t db_version, int seq,
                                bool report_dead, const std::function<Status(std::vector<Value> key, int64_t cl)>& dead,
                                size_t* killed) = 0;

  // Locks the app rows of `keys` (in key order, as the app may write them
  // too) and reads their value columns. InvalidArgument naming the table,
  // column and row when a value has no mapping (a row capture rejected: it
  // takes no client writes until the app changes it).
  virtual Status LockAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                             const AppRowCallback& found) = 0;
  // A source offset that every app write visible to this transaction's
  // later reads precedes; app writes that wait for its row locks come after.
  virtual Status AppPosition(int64_t* offset) = 0;
  virtual Status DeleteAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys) = 0;
  // Inserts `rows`, setting the value columns `columns` (the others take
  // their defaults), and reads back every value column as stored.
  virtual Status InsertAppRows(const ResolvedTable& t, const std::vector<size_t>& columns,
                               const std::vector<AppRowWrite>& rows, const AppRowCallback& stored) = 0;
  // Updates `rows`: value column columns[k] of a row is set to values[k],
  // or kept where values[k] is nullptr (rows write different columns);
  // reads back `columns` as stored.
  virtual Status UpdateAppRows(const ResolvedTable& t, const std::vector<size_t>& columns,
                               const std::vector<AppRowWrite>& rows, const AppRowCallback& stored) = 0;

  // The ordinal of a client site, made on first use (ordinals never change).
  virtual Status SiteOrdinal(const SiteId& site, int* ordinal) = 0;
  // Moves how far the server has applied `site`'s changes to `version`
  // (never back). With `owner`, a site bound to nobody yet is bound to it;
  // PermissionDenied, with nothing written, when the site is bound to
  // another owner. Without, the binding is neither checked nor made (only
  // for writers that are no client's connection: tools and tests).
  virtual Status SetPeerVersion(const SiteId& site, const PeerVersion& version,
                                const std::optional<std::string>& owner) = 0;
  // Moves the capture position forward to `position` (never back).
  virtual Status SetCapturePosition(const SourcePosition& position) = 0;
  virtual Status MarkSnapshotDone(const ResolvedTable& t, int64_t offset) = 0;
  // Stores `rows` as rejected (rejected_row.h), replacing what a row had.
  virtual Status RecordRejectedRows(const std::vector<RejectedRow>& rows) = 0;
  // Removes the rejected rows of table `table` with packed keys `keys`.
  virtual Status ClearRejectedRows(const std::string& table, const std::vector<Blob>& keys) = 0;
  // Appends `changes` of `t` to the change log (only when the store logs
  // changes).
  virtual Status LogChanges(const ResolvedTable& t, int64_t db_version, const ChangeOrigin& origin,
                            const std::vector<LoggedChange>& changes) = 0;
};

// A point in the server's changes as pulls read them, in (db_version,
// seq) order of the clock rows: after every row of an earlier version, and
// after the rows of `version` whose seq is `seq` or lower (kWholeVersion:
// all of them). A pull may stop inside a version and the next one go on
// from there: a row keeps its (db_version, seq) until it is written again,
// under a later version. The seqs of one version are its rows' own, except
// that the rows one truncate kills share one.
struct PullPosition {
  static constexpr int64_t kWholeVersion = INT64_MAX;

  int64_t version = 0;
  int64_t seq = kWholeVersion;

  PullPosition() = default;
  // After all of `version` (implicit: a version is a position).
  PullPosition(int64_t at_version, int64_t at_seq = kWholeVersion) : version(at_version), seq(at_seq) {}
  bool whole_version() const { return seq == kWholeVersion; }
  friend auto operator<=>(const PullPosition&, const PullPosition&) = default;
};

// Where a clock row stands in pull order, and about how many bytes the
// mapped values of its row take (0 for a dead or missing app row): what a
// pull needs to end its batch at a size before it reads any value.
struct RowSize {
  int64_t db_version = 0;
  int64_t seq = 0;
  int64_t bytes = 0;
};

// Whether values of `type` count towards a row's size (RowSize): texts,
// blobs, JSON, numerics and values in the server's text form may be large;
// numbers, booleans, dates, times and uuids are a few bytes each.
inline bool CountsTowardsRowSize(const ColumnType& type) {
  switch (type.kind) {
    case ValueKind::kInteger:
    case ValueKind::kBoolean:
    case ValueKind::kReal:
    case ValueKind::kUuid:
    case ValueKind::kDate:
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      return false;
    default:
      return true;
  }
}

// A clock row as a pull reads it, joined with its app row (its clock's
// `room` is the room recorded, for tables that record one).
struct PulledRow {
  std::vector<Value> key;
  ClockRow clock;
  int64_t db_version = 0;
  int seq = 0;
  bool app_row_exists = false;
  std::vector<Value> values;  // per value column; empty when the row is dead
  // False when a value of the app row has no mapping (a row capture
  // rejected): `values` then do not say what the row holds.
  bool app_values_map = true;
  // Tables that derive their rooms (RowRoom): what the pulled room's
  // clients see over the row's causal length, and whether the row entered
  // the room after the pull's start (it is then sent whole). db_version and
  // seq are the later of the clock's and the entry's.
  int64_t cl_offset = 0;
  bool entered = false;
};

// One consistent, read-only view for a pull.
class ShadowSnapshot {
 public:
  virtual ~ShadowSnapshot() = default;

  // The db_versions of `t`'s clocks after `after` (of `room`'s rows when
  // set and the table has a room column), ascending, at most `limit`.
  virtual Status VersionsAfter(const ResolvedTable& t, int64_t after, const std::optional<std::string>& room,
                               size_t limit, std::vector<int64_t>* versions) = 0;
  // The clock rows of `t` after `after` whose versions are `through` or
  // lower, in (db_version, seq) order, at most `limit`: their positions and
  // sizes.
  virtual Status RowSizes(const ResolvedTable& t, const PullPosition& after, int64_t through,
                          const std::optional<std::string>& room, size_t limit, std::vector<RowSize>* rows) = 0;
  // The clock rows of `t` after `after` and up to `through`, with the app
  // rows they clock.
  virtual Status RowsBetween(const ResolvedTable& t, const PullPosition& after, const PullPosition& through,
                             const std::optional<std::string>& room,
                             const std::function<Status(PulledRow row)>& found) = 0;
  // `room`'s exits of `t` (every room's when unset) after `after` and up
  // to `through`, in (db_version, seq) order, at most `limit`.
  virtual Status RoomExitsBetween(const ResolvedTable& t, const std::optional<std::string>& room,
                                  const PullPosition& after, const PullPosition& through, size_t limit,
                                  std::vector<RoomExit>* exits) = 0;
  // Tables that derive their rooms: the entries of `t`'s rows into any room
  // after `after` and up to `through`, in (db_version, seq) order, at most
  // `limit`.
  virtual Status RoomEntriesBetween(const ResolvedTable& t, const PullPosition& after, const PullPosition& through,
                                    size_t limit, std::vector<RowRoom>* entries) = 0;
  // Tables that derive their rooms: every room of `t`'s rows with packed
  // keys `keys`.
  virtual Status RowRoomsOf(const ResolvedTable& t, const std::vector<Blob>& keys, std::vector<RowRoom>* rooms) = 0;
  // The clock rows of `t` with packed keys `keys`, with the app rows they
  // clock.
  virtual Status RowsOfKeys(const ResolvedTable& t, const std::vector<Blob>& keys,
                            const std::function<Status(PulledRow row)>& found) = 0;
  // Every client site by ordinal.
  virtual Status Sites(std::map<int64_t, SiteId>* sites) = 0;
};

class ShadowStore {
 public:
  // Whether this store's transactions are marked as crbridge's, so that
  // capture skips them (the merge writer's are; capture's own need not be).
  enum class Marking { kCrbridge, kNone };

  virtual ~ShadowStore() = default;

  virtual const SiteId& site_id() const = 0;
  // The last db_version handed out by a committed transaction.
  virtual Status DbVersion(int64_t* version) = 0;
  // What the server keeps of `site` (an empty record for a site it never
  // heard of).
  virtual Status GetPeer(const SiteId& site, PeerRecord* peer) = 0;
  // Records that `site` announced schema `version` (PeerRecord).
  virtual Status SetPeerSchema(const SiteId& site, int64_t version) = 0;
  // Every client schema served, oldest first; the store records the one
  // its tables make when it opens.
  virtual Status ServedSchemas(std::vector<ServedSchema>* schemas) = 0;
  // Where capture stands (zero offset before the first recording).
  virtual Status CapturePosition(SourcePosition* position) = 0;
  // The source offset at which `t`'s rows were last read whole (its
  // snapshot), nullopt while they are to be read (never yet, or forgotten).
  virtual Status SnapshotPosition(const ResolvedTable& t, std::optional<int64_t>* offset) = 0;
  // `t` is to be read whole again (capture lost track of its table):
  // SnapshotPosition says nullopt from now on, durably, until a snapshot
  // of it is marked done.
  virtual Status ForgetSnapshot(const ResolvedTable& t) = 0;
  // The rows capture rejected that still stand, by table and key.
  virtual Status RejectedRows(std::vector<RejectedRow>* rows) = 0;

  using WriteFunction = std::function<Status(ShadowTransaction& tx, int64_t db_version)>;

  // Runs `write` in one transaction that holds the next db_version;
  // commits when it returns OK, rolls back otherwise. A concurrent Write
  // (from another store) waits until this one commits, so versions are
  // handed out in commit order. Unavailable when the connection is lost
  // (the write is then not applied, or applied whole if the commit got
  // through); the next call connects again. Aborted (nothing applied) when
  // it raced an app transaction, or MappingsChanged (clock_columns.h) once
  // another store changed the clock columns since this one opened.
  Status Write(const WriteFunction& write) { return Write({}, write); }
  // The same for a write that touches the app tables `app_tables` (a
  // merge): the transaction takes their table locks (those its writes
  // take) before the version counter. A write waiting for the app, behind
  // an app DDL that waits for a long reader, must not hold the counter
  // meanwhile: the reader may be capture's snapshot, whose next batch
  // needs it, and the three would wait for each other for ever, partly
  // inside crbridge, where the database's deadlock detection cannot see.
  virtual Status Write(const std::vector<const ResolvedTable*>& app_tables, const WriteFunction& write) = 0;
  // Runs `read` on one consistent snapshot. Unavailable when the
  // connection is lost; the next call connects again. MappingsChanged
  // (clock_columns.h), with nothing read, once another store changed the
  // clock columns since this one opened: a pull with the old columns would
  // leave the new ones out for good.
  virtual Status Read(const std::function<Status(ShadowSnapshot& snapshot)>& read) = 0;

  // With Kafka, every write also logs the changes it records, in the same
  // transaction (ShadowTransaction::LogChanges).
  void set_logs_changes(bool logs) { logs_changes_ = logs; }
  bool logs_changes() const { return logs_changes_; }

 private:
  bool logs_changes_ = false;
};

}  // namespace crbridge
