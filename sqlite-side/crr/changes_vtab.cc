#include "changes_vtab.h"

#include <algorithm>
#include <string>
#include <vector>

#include "crr_context.h"
#include "statement.h"

namespace crbridge {
namespace {

// The columns, in the order cr-sqlite declares them.
enum Column { kTable, kPk, kCid, kVal, kColVersion, kDbVersion, kSiteId, kCl, kSeq, kColumnCount };

constexpr const char* kDeclaration =
    "CREATE TABLE x([table] TEXT NOT NULL, [pk] BLOB NOT NULL, [cid] TEXT NOT NULL, [val] ANY, "
    "[col_version] INTEGER NOT NULL, [db_version] INTEGER NOT NULL, [site_id] BLOB, [cl] INTEGER NOT NULL, "
    "[seq] INTEGER NOT NULL)";

struct ChangesVtab {
  sqlite3_vtab base{};  // first: SQLite sees a sqlite3_vtab*
  sqlite3* db = nullptr;
  CrrContext* context = nullptr;
};

struct ChangesCursor {
  sqlite3_vtab_cursor base{};
  Statement rows;
  bool at_end = true;
  sqlite3_int64 rowid = 0;
};

ChangesVtab& VtabOf(sqlite3_vtab* vtab) { return *reinterpret_cast<ChangesVtab*>(vtab); }
ChangesCursor& CursorOf(sqlite3_vtab_cursor* cursor) { return *reinterpret_cast<ChangesCursor*>(cursor); }

int SetError(sqlite3_vtab* vtab, const std::string& message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message.c_str());
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char** error) {
  if (int rc = sqlite3_declare_vtab(db, kDeclaration); rc != SQLITE_OK) {
    *error = sqlite3_mprintf("crsql_changes: %s", sqlite3_errmsg(db));
    return rc;
  }
  auto* vtab = new ChangesVtab;
  vtab->db = db;
  vtab->context = static_cast<CrrContext*>(aux);
  *out = &vtab->base;
  return SQLITE_OK;
}

// Also runs first thing in sqlite3_close: the cached statements go, so the
// connection can close.
int Disconnect(sqlite3_vtab* vtab) {
  ChangesVtab* changes = &VtabOf(vtab);
  changes->context->FinalizeStatements();
  delete changes;
  return SQLITE_OK;
}

const char* ComparisonOperator(unsigned char op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ:
      return "=";
    case SQLITE_INDEX_CONSTRAINT_GT:
      return ">";
    case SQLITE_INDEX_CONSTRAINT_GE:
      return ">=";
    case SQLITE_INDEX_CONSTRAINT_LT:
      return "<";
    case SQLITE_INDEX_CONSTRAINT_LE:
      return "<=";
    default:
      return nullptr;
  }
}

// Pushes db_version comparisons into the query (idxStr holds its WHERE
// terms); the rows come in db_version, seq order, so an ORDER BY of
// db_version or db_version, seq (ascending) is consumed.
int BestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  std::string where;
  int argument = 0;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    const char* op = ComparisonOperator(constraint.op);
    if (!constraint.usable || constraint.iColumn != kDbVersion || op == nullptr) continue;
    where += std::string(where.empty() ? "" : " AND ") + "db_version " + op + " ?";
    info->aConstraintUsage[i].argvIndex = ++argument;
    info->aConstraintUsage[i].omit = 1;
  }
  bool ordered = true;
  for (int i = 0; i < info->nOrderBy; ++i) {
    const auto& term = info->aOrderBy[i];
    const int expected = i == 0 ? kDbVersion : kSeq;
    if (i > 1 || term.desc || term.iColumn != expected) ordered = false;
  }
  info->orderByConsumed = ordered ? 1 : 0;
  info->estimatedCost = argument > 0 ? 10.0 : 1e9;
  info->estimatedRows = argument > 0 ? 10 : 1000000000;
  info->idxStr = sqlite3_mprintf("%s", where.c_str());
  info->needToFreeIdxStr = 1;
  return SQLITE_OK;
}

int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  *out = &(new ChangesCursor)->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cursor) {
  delete &CursorOf(cursor);
  return SQLITE_OK;
}

int Next(sqlite3_vtab_cursor* cursor) {
  ChangesCursor& c = CursorOf(cursor);
  Status status;
  c.at_end = !c.rows.Step(&status);
  ++c.rowid;
  return status.ok() ? SQLITE_OK : SetError(cursor->pVtab, status.message());
}

