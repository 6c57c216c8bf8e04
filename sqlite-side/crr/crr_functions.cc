// The SQL functions through which SQLite reaches the CRR layer, and
// RegisterCrr, which installs them on a connection.
#include <vector>

#include "changes_vtab.h"
#include "crbridge/sqlite/crr.h"
#include "crbridge/sqlite/packed_pk.h"
#include "crr_context.h"

namespace crbridge {
namespace {

CrrContext& ContextOf(sqlite3_context* ctx) { return *static_cast<CrrContext*>(sqlite3_user_data(ctx)); }

void ReportError(sqlite3_context* ctx, const Status& status) {
  sqlite3_result_error(ctx, status.message().c_str(), -1);
}

std::vector<Value> Arguments(sqlite3_value** argv, int from, int count) {
  std::vector<Value> values;
  values.reserve(static_cast<size_t>(count));
  for (int i = from; i < from + count; ++i) values.push_back(ValueFromSqlite(argv[i]));
  return values;
}

void SiteIdFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  const SiteId& site = ContextOf(ctx).site_id();
  sqlite3_result_blob(ctx, site.data(), static_cast<int>(site.size()), SQLITE_TRANSIENT);
}

void DbVersionFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  int64_t version = 0;
  if (Status s = ContextOf(ctx).DbVersion(&version); !s.ok()) return ReportError(ctx, s);
  sqlite3_result_int64(ctx, version);
}

void PackColumnsFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  Blob packed;
  if (Status s = EncodePackedPk(Arguments(argv, 0, argc), &packed); !s.ok()) return ReportError(ctx, s);
  sqlite3_result_blob(ctx, packed.data(), static_cast<int>(packed.size()), SQLITE_TRANSIENT);
}

void AsCrrFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (Status s = ContextOf(ctx).MakeCrr(TextFromSqlite(argv[0])); !s.ok()) return ReportError(ctx, s);
  sqlite3_result_null(ctx);
}

void ConfigSetFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Value stored;
  if (Status s = ContextOf(ctx).SetConfig(TextFromSqlite(argv[0]), ValueFromSqlite(argv[1]), &stored); !s.ok()) {
    return ReportError(ctx, s);
  }
  ResultValue(ctx, stored);
}

void ConfigGetFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Value value;
  if (Status s = ContextOf(ctx).GetConfig(TextFromSqlite(argv[0]), &value); !s.ok()) return ReportError(ctx, s);
  ResultValue(ctx, value);
}

void BeginAlterFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (Status s = ContextOf(ctx).BeginAlter(TextFromSqlite(argv[0])); !s.ok()) return ReportError(ctx, s);
  sqlite3_result_null(ctx);
}

void CommitAlterFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (Status s = ContextOf(ctx).CommitAlter(TextFromSqlite(argv[0])); !s.ok()) return ReportError(ctx, s);
  sqlite3_result_null(ctx);
}

void SyncBitFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_int(ctx, ContextOf(ctx).syncing() ? 1 : 0);
}

// crsql_after_insert(table, pk...) and crsql_after_delete(table, pk...).
void AfterInsertFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (Status s = ContextOf(ctx).AfterInsert(TextFromSqlite(argv[0]), Arguments(argv, 1, argc - 1)); !s.ok()) {
    return ReportError(ctx, s);
  }
  sqlite3_result_null(ctx);
}

void AfterDeleteFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (Status s = ContextOf(ctx).AfterDelete(TextFromSqlite(argv[0]), Arguments(argv, 1, argc - 1)); !s.ok()) {
    return ReportError(ctx, s);
  }
  sqlite3_result_null(ctx);
}

