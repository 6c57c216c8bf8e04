#include <algorithm>
#include <cstdint>

#include "crbridge/sqlite/crr.h"
#include "crr_context.h"
#include "statement.h"

namespace crbridge {

Status CrrDatabase::Open(const std::string& path, std::unique_ptr<CrrDatabase>* db, int busy_timeout_ms) {
  sqlite3* handle = nullptr;
  // One thread at a time (the class contract): SQLite's own mutex would
  // only cost every call.
  const int rc =
      sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<CrrDatabase> owned(new CrrDatabase(handle));
  if (rc != SQLITE_OK) return Status::IOError(path + ": " + sqlite3_errmsg(handle));
  if (busy_timeout_ms > 0) sqlite3_busy_timeout(handle, busy_timeout_ms);
  CRBRIDGE_RETURN_IF_ERROR(RegisterCrr(handle, &owned->context_));
  *db = std::move(owned);
  return Status::OK();
}

CrrDatabase::~CrrDatabase() {
  (void)Exec("SELECT crsql_finalize()");
  sqlite3_close(db_);
}

Status CrrDatabase::Exec(const std::string& sql) { return ExecSql(db_, sql); }

Status CrrDatabase::MakeCrr(const std::string& table) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db_, "SELECT crsql_as_crr(?)", &select));
  select.BindText(1, table);
  return select.Run();
}

SiteId CrrDatabase::site_id() const {
  SiteId site{};
  Statement select;
  Status status = Statement::Prepare(db_, "SELECT crsql_site_id()", &select);
  if (status.ok() && select.Step(&status)) {
    const Value value = select.Column(0);
    std::copy(value.blob().begin(), value.blob().end(), site.begin());
  }
  return site;
}

Status CrrDatabase::RenewSiteId() { return Exec("SELECT crsql_internal_renew_site_id()"); }

Status CrrDatabase::DbVersion(int64_t* version) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db_, "SELECT crsql_db_version()", &select));
  Status status;
  if (select.Step(&status)) *version = select.ColumnInt(0);
  return status;
}

Status CrrDatabase::GetPeerProgress(const SiteId& site, PeerProgress* progress) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(
      db_, "SELECT version, seq FROM crsql_tracked_peers WHERE site_id = ? AND event = 0 AND tag = 0", &select));
  select.BindBlob(1, site.data(), site.size());
  *progress = PeerProgress{site, 0, 0};
  Status status;
  if (select.Step(&status)) {
    progress->version = select.ColumnInt(0);
    progress->seq = select.ColumnInt(1);
  }
  return status;
}

namespace {

constexpr const char* kSelectChanges =
    "SELECT \"table\", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes ";

// The changes `select` returns, its columns those of kSelectChanges.
Status ReadChanges(Statement& select, Changeset* changes) {
  Changeset result;
  Status status;
  while (select.Step(&status)) {
    Change c;
    c.table = select.Column(0).text();
    c.pk = select.Column(1).blob();
    c.cid = select.Column(2).text();
    c.val = select.Column(3);
    c.col_version = select.ColumnInt(4);
    c.db_version = select.ColumnInt(5);
    c.site_id = SiteIdFromValue(select.Column(6));
    c.cl = select.ColumnInt(7);
    c.seq = select.ColumnInt(8);
    result.push_back(std::move(c));
  }
  CRBRIDGE_RETURN_IF_ERROR(status);
  *changes = std::move(result);
  return Status::OK();
}

}  // namespace

Status CrrDatabase::ChangesSince(int64_t db_version, const std::optional<SiteId>& exclude, Changeset* changes) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(
      db_, std::string(kSelectChanges) + "WHERE db_version > ?1 AND site_id IS NOT ?2 ORDER BY db_version, seq",
      &select));
  select.BindInt(1, db_version);
  if (exclude) select.BindBlob(2, exclude->data(), exclude->size());
  return ReadChanges(select, changes);
}

Status CrrDatabase::ChangesOfSiteAfter(const SiteId& site, int64_t db_version, int64_t seq, size_t limit,
                                       Changeset* changes) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db_,
                         std::string(kSelectChanges) + "WHERE (db_version > ?1 OR (db_version = ?1 AND seq > ?2)) AND "
                                                       "site_id = ?3 ORDER BY db_version, seq LIMIT ?4",
                         &select));
  select.BindInt(1, db_version);
  select.BindInt(2, seq);
  select.BindBlob(3, site.data(), site.size());
  select.BindInt(4, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  return ReadChanges(select, changes);
}

Status CrrDatabase::ApplyChanges(const Changeset& changes, const std::optional<PeerProgress>& progress) {
  CRBRIDGE_RETURN_IF_ERROR(Exec("SAVEPOINT crbridge_apply"));
  Status status = context_->MergeChanges(changes);
  if (status.ok() && progress) {
    // The same statement the vlcn sync client runs.
    Statement track;
    status = Statement::Prepare(
        db_,
        "INSERT INTO crsql_tracked_peers (site_id, event, version, seq, tag) VALUES (?1, 0, ?2, ?3, 0) "
        "ON CONFLICT DO UPDATE SET version = MAX(version, excluded.version), "
        "seq = CASE version > excluded.version WHEN 1 THEN seq ELSE excluded.seq END",
        &track);
    if (status.ok()) {
      track.BindBlob(1, progress->site.data(), progress->site.size());
      track.BindInt(2, progress->version);
      track.BindInt(3, progress->seq);
      status = track.Run();
    }
  }
  if (!status.ok()) {
    (void)Exec("ROLLBACK TO crbridge_apply; RELEASE crbridge_apply");
    return status;
  }
  return Exec("RELEASE crbridge_apply");
}

}  // namespace crbridge
