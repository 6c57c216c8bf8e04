// crsql_changes as cr-sqlite has it: an eponymous virtual table over every
// CRR table's clocks. Reading returns changes in db_version, seq order
// (whatever the query's ORDER BY, which SQLite applies on top); a
// db_version constraint is pushed into the clock tables' index. Inserting
// merges (CrrContext::Merge); updates and deletes are refused. Because it
// is a virtual table, SQLite disconnects it first thing when the
// connection closes, which finalizes the layer's cached statements:
// sqlite3_close succeeds without crsql_finalize(). Used from the
// connection's thread, as SQLite calls it.
#pragma once

#include "crbridge/sqlite/status.h"
#include "sqlite_api.h"

namespace crbridge {

class CrrContext;

// Registers the module on `db` and connects it, so that closing the
// connection reaches it. `context` outlives the module's use (it is freed
// with the connection's functions, after SQLite disconnects the table).
Status RegisterChangesVtab(sqlite3* db, CrrContext* context);

}  // namespace crbridge
