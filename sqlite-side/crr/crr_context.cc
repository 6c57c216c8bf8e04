#include "crr_context.h"

#include <algorithm>

#include "crbridge/sqlite/packed_pk.h"

namespace crbridge {
namespace {

constexpr const char* kMetadataDdl =
    "CREATE TABLE IF NOT EXISTS crsql_site_id (site_id BLOB NOT NULL, ordinal INTEGER PRIMARY KEY);\n"
    "CREATE UNIQUE INDEX IF NOT EXISTS crsql_site_id_site_id ON crsql_site_id (site_id);\n"
    "CREATE TABLE IF NOT EXISTS crsql_tracked_peers (\"site_id\" BLOB NOT NULL, \"version\" INTEGER NOT NULL, "
    "\"seq\" INTEGER DEFAULT 0, \"tag\" INTEGER, \"event\" INTEGER, PRIMARY KEY (\"site_id\", \"tag\", \"event\")) "
    "STRICT;\n"
    "CREATE TABLE IF NOT EXISTS crsql_master (\"key\" TEXT PRIMARY KEY, \"value\" ANY);\n"
    // Earlier crbridge versions made crsql_changes a view; the virtual
    // table (changes_vtab.h) takes its place.
    "DROP VIEW IF EXISTS crsql_changes;\n";

// crsql_master keys: one row per CRR table, so reopened connections know
// them, and cr-sqlite's settings ("config.merge-equal-values").
constexpr const char* kCrrTablePrefix = "crr_table:";
constexpr const char* kConfigPrefix = "config.";
constexpr const char* kMergeEqualValues = "merge-equal-values";

}  // namespace

Status CrrContext::Open(sqlite3* db, std::unique_ptr<CrrContext>* out) {
  std::unique_ptr<CrrContext> context(new CrrContext(db));
  CRBRIDGE_RETURN_IF_ERROR(ExecSql(db, kMetadataDdl));
  CRBRIDGE_RETURN_IF_ERROR(context->LoadSiteId());
  CRBRIDGE_RETURN_IF_ERROR(context->LoadTables());
  CRBRIDGE_RETURN_IF_ERROR(context->LoadConfig());
  *out = std::move(context);
  return Status::OK();
}

Status CrrContext::LoadSiteId() {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db_, "SELECT site_id FROM crsql_site_id WHERE ordinal = 0", &select));
  Status status;
  if (select.Step(&status)) {
    const Value stored = select.Column(0);
    if (stored.storage_class() != StorageClass::kBlob || stored.blob().size() != site_id_.size()) {
      return Status::Corruption("crsql_site_id: the local site id is not a 16-byte blob");
    }
    std::copy(stored.blob().begin(), stored.blob().end(), site_id_.begin());
    return Status::OK();
  }
  CRBRIDGE_RETURN_IF_ERROR(status);
  site_id_ = RandomSiteId();
  Statement insert;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db_, "INSERT INTO crsql_site_id (site_id, ordinal) VALUES (?, 0)", &insert));
  insert.BindBlob(1, site_id_.data(), site_id_.size());
  return insert.Run();
}

Status CrrContext::RenewSiteId() {
  const SiteId renewed = RandomSiteId();
  Statement update;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db_, "UPDATE crsql_site_id SET site_id = ? WHERE ordinal = 0", &update));
  update.BindBlob(1, renewed.data(), renewed.size());
  CRBRIDGE_RETURN_IF_ERROR(update.Run());
  site_id_ = renewed;
  return Status::OK();
}

Status CrrContext::LoadTables() {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db_, "SELECT value FROM crsql_master WHERE key LIKE 'crr_table:%' ORDER BY key", &select));
  Status status;
  while (select.Step(&status)) {
    CrrTable table;
    CRBRIDGE_RETURN_IF_ERROR(LoadCrrTable(db_, select.Column(0).text(), &table));
    tables_[table.name] = std::move(table);
  }
  return status;
}

std::string CrrContext::ChangesSelectSql() const {
  std::vector<CrrTable> all;
  for (const auto& [name, t] : tables_) all.push_back(t);
  return crbridge::ChangesSelectSql(all);
}

