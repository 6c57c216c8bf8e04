// Owning handles for libpq's connections and results, for code that uses
// libpq directly (connection probes, the replication stream).
#pragma once

#include <libpq-fe.h>

#include <memory>

namespace crbridge::postgres {

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

}  // namespace crbridge::postgres
