// CrrTable: what the CRR layer knows of one replicated table (its primary
// key and value columns) and the SQL that makes it a CRR: the key table,
// the clock table, the triggers, and its part of crsql_changes.
// Plain data; used by one connection's thread.
#pragma once

#include <string>
#include <vector>

#include "crbridge/sqlite/status.h"
#include "sqlite_api.h"

namespace crbridge {

struct CrrTable {
  std::string name;
  std::vector<std::string> pk_columns;     // in primary key order
  std::vector<std::string> value_columns;  // the others, in table order

  std::string pks_table() const { return name + "__crsql_pks"; }
  std::string clock_table() const { return name + "__crsql_clock"; }

  // "a", "b" (quoted) and "?1, ?2": the primary key columns and as many
  // numbered parameters, for statements that write a key.
  std::string PkColumnList() const;
  std::string PkParameterList() const;

  // Index of a value column, or -1.
  int ValueColumnIndex(const std::string& column) const;

  // Writes up to `rows` clocks (parameters key, col_name, col_version,
  // db_version, site_id, seq for each), replacing those already there; a
  // row whose key is left NULL writes nothing, so that one statement
  // serves any count up to `rows`.
  std::string ClockUpsertSql(size_t rows) const;
};

// "(?1, ?2), (?3, ?4)": `rows` rows of `columns` numbered parameters, for
// a VALUES list.
std::string ParameterRows(size_t rows, size_t columns);

// Reads a table's columns. InvalidArgument when it does not exist, has no
// primary key, or cannot be replicated: a value column that is NOT NULL
// without a default could not be restored by a merge that resurrects a row.
Status LoadCrrTable(sqlite3* db, const std::string& name, CrrTable* table);

// Refuses, as cr-sqlite does, a table a CRR cannot be: one with unique
// indices besides the primary key, a nullable primary key column, an
// AUTOINCREMENT key or checked foreign keys (InvalidArgument naming it).
Status CheckCrrCompatible(sqlite3* db, const std::string& name);

// Creates the key and clock tables and the triggers (idempotent).
std::string CrrTableDdl(const CrrTable& table);

// Drops the triggers of `table` (crsql_begin_alter).
std::string DropTriggersDdl(const std::string& table);

// After a schema change of `t` that kept its primary key
// (crsql_commit_alter): drops the clocks of columns it no longer has and
// of rows deleted while its triggers were away (a deleted row's death
// stays), and the keys left without clocks.
std::string CompactAfterAlterSql(const CrrTable& t);

// A SELECT of every change recorded for `tables`, with the columns of
// crsql_changes (unordered; the virtual table orders it).
std::string ChangesSelectSql(const std::vector<CrrTable>& tables);

}  // namespace crbridge
