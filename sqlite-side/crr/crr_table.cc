#include "crr_table.h"

#include <algorithm>
#include <map>

#include "statement.h"

namespace crbridge {
namespace {

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

// Each column quoted, with `prefix` ("NEW.", "t.") before it.
std::vector<std::string> Prefixed(const std::vector<std::string>& columns, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& c : columns) out.push_back(prefix + QuoteIdentifier(c));
  return out;
}

// '1' or '0' for each of `columns` from `begin` to `end`: whether the
// UPDATE changed it, as one text. Changed as cr-sqlite compares: another
// type, or another value of the type, text and blobs byte for byte
// (whatever the column's collation). A balanced tree of ||, so that
// neither SQLite's limit on a function's arguments nor its limit on
// expression depth bounds a table's width.
std::string ChangedColumnsSql(const std::vector<std::string>& columns, size_t begin, size_t end) {
  if (begin == end) return "''";
  if (end - begin == 1) {
    const std::string column = QuoteIdentifier(columns[begin]);
    return "(typeof(NEW." + column + ") IS NOT typeof(OLD." + column + ") OR NEW." + column + " IS NOT OLD." + column +
           " COLLATE BINARY)";
  }
  const size_t middle = begin + (end - begin) / 2;
  return "(" + ChangedColumnsSql(columns, begin, middle) + " || " + ChangedColumnsSql(columns, middle, end) + ")";
}

}  // namespace

std::string CrrTable::PkColumnList() const { return Join(Prefixed(pk_columns, ""), ", "); }

std::string CrrTable::PkParameterList() const {
  std::vector<std::string> params;
  for (size_t i = 1; i <= pk_columns.size(); ++i) params.push_back("?" + std::to_string(i));
  return Join(params, ", ");
}

int CrrTable::ValueColumnIndex(const std::string& column) const {
  const auto it = std::find(value_columns.begin(), value_columns.end(), column);
  return it == value_columns.end() ? -1 : static_cast<int>(it - value_columns.begin());
}

std::string CrrTable::ClockUpsertSql(size_t rows) const {
  return "INSERT INTO " + QuoteIdentifier(clock_table()) +
         " (key, col_name, col_version, db_version, site_id, seq) SELECT * FROM (VALUES " + ParameterRows(rows, 6) +
         ") WHERE column1 IS NOT NULL ON CONFLICT (key, col_name) DO UPDATE SET col_version = excluded.col_version, "
         "db_version = excluded.db_version, site_id = excluded.site_id, seq = excluded.seq";
}

std::string ParameterRows(size_t rows, size_t columns) {
  std::string sql;
  for (size_t row = 0; row < rows; ++row) {
    sql += row > 0 ? ", (" : "(";
    for (size_t column = 1; column <= columns; ++column) {
      sql += (column > 1 ? ", ?" : "?") + std::to_string(row * columns + column);
    }
    sql += ")";
  }
  return sql;
}

Status LoadCrrTable(sqlite3* db, const std::string& name, CrrTable* table) {
  Statement info;
  CRBRIDGE_RETURN_IF_ERROR(
      Statement::Prepare(db, "SELECT name, \"notnull\", dflt_value, pk FROM pragma_table_info(?)", &info));
  info.BindText(1, name);
  CrrTable result;
  result.name = name;
  std::map<int64_t, std::string> pk_by_position;
  Status status;
  while (info.Step(&status)) {
    const std::string column = info.Column(0).text();
    const int64_t pk_position = info.ColumnInt(3);
    if (pk_position > 0) {
      pk_by_position[pk_position] = column;
    } else {
      if (info.ColumnInt(1) != 0 && info.ColumnIsNull(2)) {
        return Status::InvalidArgument("table " + name + ": column " + column +
                                       " is NOT NULL without a default, which a CRR cannot restore on merge");
      }
      result.value_columns.push_back(column);
    }
  }
  CRBRIDGE_RETURN_IF_ERROR(status);
  if (pk_by_position.empty() && result.value_columns.empty()) return Status::InvalidArgument("no such table: " + name);
  if (pk_by_position.empty()) return Status::InvalidArgument("table " + name + " has no primary key");
  for (const auto& [position, column] : pk_by_position) result.pk_columns.push_back(column);
  *table = std::move(result);
  return Status::OK();
}

