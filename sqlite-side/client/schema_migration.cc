#include "schema_migration.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "crbridge/sqlite/sql_quote.h"

namespace crbridge {
namespace {

using Row = std::vector<std::optional<std::string>>;

// The rows of `sql` (one text parameter `parameter` when given), as text.
Status Rows(sqlite3* db, const std::string& sql, const std::optional<std::string>& parameter, std::vector<Row>* rows) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Status::InvalidArgument(sqlite3_errmsg(db));
  }
  const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (parameter) sqlite3_bind_text(raw, 1, parameter->data(), static_cast<int>(parameter->size()), SQLITE_TRANSIENT);
  rows->clear();
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    Row& row = rows->emplace_back();
    for (int i = 0; i < sqlite3_column_count(raw); ++i) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, i));
      row.push_back(text ? std::optional<std::string>(text) : std::nullopt);
    }
  }
  if (rc != SQLITE_DONE) return Status::IOError(sqlite3_errmsg(db));
  return Status::OK();
}

// One of the app's tables or indexes: the SQL that made it, and its table.
struct SchemaObject {
  std::string sql;
  std::string table;
  friend bool operator==(const SchemaObject&, const SchemaObject&) = default;
};

// The app's tables or indexes (`type`) by name: not SQLite's, nor the CRR
// layer's.
Status SchemaObjects(sqlite3* db, const std::string& type, std::map<std::string, SchemaObject>* objects) {
  std::vector<Row> rows;
  CRBRIDGE_RETURN_IF_ERROR(Rows(db,
                                "SELECT name, sql, tbl_name FROM sqlite_master WHERE type = ?1 AND sql IS NOT NULL "
                                "AND tbl_name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                                "AND tbl_name NOT LIKE 'crsql\\_%' ESCAPE '\\' "
                                "AND tbl_name NOT LIKE '%\\_\\_crsql\\_%' ESCAPE '\\'",
                                type, &rows));
  objects->clear();
  for (const Row& row : rows) (*objects)[*row[0]] = SchemaObject{*row[1], *row[2]};
  return Status::OK();
}

Status IsCrr(sqlite3* db, const std::string& table, bool* crr) {
  std::vector<Row> rows;
  CRBRIDGE_RETURN_IF_ERROR(Rows(db, "SELECT 1 FROM crsql_master WHERE key = 'crr_table:' || ?1", table, &rows));
  *crr = !rows.empty();
  return Status::OK();
}

struct Column {
  std::string name;
  std::string definition;  // as ALTER TABLE ADD COLUMN takes it
  int pk = 0;               // its place in the primary key, from 1; 0: none
};

