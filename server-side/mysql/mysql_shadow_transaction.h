// The statements of one MysqlShadowStore write (MysqlShadowTransaction) and
// of one pull's snapshot (MysqlShadowSnapshot), on a session whose
// transaction the store opened; and the shadow schema they work on
// (MysqlShadowNames, MigrateShadowSchema). Internal to server-side;
// each object lives as long as its transaction, on its thread.
#pragma once

#include <string>
#include <vector>

#include "crbridge/server/core/mapping_changes.h"
#include "crbridge/server/core/shadow_store.h"
#include "mysql_session.h"

namespace crbridge::mysql {

// The quoted names of the metadata database's tables.
class MysqlShadowNames {
 public:
  explicit MysqlShadowNames(std::string database) : database_(std::move(database)) {}

  const std::string& database() const { return database_; }
  // `<database>`.`<name>`
  std::string Table(const std::string& name) const;
  // The clock table of `t`: `<database>`.`<client name>__clock`.
  std::string ClockTable(const ResolvedTable& t) const;
  // The rooms table (RowRoom) of `t`, a table that derives its rooms:
  // `<database>`.`<client name>__rooms`.
  std::string RoomsTable(const ResolvedTable& t) const;

 private:
  std::string database_;
};

// The version of the shadow schema MigrateShadowSchema creates.
inline constexpr int kShadowSchemaVersion = 6;

// Creates what is missing of the metadata database and of the clock table
// of each of `tables` (idempotent, under a named lock: two crbridge
// processes may start at once) and reads the server's site id, made on
// first use. InvalidArgument when a table's mapping no longer matches its
// clock table, or the schema is newer than this crbridge. Throws
// sql::SQLException.
Status MigrateShadowSchema(MysqlSession& session, const MysqlShadowNames& names,
                                const std::vector<ResolvedTable>& tables, SiteId* site_id);

// The rejected rows the metadata database `database` keeps; none when it
// has no such table yet. `query` runs a statement without parameters.
// Throws sql::SQLException.
// The mapped tables `database` records (SourceDatabase::RecordedTables),
// read with `query`.
Status ReadRecordedTables(const std::function<std::unique_ptr<sql::ResultSet>(const std::string& sql)>& query,
                          const std::string& database, std::vector<RecordedTable>* tables);
Status ReadRejectedRows(const std::function<std::unique_ptr<sql::ResultSet>(const std::string& sql)>& query,
                        const std::string& database, std::vector<RejectedRow>* rows);

class MysqlShadowTransaction final : public ShadowTransaction {
 public:
  MysqlShadowTransaction(MysqlSession& session, const MysqlShadowNames& names) : session_(session), names_(names) {}

