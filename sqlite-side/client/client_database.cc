#include "crbridge/sqlite/client_database.h"

#include <sqlite3.h>

#include <algorithm>

#include "crbridge/sqlite/schema_version.h"
#include "schema_migration.h"

namespace crbridge {
namespace {

// How long a statement waits for another process's lock on the file.
constexpr int kBusyTimeoutMs = 10000;

struct StatementDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Status Prepare(sqlite3* db, const std::string& sql, StatementPtr* stmt) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Status::InvalidArgument(sqlite3_errmsg(db));
  }
  stmt->reset(raw);
  return Status::OK();
}

Status StepError(sqlite3* db) { return Status::IOError(sqlite3_errmsg(db)); }

std::optional<SiteId> SiteFrom(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) != SQLITE_BLOB || sqlite3_column_bytes(stmt, column) != 16) return std::nullopt;
  SiteId site;
  const auto* bytes = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, column));
  std::copy(bytes, bytes + site.size(), site.begin());
  return site;
}

}  // namespace

Status ClientDatabase::Open(const std::string& path, std::unique_ptr<ClientDatabase>* db) {
  std::unique_ptr<CrrDatabase> crr;
  CRBRIDGE_RETURN_IF_ERROR(CrrDatabase::Open(path, &crr, kBusyTimeoutMs));
  db->reset(new ClientDatabase(std::move(crr)));
  return Status::OK();
}

Status ClientDatabase::GetSchema(ClientSchema* schema) {
  StatementPtr select;
  CRBRIDGE_RETURN_IF_ERROR(Prepare(
      crr_->handle(), "SELECT key, value FROM crsql_master WHERE key IN ('schema_name', 'schema_version')", &select));
  bool has_name = false;
  bool has_version = false;
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 0));
    if (key == "schema_name") {
      schema->name = reinterpret_cast<const char*>(sqlite3_column_text(select.get(), 1));
      has_name = true;
    } else {
      schema->version = sqlite3_column_int64(select.get(), 1);
      has_version = true;
    }
  }
  if (rc != SQLITE_DONE) return StepError(crr_->handle());
  if (!has_name || !has_version) return Status::NotFound("the database has no schema yet (run crbridge-client init)");
  return Status::OK();
}

Status ClientDatabase::Init(const std::string& name, const std::string& schema_text, bool* applied) {
  return ApplySchema(name, schema_text, false, applied);
}

Status ClientDatabase::Migrate(const std::string& name, const std::string& schema_text, bool* applied) {
  return ApplySchema(name, schema_text, true, applied);
}

Status ClientDatabase::ApplySchema(const std::string& name, const std::string& schema_text, bool migrate,
                                   bool* applied) {
  *applied = false;
  const int64_t version = SchemaVersion(schema_text);
  ClientSchema existing;
  const Status found = GetSchema(&existing);
  if (found.ok()) {
    if (existing.name == name && existing.version == version) return Status::OK();
    if (!migrate || existing.name != name) {
      return Status::InvalidArgument("the database already has schema \"" + existing.name + "\" version " +
                                     std::to_string(existing.version) + ", not \"" + name + "\" version " +
                                     std::to_string(version) +
                                     (existing.name != name ? "; a schema keeps its name across versions"
                                                            : "; run crbridge-client migrate to move to it"));
    }
  } else if (found.code() != Status::Code::kNotFound) {
    return found;
  }
  CRBRIDGE_RETURN_IF_ERROR(crr_->Exec("SAVEPOINT crbridge_client_schema"));
  Status s = found.ok() ? MigrateSchema(*crr_, schema_text) : crr_->Exec(schema_text);
  if (s.ok()) {
    StatementPtr record;
    s = Prepare(crr_->handle(),
                "INSERT OR REPLACE INTO crsql_master (key, value) VALUES ('schema_name', ?1), ('schema_version', ?2)",
                &record);
    if (s.ok()) {
      sqlite3_bind_text(record.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(record.get(), 2, version);
      if (sqlite3_step(record.get()) != SQLITE_DONE) s = StepError(crr_->handle());
    }
  }
  if (!s.ok()) {
    (void)crr_->Exec("ROLLBACK TO crbridge_client_schema; RELEASE crbridge_client_schema");
    return s;
  }
  CRBRIDGE_RETURN_IF_ERROR(crr_->Exec("RELEASE crbridge_client_schema"));
  *applied = true;
  return Status::OK();
}

Status ClientDatabase::Exec(const std::string& sql, const RowCallback& row) {
  sqlite3* db = crr_->handle();
  const char* rest = sql.c_str();
  while (*rest != '\0') {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db, rest, -1, &raw, &tail) != SQLITE_OK) return Status::InvalidArgument(sqlite3_errmsg(db));
    rest = tail;
    if (raw == nullptr) continue;  // whitespace or a comment
    const StatementPtr stmt(raw);
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      std::vector<std::optional<std::string>> values;
      for (int i = 0; i < sqlite3_column_count(raw); ++i) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, i));
        if (text == nullptr) {
          values.emplace_back(std::nullopt);
        } else {
          values.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(raw, i))));
        }
      }
      row(values);
    }
    if (rc != SQLITE_DONE) return Status::InvalidArgument(sqlite3_errmsg(db));
  }
  return Status::OK();
}

Status ClientDatabase::DataVersion(int64_t* version) {
  StatementPtr select;
  CRBRIDGE_RETURN_IF_ERROR(Prepare(crr_->handle(), "PRAGMA data_version", &select));
  if (sqlite3_step(select.get()) != SQLITE_ROW) return StepError(crr_->handle());
  *version = sqlite3_column_int64(select.get(), 0);
  return Status::OK();
}

Status ClientDatabase::LastSeens(std::vector<crbridge::LastSeen>* seens) {
  seens->clear();
  StatementPtr select;
  CRBRIDGE_RETURN_IF_ERROR(Prepare(
      crr_->handle(), "SELECT site_id, version, seq FROM crsql_tracked_peers WHERE event = 0 AND tag = 0", &select));
  int rc;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    const std::optional<SiteId> site = SiteFrom(select.get(), 0);
    if (!site) continue;  // not a peer of the vlcn protocol
    seens->push_back({*site, {sqlite3_column_int64(select.get(), 1), sqlite3_column_int64(select.get(), 2)}});
  }
  return rc == SQLITE_DONE ? Status::OK() : StepError(crr_->handle());
}

Status ClientDatabase::LastSeen(const SiteId& peer, StreamPosition* position) {
  PeerProgress progress;
  CRBRIDGE_RETURN_IF_ERROR(crr_->GetPeerProgress(peer, &progress));
  *position = {progress.version, progress.seq};
  return Status::OK();
}

Status ClientDatabase::OwnChangesAfter(const StreamPosition& after, size_t limit, Changeset* changes) {
  CRBRIDGE_RETURN_IF_ERROR(crr_->ChangesOfSiteAfter(crr_->site_id(), after.version, after.seq, limit, changes));
  for (Change& change : *changes) change.site_id.reset();
  return Status::OK();
}

Status ClientDatabase::ApplyFrom(const SiteId& sender, Changeset changes) {
  if (changes.empty()) return Status::OK();
  for (Change& change : changes) change.site_id = sender;
  const int64_t through = changes.back().db_version;
  return crr_->ApplyChanges(changes, PeerProgress{sender, through, 0});
}

}  // namespace crbridge