namespace {

Status CountOf(sqlite3* db, const std::string& sql, const std::string& table, int64_t* count) {
  Statement select;
  CRBRIDGE_RETURN_IF_ERROR(Statement::Prepare(db, sql, &select));
  select.BindText(1, table);
  Status status;
  *count = select.Step(&status) ? select.ColumnInt(0) : 0;
  return status;
}

}  // namespace

Status CheckCrrCompatible(sqlite3* db, const std::string& name) {
  struct Rule {
    const char* count_sql;  // rows that break the rule (?1: the table)
    const char* refusal;
  };
  const Rule rules[] = {
      {"SELECT count(*) FROM pragma_index_list(?1) WHERE origin != 'pk' AND \"unique\" = 1",
       "has unique indices besides the primary key; a CRR may not (a merge or INSERT OR REPLACE could remove "
       "another row through one without recording its deletion)"},
      {"SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0 AND \"notnull\" = 0",
       "has a nullable primary key column; CRRs must have a non-nullable primary key"},
      {"SELECT count(*) FROM sqlite_master WHERE name = ?1 AND type = 'table' AND sql LIKE '%autoincrement%'",
       "has an auto-increment primary key; two peers would give unrelated rows the same key (use a key that "
       "identifies the row, or a UUID)"},
      {"SELECT count(*) FROM pragma_foreign_key_list(?1)",
       "has checked foreign key constraints; CRRs may hold foreign keys but not checked ones, as replication "
       "can violate them"},
  };
  for (const Rule& rule : rules) {
    int64_t count = 0;
    CRBRIDGE_RETURN_IF_ERROR(CountOf(db, rule.count_sql, name, &count));
    if (count > 0) return Status::InvalidArgument("Table " + name + " " + rule.refusal);
  }
  return Status::OK();
}

std::string CrrTableDdl(const CrrTable& t) {
  const std::string name = QuoteIdentifier(t.name);
  const std::string pks = QuoteIdentifier(t.pks_table());
  const std::string clock = QuoteIdentifier(t.clock_table());
  const std::string pk_list = t.PkColumnList();
  const std::string table_arg = QuoteLiteral(t.name);

  std::string sql;
  sql += "CREATE TABLE IF NOT EXISTS " + pks + " (__crsql_key INTEGER PRIMARY KEY, " + pk_list + ");\n";
  sql += "CREATE UNIQUE INDEX IF NOT EXISTS " + QuoteIdentifier(t.pks_table() + "_pks") + " ON " + pks + " (" +
         pk_list + ");\n";
  sql += "CREATE TABLE IF NOT EXISTS " + clock +
         " (key INTEGER NOT NULL, col_name TEXT NOT NULL, col_version INTEGER NOT NULL, "
         "db_version INTEGER NOT NULL, site_id INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL, "
         "PRIMARY KEY (key, col_name)) WITHOUT ROWID, STRICT;\n";
  sql += "CREATE INDEX IF NOT EXISTS " + QuoteIdentifier(t.clock_table() + "_dbv_idx") + " ON " + clock +
         " (db_version);\n";

  const std::string new_pks = Join(Prefixed(t.pk_columns, "NEW."), ", ");
  const std::string old_pks = Join(Prefixed(t.pk_columns, "OLD."), ", ");
  const std::string update_args = table_arg + ", " + new_pks + ", " + old_pks + ", " +
                                  ChangedColumnsSql(t.value_columns, 0, t.value_columns.size());
  sql += "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(t.name + "__crsql_itrig") + " AFTER INSERT ON " + name +
         " WHEN crsql_internal_sync_bit() = 0 BEGIN SELECT crsql_after_insert(" + table_arg + ", " + new_pks +
         "); END;\n";
  sql += "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(t.name + "__crsql_utrig") + " AFTER UPDATE ON " + name +
         " WHEN crsql_internal_sync_bit() = 0 BEGIN SELECT crsql_after_update(" + update_args + "); END;\n";
  sql += "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(t.name + "__crsql_dtrig") + " AFTER DELETE ON " + name +
         " WHEN crsql_internal_sync_bit() = 0 BEGIN SELECT crsql_after_delete(" + table_arg + ", " + old_pks +
         "); END;\n";
  return sql;
}