const CrrTable* CrrContext::FindTable(const std::string& name) const {
  const auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

Status CrrContext::Prepared(CachedStatementKey key, const std::string& sql, Statement** stmt) {
  Statement prepared;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db_, sql, &prepared));
  *stmt = &statements_.emplace(std::move(key), std::move(prepared)).first->second;
  return Status::OK();
}

std::string CrrContext::PkWhere(const CrrTable& t, const std::string& prefix) const {
  std::string where;
  for (size_t i = 0; i < t.pk_columns.size(); ++i) {
    if (i > 0) where += " AND ";
    where += prefix + QuoteIdentifier(t.pk_columns[i]) + " IS ?" + std::to_string(i + 1);
  }
  return where;
}

// As cr-sqlite: in a savepoint, so that the rows already there get their
// clocks at one db_version, atomically, even outside a transaction.
Status CrrContext::MakeCrr(const std::string& name) {
  CRBRIDGE_RETURN_IF_ERROR(ExecSql(db_, "SAVEPOINT crsql_as_crr"));
  if (const Status s = MakeCrrInSavepoint(name); !s.ok()) {
    (void)ExecSql(db_, "ROLLBACK TO crsql_as_crr; RELEASE crsql_as_crr");
    CRBRIDGE_RETURN_IF_ERROR(LoadTables());
    return s;
  }
  return ExecSql(db_, "RELEASE crsql_as_crr");
}

Status CrrContext::MakeCrrInSavepoint(const std::string& name) {
  CrrTable table;
  CRBRIDGE_RETURN_IF_ERROR(LoadCrrTable(db_, name, &table));
  CRBRIDGE_RETURN_IF_ERROR(CheckCrrCompatible(db_, name));
  const bool existed = tables_.contains(name);
  CRBRIDGE_RETURN_IF_ERROR(ExecSql(db_, CrrTableDdl(table)));
  tables_[name] = table;
  if (existed) statements_.clear();  // some may name columns the table no longer has
  Statement remember;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db_, "INSERT OR REPLACE INTO crsql_master (key, value) VALUES (?, ?)", &remember));
  remember.BindText(1, kCrrTablePrefix + name);
  remember.BindText(2, name);
  CRBRIDGE_RETURN_IF_ERROR(remember.Run());
  if (existed) return Status::OK();

  // Rows that were there before the table became a CRR get clocks as if
  // they had just been inserted.
  Statement rows;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db_, "SELECT " + table.PkColumnList() + " FROM " + QuoteIdentifier(name), &rows));
  Status status;
  while (rows.Step(&status)) {
    std::vector<Value> pk;
    for (size_t i = 0; i < table.pk_columns.size(); ++i) pk.push_back(rows.Column(static_cast<int>(i)));
    CRBRIDGE_RETURN_IF_ERROR(AfterInsert(name, pk));
  }
  return status;
}

Status CrrContext::SetConfig(const std::string& name, const Value& value, Value* stored) {
  if (name != kMergeEqualValues) return Status::InvalidArgument("Unknown setting name: " + name);
  Statement insert;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(
      db_, "INSERT OR REPLACE INTO crsql_master (key, value) VALUES (?1, ?2) RETURNING value", &insert));
  insert.BindText(1, std::string(kConfigPrefix) + name);
  insert.Bind(2, value);
  Status status;
  if (!insert.Step(&status)) return status.ok() ? Status::Internal("crsql_config_set: nothing stored") : status;
  *stored = insert.Column(0);
  CRBRIDGE_RETURN_IF_ERROR(insert.Run());
  return LoadConfig();
}

Status CrrContext::GetConfig(const std::string& name, Value* value) const {
  if (name != kMergeEqualValues) return Status::InvalidArgument("Unknown setting name: " + name);
  *value = Value::Integer(merge_equal_values_ ? 1 : 0);
  return Status::OK();
}

Status CrrContext::LoadConfig() {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db_, "SELECT value FROM crsql_master WHERE key = ?1", &select));
  select.BindText(1, std::string(kConfigPrefix) + kMergeEqualValues);
  Status status;
  if (select.Step(&status)) merge_equal_values_ = select.ColumnInt(0) != 0;
  return status;
}

