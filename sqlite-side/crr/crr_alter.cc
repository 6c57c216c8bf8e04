// Schema changes of a CRR table (crsql_begin_alter, crsql_commit_alter),
// as cr-sqlite 0.16 makes them: the change and the writes made with it
// record no clocks as they happen; the commit then compacts and backfills
// at the db_version already committed (crsql_db_version(), not the next):
// peers that apply the same migration reach the same state, so none of it
// needs sending. A new column gets clocks (col_version 1) on the rows whose
// value is not its default; a row inserted meanwhile gets clocks for every
// column; a row deleted meanwhile loses its clocks (its death is not
// recorded); a dropped column's clocks go. A new primary key starts every
// clock again, as every row's identity changed. Members of CrrContext; the
// connection's thread.
#include <vector>

#include "crbridge/sqlite/sql_quote.h"
#include "crr_context.h"

namespace crbridge {
namespace {

constexpr const char* kAlterSavepoint = "crsql_alter";

// The default of `column` of `table` as SQL text ("NULL" when it has none).
Status ColumnDefault(sqlite3* db, const std::string& table, const std::string& column, std::string* sql) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db, "SELECT dflt_value FROM pragma_table_info(?1) WHERE name = ?2", &select));
  select.BindText(1, table);
  select.BindText(2, column);
  Status status;
  *sql = "NULL";
  if (select.Step(&status) && !select.ColumnIsNull(0)) *sql = select.Column(0).text();
  return status;
}

// The rows of a query's first `count` columns.
Status Rows(sqlite3* db, const std::string& sql, const std::vector<std::string>& texts, size_t count,
            std::vector<std::vector<Value>>* rows) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db, sql, &select));
  for (size_t i = 0; i < texts.size(); ++i) select.BindText(static_cast<int>(i + 1), texts[i]);
  Status status;
  while (select.Step(&status)) {
    std::vector<Value>& row = rows->emplace_back();
    for (size_t i = 0; i < count; ++i) row.push_back(select.Column(static_cast<int>(i)));
  }
  return status;
}

}  // namespace

Status CrrContext::BeginAlter(const std::string& table) {
  if (FindTable(table) == nullptr) return Status::InvalidArgument("crsql_begin_alter: not a CRR table: " + table);
  if (altering_.contains(table)) {
    return Status::InvalidArgument("crsql_begin_alter: " + table +
                                   " is being altered already (crsql_commit_alter ends it)");
  }
  CRBRIDGE_RETURN_IF_ERROR(ExecSql(db_, std::string("SAVEPOINT ") + kAlterSavepoint + ";\n" + DropTriggersDdl(table)));
  altering_.insert(table);
  return Status::OK();
}

Status CrrContext::CommitAlter(const std::string& name) {
  const CrrTable* found = FindTable(name);
  if (found == nullptr) return Status::InvalidArgument("crsql_commit_alter: not a CRR table: " + name);
  if (!altering_.contains(name)) {
    return Status::InvalidArgument("crsql_commit_alter: no crsql_begin_alter of " + name + " before it");
  }
  const CrrTable before = *found;
  const auto follow = [&]() -> Status {
    CrrTable table;
    CRBRIDGE_RETURN_IF_ERROR(LoadCrrTable(db_, name, &table));
    CRBRIDGE_RETURN_IF_ERROR(CheckCrrCompatible(db_, name));
    int64_t version = 0;
    CRBRIDGE_RETURN_IF_ERROR(DbVersion(&version));
    statements_.clear();  // some name columns the table no longer has
    if (table.pk_columns != before.pk_columns) {
      CRBRIDGE_RETURN_IF_ERROR(ExecSql(db_, "DROP TABLE " + QuoteIdentifier(table.clock_table()) + ";\nDROP TABLE " +
                                                QuoteIdentifier(table.pks_table()) + ";\n"));
    } else {
      CRBRIDGE_RETURN_IF_ERROR(ExecSql(db_, CompactAfterAlterSql(table)));
    }
    CRBRIDGE_RETURN_IF_ERROR(ExecSql(db_, CrrTableDdl(table)));
    tables_[name] = table;
    return BackfillAfterAlter(tables_[name], version);
  };
  altering_.erase(name);
  if (const Status s = follow(); !s.ok()) {
    // The schema change goes too: the table and its triggers are as they
    // were before crsql_begin_alter.
    statements_.clear();
    tables_[name] = before;
    (void)ExecSql(db_, std::string("ROLLBACK TO ") + kAlterSavepoint + "; RELEASE " + kAlterSavepoint);
    return s;
  }
  return ExecSql(db_, std::string("RELEASE ") + kAlterSavepoint);
}

Status CrrContext::BackfillAfterAlter(const CrrTable& t, int64_t db_version) {
  const std::string table = QuoteIdentifier(t.name);
  const std::string pks = QuoteIdentifier(t.pks_table());
  const std::string clock = QuoteIdentifier(t.clock_table());
  std::vector<std::string> same_key;
  for (const std::string& c : t.pk_columns)
    same_key.push_back("b." + QuoteIdentifier(c) + " IS p." + QuoteIdentifier(c));
  std::string key_columns;
  for (const std::string& c : t.pk_columns) key_columns += (key_columns.empty() ? "b." : ", b.") + QuoteIdentifier(c);
  std::string joined_key;
  for (const std::string& c : same_key) joined_key += (joined_key.empty() ? "" : " AND ") + c;

  // Rows with no clock at all: every column, or the sentinel when none.
  std::vector<std::vector<Value>> unclocked;
  CRBRIDGE_RETURN_IF_ERROR(Rows(db_,
                                "SELECT " + key_columns + " FROM " + table + " b WHERE NOT EXISTS (SELECT 1 FROM " +
                                    pks + " p JOIN " + clock + " c ON c.key = p.__crsql_key WHERE " + joined_key + ")",
                                {}, t.pk_columns.size(), &unclocked));
  for (const std::vector<Value>& pk : unclocked) {
    int64_t key = 0;
    CRBRIDGE_RETURN_IF_ERROR(FindOrCreateKey(t, pk, &key));
    for (const std::string& column : t.value_columns) {
      CRBRIDGE_RETURN_IF_ERROR(WriteClock(t, key, column, 1, db_version, 0, local_seq_++));
    }
    if (t.value_columns.empty()) {
      CRBRIDGE_RETURN_IF_ERROR(WriteClock(t, key, kSentinelColumn, 1, db_version, 0, local_seq_++));
    }
  }
  // Then each column the other rows have no clock of, where their value is
  // not the column's default.
  for (const std::string& column : t.value_columns) {
    std::string default_sql;
    CRBRIDGE_RETURN_IF_ERROR(ColumnDefault(db_, t.name, column, &default_sql));
    std::vector<std::vector<Value>> keys;
    CRBRIDGE_RETURN_IF_ERROR(Rows(db_,
                                  "SELECT p.__crsql_key FROM " + table + " b JOIN " + pks + " p ON " + joined_key +
                                      " WHERE NOT EXISTS (SELECT 1 FROM " + clock +
                                      " c WHERE c.key = p.__crsql_key AND c.col_name = ?1) AND b." +
                                      QuoteIdentifier(column) + " IS NOT " + default_sql,
                                  {column}, 1, &keys));
    for (const std::vector<Value>& key : keys) {
      CRBRIDGE_RETURN_IF_ERROR(WriteClock(t, key[0].integer(), column, 1, db_version, 0, local_seq_++));
    }
  }
  return Status::OK();
}

}  // namespace crbridge
