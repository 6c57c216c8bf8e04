// PostgresClockStore: crbridge's shadow tables in a Postgres database (the
// metadata schema of docs/server-side.md): the server's site id, the
// db_version counter, the clock table of each mapped table and the tracked
// versions of client sites, created and upgraded by Open. Writes go through
// Write, one transaction each, which holds the next db_version (handed out
// in commit order). The store that writes app tables (the merge writer) is
// marked with crbridge's replication origin so that capture recognises its
// transactions; Postgres lets one session at a time use an origin, so there
// is one such writer per database. Not thread-safe: one store per thread
// (each has its own connection).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "crbridge/mappings/resolved_table.h"
#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

// How far the server has applied a client site's changes (vlcn "last seen").
struct PeerVersion {
  int64_t version = 0;
  int64_t seq = 0;
};

class PostgresClockStore {
 public:
  // Whether this store's transactions carry crbridge's replication origin.
  enum class Marking { kOrigin, kNone };

  // The shadow schema's current version; Open upgrades older ones.
  static constexpr int kSchemaVersion = 3;

  // Connects to `url`, creates or upgrades the metadata schema
  // `metadata_schema` and the clock table of each of `tables` (idempotent),
  // creates the replication origin (and with kOrigin takes it for this
  // connection), and loads the server's site id (made once, on first open).
  // Unavailable when the database cannot be reached; InvalidArgument when a
  // table's mapping no longer matches its clock table, or another session
  // already holds the origin.
  static Status Open(const std::string& url, const std::string& metadata_schema,
                     const std::vector<ResolvedTable>& tables, Marking marking,
                     std::unique_ptr<PostgresClockStore>* store);

  const SiteId& site_id() const { return site_id_; }
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

  // The last db_version handed out by a committed transaction.
  Status DbVersion(int64_t* version);

  // Runs `write` in one transaction that holds the next db_version; commits
  // when it returns OK, rolls back otherwise. A concurrent Write (from
  // another store) waits until this one commits, so versions are handed out
  // in commit order. Unavailable when the connection is lost (the write is
  // then not applied, or applied whole if the commit got through); the
  // next call connects again. Aborted (nothing applied) when it raced an
  // app transaction: a key it found free was taken, or a deadlock.
  Status Write(const std::function<Status(pqxx::work& tx, int64_t db_version)>& write);

  // The tracked version of `site` (0, 0 when none), and its update, inside
  // a Write so that it commits with the changes it covers.
  Status GetPeerVersion(const SiteId& site, PeerVersion* version);
  void SetPeerVersion(pqxx::work& tx, const SiteId& site, const PeerVersion& version);

  // The end of the last source transaction whose changes capture recorded
  // (0 before the first).
  Status CapturePosition(int64_t* position);

  // With Kafka, every write also logs the changes it records, in the same
  // transaction, for the Kafka sink (MetadataTable("change_events")).
  void set_logs_changes(bool logs) { logs_changes_ = logs; }
  bool logs_changes() const { return logs_changes_; }

  // The clock table of a mapped table, and a table of the metadata schema,
  // quoted and qualified.
  std::string ClockTable(const std::string& client_table) const;
  std::string MetadataTable(const std::string& name) const;

 private:
  PostgresClockStore(std::string url, std::unique_ptr<pqxx::connection> conn, std::string schema, Marking marking);
  Status Migrate(const std::vector<ResolvedTable>& tables);
  Status TakeOrigin();
  // A one-row, one-column query's bigint.
  Status ReadCounter(const std::string& query, int64_t* value);
  // After a lost connection: connects again (and takes the origin again).
  Status Reconnect();

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
  std::string schema_;
  Marking marking_;
  std::string origin_;
  SiteId site_id_{};
  bool logs_changes_ = false;
};

}  // namespace crbridge