  Status ReadClocks(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                    const std::function<Status(const Blob& key, ClockRow clock)>& found) override;
  Status WriteClocks(const ResolvedTable& t, const std::vector<ClockWrite>& writes) override;
  Status ReadRoomExits(const ResolvedTable& t, const std::vector<Blob>& keys, std::vector<RoomExit>* exits) override;
  Status WriteRoomExits(const ResolvedTable& t, const std::vector<RoomExit>& left,
                        const std::vector<RoomExit>& entered) override;
  Status ReadRowRooms(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                      std::vector<RowRoom>* rooms) override;
  Status WriteRowRooms(const ResolvedTable& t, const std::vector<RowRoom>& entered,
                       const std::vector<RowRoom>& left) override;
  Status ReadClocksInRooms(const ResolvedTable& t, const std::vector<std::string>& rooms,
                           const std::function<Status(const Blob& key, ClockRow clock)>& found) override;
  Status ReadMemberships(const std::string& source, const std::vector<std::string>& keys, bool by_key,
                         std::vector<Membership>* memberships) override;
  Status WriteMemberships(const std::string& source, const std::vector<Membership>& stored,
                          const std::vector<Blob>& removed) override;
  Status KillLiveClocks(const ResolvedTable& t, Kill which, int64_t position, int64_t db_version, int seq,
                        bool report_dead, const std::function<Status(std::vector<Value> key, int64_t cl)>& dead,
                        size_t* killed) override;
  Status LockAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                     const AppRowCallback& found) override;
  Status AppPosition(int64_t* offset) override;
  Status DeleteAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys) override;
  Status InsertAppRows(const ResolvedTable& t, const std::vector<size_t>& columns, const std::vector<AppRowWrite>& rows,
                       const AppRowCallback& stored) override;
  Status UpdateAppRows(const ResolvedTable& t, const std::vector<size_t>& columns, const std::vector<AppRowWrite>& rows,
                       const AppRowCallback& stored) override;
  Status SiteOrdinal(const SiteId& site, int* ordinal) override;
  Status SetPeerVersion(const SiteId& site, const PeerVersion& version,
                        const std::optional<std::string>& owner) override;
  Status SetCapturePosition(const SourcePosition& position) override;
  Status MarkSnapshotDone(const ResolvedTable& t, int64_t offset) override;
  Status RecordRejectedRows(const std::vector<RejectedRow>& rows) override;
  Status ClearRejectedRows(const std::string& table, const std::vector<Blob>& keys) override;
  Status LogChanges(const ResolvedTable& t, int64_t db_version, const ChangeOrigin& origin,
                    const std::vector<LoggedChange>& changes) override;

 private:
  // Reads `columns` of the app rows of `keys` (with FOR UPDATE when
  // `lock`), in key order, and calls `found` with each.
  Status SelectAppRows(const ResolvedTable& t, const std::vector<const KeyParameters*>& keys,
                       const std::vector<size_t>& columns, bool lock, const AppRowCallback& found);

  MysqlSession& session_;
  const MysqlShadowNames& names_;
};

class MysqlShadowSnapshot final : public ShadowSnapshot {
 public:
  MysqlShadowSnapshot(MysqlSession& session, const MysqlShadowNames& names) : session_(session), names_(names) {}

  Status VersionsAfter(const ResolvedTable& t, int64_t after, const std::optional<std::string>& room, size_t limit,
                       std::vector<int64_t>* versions) override;
  Status RowSizes(const ResolvedTable& t, const PullPosition& after, int64_t through,
                  const std::optional<std::string>& room, size_t limit, std::vector<RowSize>* sizes) override;
  Status RowsBetween(const ResolvedTable& t, const PullPosition& after, const PullPosition& through,
                     const std::optional<std::string>& room, const std::function<Status(PulledRow row)>& found) override;
  Status RoomExitsBetween(const ResolvedTable& t, const std::optional<std::string>& room, const PullPosition& after,
                          const PullPosition& through, size_t limit, std::vector<RoomExit>* exits) override;
  Status RoomEntriesBetween(const ResolvedTable& t, const PullPosition& after, const PullPosition& through,
                            size_t limit, std::vector<RowRoom>* entries) override;
  Status RowRoomsOf(const ResolvedTable& t, const std::vector<Blob>& keys, std::vector<RowRoom>* rooms) override;
  Status RowsOfKeys(const ResolvedTable& t, const std::vector<Blob>& keys,
                    const std::function<Status(PulledRow row)>& found) override;
  Status Sites(std::map<int64_t, SiteId>* sites) override;

 private:
  // The clock rows (alias c, from `clocks`) with their app rows (alias t)
  // that `where` selects; `extra` (a room's offset and whether the row
  // entered it, or constants) follows the clock in the select list. `bind`
  // binds the parameters of all three, in that order.
  Status SelectPulledRows(const ResolvedTable& t, const std::string& clocks, const std::string& extra,
                          const std::string& where, const std::function<void(MysqlBinder&)>& bind,
                          const std::function<Status(PulledRow row)>& found);

  MysqlSession& session_;
  const MysqlShadowNames& names_;
};

}  // namespace crbridge::mysql