Status CrrContext::DbVersion(int64_t* version) {
  int64_t highest = 0;
  for (const auto& [name, t] : tables_) {
    Statement* max = nullptr;
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, "", [&] { return std::string("SELECT max(db_version) FROM " + QuoteIdentifier(t.clock_table())); },
        &max));
    Status status;
    if (max->Step(&status)) highest = std::max(highest, max->ColumnInt(0));
    CRBRIDGE_RETURN_IF_ERROR(status);
    max->Reset();
  }
  *version = highest;
  return Status::OK();
}

Status CrrContext::LocalDbVersion(int64_t* version) {
  if (pending_db_version_ == 0) {
    int64_t committed = 0;
    CRBRIDGE_RETURN_IF_ERROR(DbVersion(&committed));
    pending_db_version_ = committed + 1;
  }
  *version = pending_db_version_;
  return Status::OK();
}

Status CrrContext::MergeDbVersion(int64_t incoming, int64_t* version) {
  int64_t local = 0;
  CRBRIDGE_RETURN_IF_ERROR(LocalDbVersion(&local));
  pending_db_version_ = std::max(local, incoming);
  *version = pending_db_version_;
  return Status::OK();
}

void CrrContext::EndTransaction() {
  pending_db_version_ = 0;
  local_seq_ = 0;
  altering_.clear();
}

Status CrrContext::FindKey(const CrrTable& t, const std::vector<Value>& pk, std::optional<int64_t>* key) {
  Statement* select = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] { return std::string("SELECT __crsql_key FROM " + QuoteIdentifier(t.pks_table()) + " WHERE " + PkWhere(t)); },
      &select));
  for (size_t i = 0; i < pk.size(); ++i) select->Bind(static_cast<int>(i + 1), pk[i]);
  Status status;
  key->reset();
  if (select->Step(&status)) *key = select->ColumnInt(0);
  select->Reset();
  return status;
}

Status CrrContext::FindOrCreateKey(const CrrTable& t, const std::vector<Value>& pk, int64_t* key, bool* created) {
  std::optional<int64_t> found;
  CRBRIDGE_RETURN_IF_ERROR(FindKey(t, pk, &found));
  if (created != nullptr) *created = !found;
  if (found) {
    *key = *found;
    return Status::OK();
  }
  return InsertKey(t, pk, key);
}

Status CrrContext::InsertKey(const CrrTable& t, const std::vector<Value>& pk, int64_t* key) {
  Statement* insert = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        return "INSERT INTO " + QuoteIdentifier(t.pks_table()) + " (" + t.PkColumnList() + ") VALUES (" +
               t.PkParameterList() + ")";
      },
      &insert));
  for (size_t i = 0; i < pk.size(); ++i) insert->Bind(static_cast<int>(i + 1), pk[i]);
  CRBRIDGE_RETURN_IF_ERROR(insert->Run());
  *key = sqlite3_last_insert_rowid(db_);
  return Status::OK();
}

Status CrrContext::WriteClock(const CrrTable& t, int64_t key, const std::string& column, int64_t col_version,
                              int64_t db_version, int64_t site_ordinal, int64_t seq) {
  Statement* upsert = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "", [&] { return t.ClockUpsertSql(1); }, &upsert));
  upsert->BindInt(1, key);
  upsert->BindText(2, column);
  upsert->BindInt(3, col_version);
  upsert->BindInt(4, db_version);
  upsert->BindInt(5, site_ordinal);
  upsert->BindInt(6, seq);
  return upsert->Run();
}

// A local write of `column`: its col_version goes up by one (from 0 when
// it had no clock), under the local site.
Status CrrContext::BumpLocalClock(const CrrTable& t, int64_t key, const std::string& column, int64_t db_version) {
  Statement* upsert = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        return std::string("INSERT INTO " + QuoteIdentifier(t.clock_table()) +
                           " (key, col_name, col_version, db_version, site_id, seq) VALUES (?1, ?2, 1, ?3, 0, ?4) "
                           "ON CONFLICT (key, col_name) DO UPDATE SET col_version = col_version + 1, "
                           "db_version = excluded.db_version, site_id = 0, seq = excluded.seq");
      },
      &upsert));
  upsert->BindInt(1, key);
  upsert->BindText(2, column);
  upsert->BindInt(3, db_version);
  upsert->BindInt(4, local_seq_++);
  return upsert->Run();
}