// crsql_after_update(table, new pk..., old pk..., changed) with `changed`
// a '1' or '0' per value column (crr_table.cc). Triggers recorded by
// earlier crbridge versions pass the new and the old values instead (which
// limited a table to about 60 columns); files made then keep working.
void AfterUpdateFunction(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  CrrContext& context = ContextOf(ctx);
  const std::string table = TextFromSqlite(argv[0]);
  const CrrTable* t = context.FindTable(table);
  if (t == nullptr) return ReportError(ctx, Status::InvalidArgument("not a CRR table: " + table));
  const int pks = static_cast<int>(t->pk_columns.size());
  const size_t values = t->value_columns.size();
  std::vector<bool> changed;
  if (argc == 2 + 2 * pks) {
    const std::string mask = TextFromSqlite(argv[1 + 2 * pks]);
    for (const char c : mask) changed.push_back(c == '1');
  } else if (argc == 1 + 2 * pks + 2 * static_cast<int>(values)) {
    for (size_t i = 0; i < values; ++i) {
      const int value = 1 + 2 * pks + static_cast<int>(i);
      changed.push_back(!(ValueFromSqlite(argv[value]) == ValueFromSqlite(argv[value + static_cast<int>(values)])));
    }
  }
  if (changed.size() != values) {
    return ReportError(ctx, Status::InvalidArgument("crsql_after_update: the columns of " + table +
                                                    " changed; run crsql_as_crr again"));
  }
  const Status s = context.AfterUpdate(table, Arguments(argv, 1, pks), Arguments(argv, 1 + pks, pks), changed);
  if (!s.ok()) return ReportError(ctx, s);
  sqlite3_result_null(ctx);
}

void RenewSiteIdFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  if (Status s = ContextOf(ctx).RenewSiteId(); !s.ok()) return ReportError(ctx, s);
  sqlite3_result_null(ctx);
}

// cr-sqlite's documented call before closing a connection. The layer does
// not need it (closing disconnects crsql_changes, which finalizes the
// cached statements), but apps written for cr-sqlite make it.
void FinalizeFunction(sqlite3_context* ctx, int, sqlite3_value**) {
  ContextOf(ctx).FinalizeStatements();
  sqlite3_result_null(ctx);
}

int OnCommit(void* context) {
  static_cast<CrrContext*>(context)->EndTransaction();
  return 0;
}

void OnRollback(void* context) { static_cast<CrrContext*>(context)->EndTransaction(); }

void DestroyContext(void* context) { delete static_cast<CrrContext*>(context); }

}  // namespace

Status RegisterCrr(sqlite3* db) {
  CrrContext* context = nullptr;
  return RegisterCrr(db, &context);
}

Status RegisterCrr(sqlite3* db, CrrContext** registered) {
  std::unique_ptr<CrrContext> owned;
  CRBRIDGE_RETURN_IF_ERROR(CrrContext::Open(db, &owned));
  CrrContext* context = owned.get();

  struct Function {
    const char* name;
    int args;
    int flags;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  constexpr int kPure = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  const Function functions[] = {
      {"crsql_db_version", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS, DbVersionFunction},
      {"crsql_pack_columns", -1, kPure, PackColumnsFunction},
      {"crsql_as_crr", 1, SQLITE_UTF8, AsCrrFunction},
      {"crsql_config_set", 2, SQLITE_UTF8, ConfigSetFunction},
      {"crsql_config_get", 1, SQLITE_UTF8, ConfigGetFunction},
      {"crsql_begin_alter", 1, SQLITE_UTF8, BeginAlterFunction},
      {"crsql_commit_alter", 1, SQLITE_UTF8, CommitAlterFunction},
      {"crsql_internal_sync_bit", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS, SyncBitFunction},
      {"crsql_after_insert", -1, SQLITE_UTF8, AfterInsertFunction},
      {"crsql_after_update", -1, SQLITE_UTF8, AfterUpdateFunction},
      {"crsql_after_delete", -1, SQLITE_UTF8, AfterDeleteFunction},
      {"crsql_finalize", 0, SQLITE_UTF8, FinalizeFunction},
      {"crsql_internal_renew_site_id", 0, SQLITE_UTF8, RenewSiteIdFunction},
  };
  // crsql_site_id owns the context: SQLite destroys it with the connection.
  if (sqlite3_create_function_v2(db, "crsql_site_id", 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                 owned.release(), SiteIdFunction, nullptr, nullptr, DestroyContext) != SQLITE_OK) {
    return Status::Internal(std::string("registering crsql_site_id: ") + sqlite3_errmsg(db));
  }
  for (const Function& f : functions) {
    if (sqlite3_create_function_v2(db, f.name, f.args, f.flags, context, f.fn, nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      return Status::Internal(std::string("registering ") + f.name + ": " + sqlite3_errmsg(db));
    }
  }
  sqlite3_commit_hook(db, OnCommit, context);
  sqlite3_rollback_hook(db, OnRollback, context);
  *registered = context;
  return RegisterChangesVtab(db, context);
}

}  // namespace crbridge
