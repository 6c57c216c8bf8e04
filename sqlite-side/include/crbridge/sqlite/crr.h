// crbridge's native CRR layer for SQLite: cr-sqlite's replication model
// without the Rust extension, with cr-sqlite's public SQL surface:
//   SELECT crsql_as_crr('table');         -- make a table replicated
//   SELECT * FROM crsql_changes WHERE db_version > ?;   -- changes to send
//   INSERT INTO crsql_changes VALUES (...);             -- merge received ones
//   crsql_site_id(), crsql_db_version(), crsql_pack_columns(...),
//   crsql_tracked_peers, crsql_finalize()
// The same code is the loadable extension crbridge_crr (.load crbridge_crr).
//
// RegisterCrr attaches the layer to a connection. A CrrDatabase owns a
// connection with the layer attached. Like a SQLite connection, neither may
// be used from two threads at once.
#pragma once

#include <memory>
#include <string>

#include "crbridge/sqlite/change.h"
#include "crbridge/sqlite/status.h"

struct sqlite3;

namespace crbridge {

class CrrContext;

// Registers the CRR functions on `db` and creates the crsql_ metadata
// tables when missing. The state lives until the connection closes.
// Takes over the connection's commit and rollback hooks.
Status RegisterCrr(sqlite3* db);

// How far this database has received a peer's changes: through `version`,
// change `seq` (the vlcn protocol's "last seen" position).
struct PeerProgress {
  SiteId site{};
  int64_t version = 0;
  int64_t seq = 0;
};

class CrrDatabase {
 public:
  // Opens (creating if needed) the SQLite database at `path` (":memory:"
  // for a private one) with the CRR layer attached. With `busy_timeout_ms`,
  // statements (attaching the layer's tables included) wait that long for
  // another connection's lock on the file before failing.
  static Status Open(const std::string& path, std::unique_ptr<CrrDatabase>* db, int busy_timeout_ms = 0);
  ~CrrDatabase();
  CrrDatabase(const CrrDatabase&) = delete;
  CrrDatabase& operator=(const CrrDatabase&) = delete;

  sqlite3* handle() const { return db_; }

  // Runs SQL statements that return no rows.
  Status Exec(const std::string& sql);
  Status MakeCrr(const std::string& table);

  SiteId site_id() const;
  // Gives the database a new random site id, under which its own past
  // writes then count. For a file restored from an older copy: peers have
  // seen versions from its old id that the copy never made, and would
  // ignore new writes that reuse them.
  Status RenewSiteId();
  Status DbVersion(int64_t* version);

  // Changes recorded after `db_version`, in db_version then seq order;
  // with `exclude`, without those written by that site.
  Status ChangesSince(int64_t db_version, const std::optional<SiteId>& exclude, Changeset* changes);
  // At most `limit` changes written by `site` after change `seq` of
  // `db_version`, in db_version then seq order: a sync stream's next batch.
  Status ChangesOfSiteAfter(const SiteId& site, int64_t db_version, int64_t seq, size_t limit, Changeset* changes);
  // Merges `changes` in one transaction; on error nothing is applied. With
  // `progress`, the peer's position in crsql_tracked_peers advances in the
  // same transaction (never backwards), so a crash cannot separate the two.
  Status ApplyChanges(const Changeset& changes, const std::optional<PeerProgress>& progress = std::nullopt);
  // The recorded position of `site`, or {site, 0, 0} when none is.
  Status GetPeerProgress(const SiteId& site, PeerProgress* progress);

 private:
  explicit CrrDatabase(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  CrrContext* context_ = nullptr;  // the layer on db_, owned by the connection
};

}  // namespace crbridge
