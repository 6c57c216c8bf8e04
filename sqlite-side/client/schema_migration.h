// MigrateSchema: brings a client database's tables to those of a new
// schema text the way a vlcn app's automigrateTo (cr-sqlite's
// crsql_automigrate) does: the schema is applied to an empty database in
// memory and the two are compared; new tables are made (and made CRRs when
// the schema makes them so), a table's new columns are added and its
// dropped columns dropped between crsql_begin_alter and crsql_commit_alter
// (which give the existing rows the clocks cr-sqlite gives them), and
// indexes follow. A new primary key is refused (InvalidArgument: the
// table must be made again by hand, inside crsql_begin_alter and
// crsql_commit_alter); tables the schema no longer has are left as they
// are. Runs inside the caller's transaction. The connection's thread.
#pragma once

#include <string>

#include "crbridge/sqlite/crr.h"
#include "crbridge/sqlite/status.h"

namespace crbridge {

Status MigrateSchema(CrrDatabase& db, const std::string& schema_text);

}  // namespace crbridge
