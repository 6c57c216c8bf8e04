// The entry point of the loadable extension crbridge_crr:
//   sqlite3 app.db '.load ./crbridge_crr' "SELECT crsql_as_crr('todos')"
#include "crbridge/sqlite/crr.h"
#include "sqlite_api.h"

SQLITE_EXTENSION_INIT1

extern "C" __attribute__((visibility("default"))) int sqlite3_crbridgecrr_init(sqlite3* db, char** error,
                                                                              const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  const crbridge::Status status = crbridge::RegisterCrr(db);
  if (!status.ok()) {
    *error = sqlite3_mprintf("crbridge_crr: %s", status.message().c_str());
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}