Status CrrContext::DropColumnClocks(const CrrTable& t, int64_t key) {
  Statement* drop = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        return std::string("DELETE FROM " + QuoteIdentifier(t.clock_table()) + " WHERE key = ?1 AND col_name != '-1'");
      },
      &drop));
  drop->BindInt(1, key);
  return drop->Run();
}

// The sentinel of a row the local site creates: 1 when it has none, else
// the next odd causal length (a row that is alive stays alive: 3 -> 5).
Status CrrContext::MarkCreated(const CrrTable& t, int64_t key, int64_t db_version, bool only_existing) {
  constexpr const char* kBump =
      "col_version = CASE col_version % 2 WHEN 0 THEN col_version + 1 ELSE col_version + 2 END, "
      "db_version = ?2, seq = ?3, site_id = 0";
  Statement* mark = nullptr;
  if (only_existing) {
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, "",
        [&] {
          return "UPDATE " + QuoteIdentifier(t.clock_table()) + " SET " + kBump + " WHERE key = ?1 AND col_name = '-1'";
        },
        &mark));
  } else {
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t.name, "",
        [&] {
          return "INSERT INTO " + QuoteIdentifier(t.clock_table()) +
                 " (key, col_name, col_version, db_version, site_id, seq) VALUES (?1, '-1', 1, ?2, 0, ?3) "
                 "ON CONFLICT DO UPDATE SET " +
                 kBump;
        },
        &mark));
  }
  mark->BindInt(1, key);
  mark->BindInt(2, db_version);
  mark->BindInt(3, local_seq_++);
  return mark->Run();
}

// The sentinel of a row the local site deletes: 2 when it had none (it
// was alive at the inferred 1), else one more.
Status CrrContext::MarkDeleted(const CrrTable& t, int64_t key, int64_t db_version) {
  Statement* mark = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      t.name, "",
      [&] {
        return std::string("INSERT INTO " + QuoteIdentifier(t.clock_table()) +
                           " (key, col_name, col_version, db_version, site_id, seq) VALUES (?1, '-1', 2, ?2, 0, ?3) "
                           "ON CONFLICT DO UPDATE SET col_version = col_version + 1, db_version = ?2, seq = ?3, "
                           "site_id = 0");
      },
      &mark));
  mark->BindInt(1, key);
  mark->BindInt(2, db_version);
  mark->BindInt(3, local_seq_++);
  return mark->Run();
}

// As cr-sqlite: a row (re)inserted where the key was known bumps its
// sentinel only when it has one (a live row replaced by INSERT OR REPLACE
// keeps its inferred causal length 1; a dead one comes back at the next
// odd one); a table of key columns only always records the sentinel.
Status CrrContext::AfterInsert(const std::string& table, const std::vector<Value>& pk) {
  LocalWrite w;
  CRBRIDGE_RETURN_IF_ERROR(BeginLocalWrite(table, pk, &w));
  if (w.table->value_columns.empty() || !w.key_created) {
    CRBRIDGE_RETURN_IF_ERROR(
        MarkCreated(*w.table, w.key, w.db_version, /*only_existing=*/!w.table->value_columns.empty()));
  }
  for (const std::string& column : w.table->value_columns) {
    CRBRIDGE_RETURN_IF_ERROR(BumpLocalClock(*w.table, w.key, column, w.db_version));
  }
  return Status::OK();
}

