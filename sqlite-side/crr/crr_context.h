// CrrContext: the CRR layer's state for one SQLite connection: the site id,
// the replicated tables, the db_version and seq of the open transaction,
// and the prepared statements that record local writes and merge incoming
// changes. Created by RegisterCrr and owned by the connection (destroyed
// when it closes). Used only from the connection's thread, as SQLite calls
// it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <source_location>
#include <string>
#include <vector>

#include "crbridge/sqlite/change.h"
#include "crr_table.h"
#include "statement.h"

namespace crbridge {

class CrrContext {
 public:
  // Creates crsql_site_id (with a new random site id on first use),
  // crsql_tracked_peers and crsql_master when missing, and loads the tables
  // that are already CRRs.
  static Status Open(sqlite3* db, std::unique_ptr<CrrContext>* out);

  const SiteId& site_id() const { return site_id_; }
  // Gives this database a new random site id; its own past writes count as
  // the new site's (they are recorded as "local", not under the old id).
  Status RenewSiteId();
  bool syncing() const { return sync_depth_ > 0; }

  // crsql_as_crr: makes `table` a CRR, recording clocks for its existing
  // rows at one db_version.
  Status MakeCrr(const std::string& table);
  // crsql_begin_alter: opens a savepoint and drops `table`'s triggers, so
  // that the schema change and the writes made with it record nothing.
  Status BeginAlter(const std::string& table);
  // crsql_commit_alter: follows `table`'s new schema as cr-sqlite 0.16 does
  // (crr_alter.cc), records the triggers again and releases the savepoint;
  // when that fails, the alter is rolled back whole. InvalidArgument
  // without a BeginAlter of the table (and for a second BeginAlter).
  Status CommitAlter(const std::string& table);
  // crsql_config_set / crsql_config_get: cr-sqlite's one setting,
  // "merge-equal-values" (equal values at equal clocks tie-break on the
  // writer's site id), kept in crsql_master. InvalidArgument for others.
  Status SetConfig(const std::string& name, const Value& value, Value* stored);
  Status GetConfig(const std::string& name, Value* value) const;

  // The highest db_version committed (0 for none).
  Status DbVersion(int64_t* version);

  // Recording local writes (the triggers).
  Status AfterInsert(const std::string& table, const std::vector<Value>& pk);
  // `changed`: whether the UPDATE changed each value column.
  Status AfterUpdate(const std::string& table, const std::vector<Value>& new_pk, const std::vector<Value>& old_pk,
                     const std::vector<bool>& changed);
  Status AfterDelete(const std::string& table, const std::vector<Value>& pk);

  // Merges one incoming change (INSERT INTO crsql_changes).
  Status Merge(const Change& change);
  // Merges `changes` in order, as Merge each would, in fewer statements
  // (crr_merge.cc).
  Status MergeChanges(const Changeset& changes);

  // A transaction ended: the next write starts a new db_version.
  void EndTransaction();
  // crsql_finalize: drops the cached statements (they are prepared again on
  // next use) so that the connection can close.
  void FinalizeStatements() { statements_.clear(); }

  // A SELECT of every recorded change, with crsql_changes' columns.
  std::string ChangesSelectSql() const;

  // Table description, or nullptr when `name` is not a CRR.
  const CrrTable* FindTable(const std::string& name) const;

 private:
  explicit CrrContext(sqlite3* db) : db_(db) {}

  // The statement of one call site (for `table`, and `column` where the
  // SQL names one), reset and with bindings cleared; prepared from sql()
  // on first use, so the hot paths build no SQL text.
  struct CachedStatementKey {
    uint_least32_t line;
    const char* file;
    std::string table;
    std::string column;
    auto operator<=>(const CachedStatementKey&) const = default;
  };
  template <typename BuildSql>
  Status Cached(const std::string& table, const std::string& column, BuildSql&& sql, Statement** stmt,
                std::source_location site = std::source_location::current()) {
    CachedStatementKey key{site.line(), site.file_name(), table, column};
    if (const auto it = statements_.find(key); it != statements_.end()) {
      it->second.Reset();
      *stmt = &it->second;
      return Status::OK();
    }
    return Prepared(std::move(key), sql(), stmt);
  }
  Status Prepared(CachedStatementKey key, const std::string& sql, Statement** stmt);
  Status LoadTables();
  // MergeChanges' steps (crr_merge.cc): windows of runs of changes, one
  // run per row, each merged in a few statements.
  struct MergeWindow;
  struct WindowWrites;
  void FillMergeWindow(const Changeset& changes, size_t begin, MergeWindow* window) const;
  Status MergeWindowed(const Changeset& changes, const MergeWindow& window);
  Status WriteWindow(const MergeWindow& window, WindowWrites* pending);
  Status LoadConfig();
  Status MakeCrrInSavepoint(const std::string& table);
  // The rows of `t` that CommitAlter gives clocks, at `db_version`.
  Status BackfillAfterAlter(const CrrTable& t, int64_t db_version);
  Status LoadSiteId();

