// The SQLite API as the CRR layer sees it: the ordinary library, or, when
// compiled into the loadable extension (CRBRIDGE_SQLITE_EXTENSION), the
// function table the host SQLite hands to the extension.
#pragma once

#ifdef CRBRIDGE_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif
