#include "postgres_database.h"

#include <libpq-fe.h>

#include <memory>
#include <string_view>

#include "socket_wait.h"

namespace crbridge {
namespace {

struct PgConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running..."); logs want one line.
Status PgError(PGconn* conn) {
  std::string message;
  for (const char c : std::string_view(PQerrorMessage(conn))) {
    if (c == '\n' || c == '\t') {
      if (!message.empty() && message.back() != ' ') message += ' ';
    } else {
      message += c;
    }
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return Status::Unavailable("postgres: " + message);
}

}  // namespace

Status PostgresDatabase::Probe(std::chrono::milliseconds timeout, std::stop_token stop, ServerInfo* info) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const char* keywords[] = {"dbname", nullptr};
  const char* values[] = {url_.c_str(), nullptr};
  std::unique_ptr<PGconn, PgConnDeleter> conn(PQconnectStartParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) return Status::Internal("libpq could not allocate a connection");
  if (PQstatus(conn.get()) == CONNECTION_BAD) return PgError(conn.get());

  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) return PgError(conn.get());
    const SocketReady want = polling == PGRES_POLLING_READING ? SocketReady::kRead : SocketReady::kWrite;
    if (Status s = WaitForSocket(PQsocket(conn.get()), want, deadline, stop, "postgres connect"); !s.ok()) return s;
    polling = PQconnectPoll(conn.get());
  }

  if (PQsendQuery(conn.get(), "SHOW server_version") != 1) return PgError(conn.get());
  while (PQisBusy(conn.get())) {
    if (Status s = WaitForSocket(PQsocket(conn.get()), SocketReady::kRead, deadline, stop, "postgres query");
        !s.ok()) {
      return s;
    }
    if (PQconsumeInput(conn.get()) != 1) return PgError(conn.get());
  }
  std::unique_ptr<PGresult, PgResultDeleter> result(PQgetResult(conn.get()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) return PgError(conn.get());
  info->product = "PostgreSQL";
  info->version = PQgetvalue(result.get(), 0, 0);
  return Status::OK();
}

}  // namespace crbridge