  // What every recorded local write (the triggers) starts from: the table,
  // this transaction's db_version and the row's key.
  struct LocalWrite {
    const CrrTable* table = nullptr;
    int64_t db_version = 0;
    int64_t key = 0;
    bool key_created = false;
  };
  Status BeginLocalWrite(const std::string& table, const std::vector<Value>& pk, LocalWrite* write);
  // The sentinel of a row the local site creates or deletes. With
  // `only_existing`, a row without one keeps its inferred causal length.
  Status MarkCreated(const CrrTable& t, int64_t key, int64_t db_version, bool only_existing);
  Status MarkDeleted(const CrrTable& t, int64_t key, int64_t db_version);
  Status DropColumnClocks(const CrrTable& t, int64_t key);

  // The db_version for a local write in this transaction.
  Status LocalDbVersion(int64_t* version);
  // The db_version for a merged change that carries `incoming`.
  Status MergeDbVersion(int64_t incoming, int64_t* version);

  Status FindKey(const CrrTable& t, const std::vector<Value>& pk, std::optional<int64_t>* key);
  // *created (when given): the key is new.
  Status FindOrCreateKey(const CrrTable& t, const std::vector<Value>& pk, int64_t* key, bool* created = nullptr);
  Status InsertKey(const CrrTable& t, const std::vector<Value>& pk, int64_t* key);
  // The row's key (unset for a row never seen) and the row's and the
  // column's clocks for merging `change`; the column's value (and its
  // writer) only when the clocks tie.
  Status ReadMergeState(const CrrTable& t, const std::vector<Value>& pk, const Change& change,
                        std::optional<int64_t>* key, RowClock* row, ColumnClock* column);
  Status WriteClock(const CrrTable& t, int64_t key, const std::string& column, int64_t col_version, int64_t db_version,
                    int64_t site_ordinal, int64_t seq);
  Status BumpLocalClock(const CrrTable& t, int64_t key, const std::string& column, int64_t db_version);
  // The local number of a writer's site (0: this one), added when new.
  Status SiteOrdinal(const std::optional<SiteId>& site, int64_t* ordinal);
  Status LookUpSiteOrdinal(const SiteId& site, int64_t* ordinal);

  // Merge steps, run with the sync bit set so the triggers stay quiet.
  Status DeleteRow(const CrrTable& t, int64_t key, const std::vector<Value>& pk);
  Status EnsureRow(const CrrTable& t, const std::vector<Value>& pk);
  // With `create_row`, inserts the row with the column when it is missing.
  Status WriteColumn(const CrrTable& t, const std::vector<Value>& pk, const std::string& column, const Value& value,
                     bool create_row);

  // "a" IS ?1 AND "b" IS ?2, each column after `prefix` ("p.").
  std::string PkWhere(const CrrTable& t, const std::string& prefix = "") const;

  sqlite3* db_;
  SiteId site_id_{};
  std::map<std::string, CrrTable> tables_;
  std::map<CachedStatementKey, Statement> statements_;
  int64_t pending_db_version_ = 0;  // 0: no write in this transaction yet
  int64_t local_seq_ = 0;
  int sync_depth_ = 0;
  bool merge_equal_values_ = false;
  // During MergeChanges: the site ordinals it has looked up.
  std::map<SiteId, int64_t>* call_site_ordinals_ = nullptr;
  // Tables between crsql_begin_alter and crsql_commit_alter (the end of
  // the transaction ends their alter too).
  std::set<std::string> altering_;
};

// RegisterCrr, also handing back the connection's context (the connection
// owns it), for CrrDatabase.
Status RegisterCrr(sqlite3* db, CrrContext** context);

}  // namespace crbridge
