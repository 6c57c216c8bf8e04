// PostgresShadowStore: the ShadowStore of a Postgres database (the metadata
// schema of docs/server-side.md). Batches travel as one text[] parameter per
// column, so a statement's count does not grow with the batch. The store
// that writes app tables (the merge writer) is marked with crbridge's
// replication origin so that capture recognises its transactions; Postgres
// lets one session at a time use an origin, so there is one such writer per
// database. Not thread-safe: one store per thread (each has its own
// connections: one for writes, one for pulls).
#pragma once

#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/server/core/shadow_store.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::postgres {

class PostgresShadowStore : public ShadowStore {
 public:
  // The shadow schema's current version; Open upgrades older ones.
  static constexpr int kSchemaVersion = 9;

  // Connects to `url`, creates or upgrades the metadata schema
  // `metadata_schema` and the clock table of each of `tables` (idempotent),
  // creates the replication origin (and with kCrbridge takes it for this
  // connection), and loads the server's site id (made once, on first open).
  // Unavailable when the database cannot be reached; InvalidArgument when a
  // table's mapping no longer matches its clock table, or another session
  // already holds the origin.
  static Status Open(const std::string& url, const std::string& metadata_schema,
                     const std::vector<ResolvedTable>& tables, Marking marking,
                     std::unique_ptr<PostgresShadowStore>* store);

  // The session settings of every crbridge connection to Postgres: the text
  // forms the type mapping reads (mappings/type_mapping.h), and no JIT:
  // crbridge's statements are short, and the plans its writes turn off
  // cost enough to trigger 50 ms of compiling for a one-row update.
  static constexpr const char* kSessionSettings =
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; SET bytea_output = 'hex'; "
      "SET IntervalStyle = 'postgres'; SET jit = off";

  // The replication origin that marks crbridge's transactions:
  // "crbridge:<database>.<metadata schema>" (origins are cluster-wide).
  const std::string& origin() const { return origin_; }
  static std::string OriginName(const std::string& database, const std::string& metadata_schema);

  // The rejected rows of the metadata schema `metadata_schema`, read in
  // `tx`; none when the schema has no such table yet. Throws what
  // libpqxx throws.
  static Status ReadRejectedRows(pqxx::transaction_base& tx, const std::string& metadata_schema,
                                 std::vector<RejectedRow>* rows);

  // The clock table of a mapped table, and a table of the metadata schema,
  // quoted and qualified.
  std::string ClockTable(const std::string& client_table) const;
  std::string MetadataTable(const std::string& name) const;
  // The rooms table (RowRoom) of a table that derives its rooms.
  std::string RoomsTable(const std::string& client_table) const;

  const SiteId& site_id() const override { return site_id_; }
  Status DbVersion(int64_t* version) override;
  Status GetPeer(const SiteId& site, PeerRecord* peer) override;
  Status SetPeerSchema(const SiteId& site, int64_t version) override;
  Status ServedSchemas(std::vector<ServedSchema>* schemas) override;
  Status CapturePosition(SourcePosition* position) override;
  Status SnapshotPosition(const ResolvedTable& t, std::optional<int64_t>* offset) override;
  Status ForgetSnapshot(const ResolvedTable& t) override;
  Status RejectedRows(std::vector<RejectedRow>* rows) override;
  using ShadowStore::Write;
  Status Write(const std::vector<const ResolvedTable*>& app_tables, const WriteFunction& write) override;
  Status Read(const std::function<Status(ShadowSnapshot& snapshot)>& read) override;

 private:
  PostgresShadowStore(std::string url, std::unique_ptr<pqxx::connection> conn, std::string schema, Marking marking);
  Status Migrate(const std::vector<ResolvedTable>& tables);
  // Makes `table`'s clock table, or carries its clocks over to a changed
  // mapping (ClockColumns).
  Status MigrateClockTable(pqxx::work& tx, const ResolvedTable& table);
  Status TakeOrigin();
  // A one-row, one-column query's bigint.
  Status ReadCounter(const std::string& query, int64_t* value);
  // After a lost connection: connects again (and takes the origin again).
  Status Reconnect();

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::connection> reader_;
  std::string schema_;
  Marking marking_;
  std::string origin_;
  SiteId site_id_{};
  int64_t mappings_ = 0;  // the clock row's count of mapping changes when this store opened
};

}  // namespace crbridge::postgres