Status Columns(sqlite3* db, const std::string& table, std::vector<Column>* columns) {
  std::vector<Row> rows;
  CRBRIDGE_RETURN_IF_ERROR(
      Rows(db, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid", table, &rows));
  columns->clear();
  for (const Row& row : rows) {
    Column& c = columns->emplace_back();
    c.name = *row[0];
    c.definition = QuoteIdentifier(c.name) + (row[1]->empty() ? "" : " " + *row[1]) +
                   (row[3] ? " DEFAULT " + *row[3] : "") + (*row[2] == "1" ? " NOT NULL" : "");
    c.pk = std::stoi(*row[4]);
  }
  return Status::OK();
}

std::vector<std::string> KeyOf(std::vector<Column> columns) {
  std::erase_if(columns, [](const Column& c) { return c.pk == 0; });
  std::sort(columns.begin(), columns.end(), [](const Column& a, const Column& b) { return a.pk < b.pk; });
  std::vector<std::string> key;
  for (const Column& c : columns) key.push_back(c.name);
  return key;
}

bool Has(const std::vector<Column>& columns, const std::string& name) {
  return std::any_of(columns.begin(), columns.end(), [&](const Column& c) { return c.name == name; });
}

// Adds and drops `table`'s columns to those of `target`.
Status AlterColumns(CrrDatabase& db, const std::string& table, const std::vector<Column>& local,
                    const std::vector<Column>& target, bool crr) {
  if (KeyOf(local) != KeyOf(target)) {
    return Status::InvalidArgument("the primary key of " + table +
                                   " changed: make the table again by hand between crsql_begin_alter and "
                                   "crsql_commit_alter (crbridge-client migrate does not)");
  }
  std::string alter;
  const std::string name = QuoteIdentifier(table);
  for (const Column& c : local) {
    if (!Has(target, c.name)) alter += "ALTER TABLE " + name + " DROP COLUMN " + QuoteIdentifier(c.name) + ";\n";
  }
  for (const Column& c : target) {
    if (!Has(local, c.name)) alter += "ALTER TABLE " + name + " ADD COLUMN " + c.definition + ";\n";
  }
  if (alter.empty()) return Status::OK();
  if (!crr) return db.Exec(alter);
  const std::string literal = QuoteLiteral(table);
  return db.Exec("SELECT crsql_begin_alter(" + literal + ");\n" + alter + "SELECT crsql_commit_alter(" + literal + ");");
}

}  // namespace

Status MigrateSchema(CrrDatabase& db, const std::string& schema_text) {
  std::unique_ptr<CrrDatabase> target;
  CRBRIDGE_RETURN_IF_ERROR(CrrDatabase::Open(":memory:", &target));
  if (const Status s = target->Exec(schema_text); !s.ok()) {
    return Status::InvalidArgument("the new schema does not apply to an empty database: " + s.message());
  }
  std::map<std::string, SchemaObject> local_tables, target_tables, local_indexes, target_indexes;
  CRBRIDGE_RETURN_IF_ERROR(SchemaObjects(db.handle(), "table", &local_tables));
  CRBRIDGE_RETURN_IF_ERROR(SchemaObjects(target->handle(), "table", &target_tables));
  CRBRIDGE_RETURN_IF_ERROR(SchemaObjects(db.handle(), "index", &local_indexes));
  CRBRIDGE_RETURN_IF_ERROR(SchemaObjects(target->handle(), "index", &target_indexes));
  // Indexes first: SQLite drops no column an index names. Those of tables
  // the new schema lacks stay with their tables.
  for (const auto& [name, index] : local_indexes) {
    const auto kept = target_indexes.find(name);
    if (target_tables.contains(index.table) && (kept == target_indexes.end() || kept->second != index)) {
      CRBRIDGE_RETURN_IF_ERROR(db.Exec("DROP INDEX " + QuoteIdentifier(name)));
    }
  }
  for (const auto& [table, made] : target_tables) {
    bool target_crr = false;
    bool local_crr = false;
    CRBRIDGE_RETURN_IF_ERROR(IsCrr(target->handle(), table, &target_crr));
    if (!local_tables.contains(table)) {
      CRBRIDGE_RETURN_IF_ERROR(db.Exec(made.sql));
    } else {
      CRBRIDGE_RETURN_IF_ERROR(IsCrr(db.handle(), table, &local_crr));
      std::vector<Column> local, wanted;
      CRBRIDGE_RETURN_IF_ERROR(Columns(db.handle(), table, &local));
      CRBRIDGE_RETURN_IF_ERROR(Columns(target->handle(), table, &wanted));
      CRBRIDGE_RETURN_IF_ERROR(AlterColumns(db, table, local, wanted, local_crr));
    }
    if (target_crr && !local_crr) CRBRIDGE_RETURN_IF_ERROR(db.Exec("SELECT crsql_as_crr(" + QuoteLiteral(table) + ")"));
  }
  for (const auto& [name, index] : target_indexes) {
    const auto had = local_indexes.find(name);
    if (had == local_indexes.end() || had->second != index) CRBRIDGE_RETURN_IF_ERROR(db.Exec(index.sql));
  }
  return Status::OK();
}

}  // namespace crbridge