int Filter(sqlite3_vtab_cursor* cursor, int, const char* where, int argc, sqlite3_value** argv) {
  ChangesCursor& c = CursorOf(cursor);
  ChangesVtab& vtab = VtabOf(cursor->pVtab);
  std::string sql = "SELECT * FROM (" + vtab.context->ChangesSelectSql() + ")";
  if (where != nullptr && where[0] != '\0') sql += std::string(" WHERE ") + where;
  sql += " ORDER BY db_version, seq";
  if (Status s = Statement::Prepare(vtab.db, sql, &c.rows); !s.ok()) return SetError(cursor->pVtab, s.message());
  for (int i = 0; i < argc; ++i) sqlite3_bind_value(c.rows.get(), i + 1, argv[i]);
  c.rowid = 0;
  return Next(cursor);
}

int Eof(sqlite3_vtab_cursor* cursor) { return CursorOf(cursor).at_end ? 1 : 0; }

int ColumnValue(sqlite3_vtab_cursor* cursor, sqlite3_context* ctx, int column) {
  sqlite3_result_value(ctx, sqlite3_column_value(CursorOf(cursor).rows.get(), column));
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cursor, sqlite3_int64* rowid) {
  *rowid = CursorOf(cursor).rowid;
  return SQLITE_OK;
}

// An inserted row of crsql_changes as a Change.
Status ChangeFromRow(sqlite3_value** columns, Change* change) {
  change->table = TextFromSqlite(columns[kTable]);
  const Value pk = ValueFromSqlite(columns[kPk]);
  if (pk.storage_class() != StorageClass::kBlob) {
    return Status::InvalidArgument("crsql_changes.pk must be a packed primary key blob");
  }
  change->pk = pk.blob();
  change->cid = TextFromSqlite(columns[kCid]);
  change->val = ValueFromSqlite(columns[kVal]);
  change->col_version = sqlite3_value_int64(columns[kColVersion]);
  change->db_version = sqlite3_value_int64(columns[kDbVersion]);
  const Value site = ValueFromSqlite(columns[kSiteId]);
  change->site_id = SiteIdFromValue(site);
  if (!change->site_id && !site.is_null()) {
    return Status::InvalidArgument("crsql_changes.site_id must be a 16-byte blob or NULL");
  }
  change->cl = sqlite3_value_int64(columns[kCl]);
  change->seq = sqlite3_value_int64(columns[kSeq]);
  return Status::OK();
}

// INSERT merges; argv[0] is the old rowid (NULL for an insert), argv[1]
// the new one, then the columns.
int Update(sqlite3_vtab* vtab, int argc, sqlite3_value** argv, sqlite3_int64*) {
  if (argc != 2 + kColumnCount || sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    return SetError(vtab, "crsql_changes: only INSERT is supported (it merges changes)");
  }
  Change change;
  Status status = ChangeFromRow(argv + 2, &change);
  if (status.ok()) status = VtabOf(vtab).context->Merge(change);
  return status.ok() ? SQLITE_OK : SetError(vtab, status.message());
}

const sqlite3_module kChangesModule = {
    /* iVersion */ 0,
    /* xCreate: eponymous only */ nullptr,
    Connect,
    BestIndex,
    Disconnect,
    /* xDestroy */ nullptr,
    Open,
    Close,
    Filter,
    Next,
    Eof,
    ColumnValue,
    Rowid,
    Update,
    /* xBegin */ nullptr,
    /* xSync */ nullptr,
    /* xCommit */ nullptr,
    /* xRollback */ nullptr,
    /* xFindFunction */ nullptr,
    /* xRename */ nullptr,
    /* xSavepoint */ nullptr,
    /* xRelease */ nullptr,
    /* xRollbackTo */ nullptr,
    /* xShadowName */ nullptr,
#if SQLITE_VERSION_NUMBER >= 3044000
    /* xIntegrity */ nullptr,
#endif
};

}  // namespace

Status RegisterChangesVtab(sqlite3* db, CrrContext* context) {
  if (sqlite3_create_module_v2(db, "crsql_changes", &kChangesModule, context, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("registering crsql_changes: ") + sqlite3_errmsg(db));
  }
  // Naming the table connects it for the connection's lifetime.
  Statement connect;
  return Statement::Prepare(db, "SELECT 1 FROM crsql_changes WHERE 0", &connect);
}

}  // namespace crbridge