namespace {
const char* const kTriggerSuffixes[] = {"__crsql_itrig", "__crsql_utrig", "__crsql_dtrig"};
}  // namespace

std::string DropTriggersDdl(const std::string& table) {
  std::string sql;
  for (const char* suffix : kTriggerSuffixes)
    sql += "DROP TRIGGER IF EXISTS " + QuoteIdentifier(table + suffix) + ";\n";
  return sql;
}

std::string CompactAfterAlterSql(const CrrTable& t) {
  const std::string clock = QuoteIdentifier(t.clock_table());
  const std::string pks = QuoteIdentifier(t.pks_table());
  std::vector<std::string> kept = {QuoteLiteral("-1")};
  for (const std::string& c : t.value_columns) kept.push_back(QuoteLiteral(c));
  std::vector<std::string> same_key;
  for (const std::string& c : t.pk_columns)
    same_key.push_back("b." + QuoteIdentifier(c) + " IS p." + QuoteIdentifier(c));
  return "DELETE FROM " + clock + " WHERE col_name NOT IN (" + Join(kept, ", ") + ");\n" + "DELETE FROM " + clock +
         " WHERE (col_name != '-1' OR col_version % 2 = 1) AND key IN (SELECT p.__crsql_key FROM " + pks +
         " p WHERE NOT EXISTS (SELECT 1 FROM " + QuoteIdentifier(t.name) + " b WHERE " + Join(same_key, " AND ") +
         "));\n" + "DELETE FROM " + pks + " WHERE NOT EXISTS (SELECT 1 FROM " + clock + " c WHERE c.key = " + pks +
         ".__crsql_key);\n";
}

std::string ChangesSelectSql(const std::vector<CrrTable>& tables) {
  std::vector<std::string> selects;
  for (const CrrTable& t : tables) {
    const std::string clock = QuoteIdentifier(t.clock_table());
    std::vector<std::string> join_on;
    for (const std::string& c : t.pk_columns)
      join_on.push_back("b." + QuoteIdentifier(c) + " IS p." + QuoteIdentifier(c));
    std::string val = "NULL";
    if (!t.value_columns.empty()) {
      val = "CASE c.col_name";
      for (const std::string& c : t.value_columns) val += " WHEN " + QuoteLiteral(c) + " THEN b." + QuoteIdentifier(c);
      val += " END";
    }
    selects.push_back("SELECT " + QuoteLiteral(t.name) + " AS \"table\", crsql_pack_columns(" +
                      Join(Prefixed(t.pk_columns, "p."), ", ") + ") AS pk, c.col_name AS cid, " + val +
                      " AS val, c.col_version AS col_version, c.db_version AS db_version, "
                      "(SELECT s.site_id FROM crsql_site_id s WHERE s.ordinal = c.site_id) AS site_id, "
                      "COALESCE((SELECT x.col_version FROM " +
                      clock + " x WHERE x.key = c.key AND x.col_name = '-1'), 1) AS cl, c.seq AS seq FROM " + clock +
                      " c JOIN " + QuoteIdentifier(t.pks_table()) + " p ON p.__crsql_key = c.key LEFT JOIN " +
                      QuoteIdentifier(t.name) + " b ON " + Join(join_on, " AND "));
  }
  if (selects.empty()) {
    return "SELECT NULL AS \"table\", NULL AS pk, NULL AS cid, NULL AS val, NULL AS col_version, NULL AS db_version, "
           "NULL AS site_id, NULL AS cl, NULL AS seq WHERE 0";
  }
  return Join(selects, " UNION ALL ");
}

}  // namespace crbridge