Status CrrContext::AfterUpdate(const std::string& table, const std::vector<Value>& new_pk,
                               const std::vector<Value>& old_pk, const std::vector<bool>& changed) {
  LocalWrite w;
  CRBRIDGE_RETURN_IF_ERROR(BeginLocalWrite(table, new_pk, &w));
  const CrrTable* t = w.table;
  const int64_t db_version = w.db_version;
  const int64_t key = w.key;

  if (new_pk != old_pk) {
    // The old key dies and the new one is born with the old one's column
    // clocks (replacing those of a row UPDATE OR REPLACE overwrote), as
    // cr-sqlite does. Unlike cr-sqlite, they move as a local write (this
    // db_version, new seqs, ahead of the two sentinels): peers that saw
    // them under the old key, their writer too, still learn the new row's
    // values.
    int64_t old_key = 0;
    CRBRIDGE_RETURN_IF_ERROR(FindOrCreateKey(*t, old_pk, &old_key));
    Statement* move = nullptr;
    CRBRIDGE_RETURN_IF_ERROR(Cached(
        t->name, "",
        [&] {
          return std::string("UPDATE OR REPLACE " + QuoteIdentifier(t->clock_table()) +
                             " SET key = ?1, db_version = ?3, seq = ?4, site_id = 0 "
                             "WHERE key = ?2 AND col_name = ?5");
        },
        &move));
    for (const std::string& column : t->value_columns) {
      move->Reset();
      move->BindInt(1, key);
      move->BindInt(2, old_key);
      move->BindInt(3, db_version);
      move->BindInt(4, local_seq_);
      move->BindText(5, column);
      CRBRIDGE_RETURN_IF_ERROR(move->Run());
      if (sqlite3_changes(db_) > 0) ++local_seq_;
    }
    CRBRIDGE_RETURN_IF_ERROR(MarkDeleted(*t, old_key, db_version));
    CRBRIDGE_RETURN_IF_ERROR(MarkCreated(*t, key, db_version, /*only_existing=*/false));
  }

  for (size_t i = 0; i < t->value_columns.size(); ++i) {
    if (!changed[i]) continue;
    CRBRIDGE_RETURN_IF_ERROR(BumpLocalClock(*t, key, t->value_columns[i], db_version));
  }
  return Status::OK();
}

Status CrrContext::AfterDelete(const std::string& table, const std::vector<Value>& pk) {
  LocalWrite w;
  CRBRIDGE_RETURN_IF_ERROR(BeginLocalWrite(table, pk, &w));
  CRBRIDGE_RETURN_IF_ERROR(MarkDeleted(*w.table, w.key, w.db_version));
  return DropColumnClocks(*w.table, w.key);
}

Status CrrContext::BeginLocalWrite(const std::string& table, const std::vector<Value>& pk, LocalWrite* write) {
  write->table = FindTable(table);
  if (write->table == nullptr) return Status::InvalidArgument("not a CRR table: " + table);
  CRBRIDGE_RETURN_IF_ERROR(LocalDbVersion(&write->db_version));
  return FindOrCreateKey(*write->table, pk, &write->key, &write->key_created);
}

Status CrrContext::SiteOrdinal(const std::optional<SiteId>& site, int64_t* ordinal) {
  if (!site || *site == site_id_) {
    *ordinal = 0;
    return Status::OK();
  }
  if (call_site_ordinals_ != nullptr) {
    if (const auto known = call_site_ordinals_->find(*site); known != call_site_ordinals_->end()) {
      *ordinal = known->second;
      return Status::OK();
    }
    CRBRIDGE_RETURN_IF_ERROR(LookUpSiteOrdinal(*site, ordinal));
    call_site_ordinals_->emplace(*site, *ordinal);
    return Status::OK();
  }
  return LookUpSiteOrdinal(*site, ordinal);
}

Status CrrContext::LookUpSiteOrdinal(const SiteId& site, int64_t* ordinal) {
  Statement* select = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      "", "", [] { return std::string("SELECT ordinal FROM crsql_site_id WHERE site_id = ?1"); }, &select));
  select->BindBlob(1, site.data(), site.size());
  Status status;
  if (select->Step(&status)) {
    *ordinal = select->ColumnInt(0);
    select->Reset();
    return Status::OK();
  }
  CRBRIDGE_RETURN_IF_ERROR(status);
  Statement* insert = nullptr;
  CRBRIDGE_RETURN_IF_ERROR(Cached(
      "", "",
      [] {
        return std::string(
            "INSERT INTO crsql_site_id (site_id, ordinal) VALUES (?1, (SELECT max(ordinal) + 1 FROM crsql_site_id))");
      },
      &insert));
  insert->BindBlob(1, site.data(), site.size());
  CRBRIDGE_RETURN_IF_ERROR(insert->Run());
  *ordinal = sqlite3_last_insert_rowid(db_);
  return Status::OK();
}

}  // namespace crbridge
