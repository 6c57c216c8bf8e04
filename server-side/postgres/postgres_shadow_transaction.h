// The statements of one PostgresShadowStore write and of one pull's
// snapshot, on a libpqxx transaction the store opened. Internal to
// server-side; each lives as long as its transaction, on its thread.
#pragma once

#include <pqxx/pqxx>

#include <functional>
#include <string>

#include "crbridge/server/postgres/postgres_shadow_store.h"
#include "crbridge/server/core/shadow_store.h"

namespace crbridge::postgres {

class PostgresShadowTransaction : public ShadowTransaction {
 public:
  PostgresShadowTransaction(pqxx::work& tx, const PostgresShadowStore& store) : tx_(tx), store_(store) {}

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
  // Runs `statement`, a write of app rows of `t`; a value the server
  // refuses (a data exception) is InvalidArgument naming the table.
  Status WriteAppRows(const ResolvedTable& t, const std::function<void()>& statement);
  // Calls `stored` with each row of `rows`: the key columns, then `columns`.
  static Status ReadBack(const ResolvedTable& t, const std::vector<size_t>& columns, const pqxx::result& rows,
                         const AppRowCallback& stored);

  pqxx::work& tx_;
  const PostgresShadowStore& store_;
};

class PostgresShadowSnapshot : public ShadowSnapshot {
 public:
  PostgresShadowSnapshot(pqxx::transaction_base& tx, const PostgresShadowStore& store) : tx_(tx), store_(store) {}

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
  // entered it, or constants) follows the clock in the select list.
  Status SelectPulledRows(const ResolvedTable& t, const std::string& clocks, const std::string& extra,
                          const std::string& where, const std::vector<ServerParameter>& params,
                          const std::function<Status(PulledRow row)>& found);

  pqxx::transaction_base& tx_;
  const PostgresShadowStore& store_;
};

}  // namespace crbridge::postgres
