#include "crbridge/connector/postgres/replication_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "crbridge/connector/ops/structured_log.h"
#include "crbridge/connector/postgres/pgoutput_decoder.h"
#include "crbridge/server/postgres/libpq_handles.h"

namespace crbridge::postgres {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNoDeadline = Clock::time_point::max();

// pgoutput prints values with the walsender's settings; these make the text
// independent of the server's and the role's defaults.
constexpr const char* kSessionOptions =
    "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=3 -c bytea_output=hex -c IntervalStyle=postgres";

constexpr const char* kPrefix = "postgres replication: ";

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running..."); logs want one line.
std::string OneLine(std::string_view message) {
  std::string line;
  for (const char c : message) {
    if (c == '\n' || c == '\t') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

Status Lost(PGconn* conn) { return Status::Unavailable(kPrefix + OneLine(PQerrorMessage(conn))); }

}  // namespace

// libpq prints the server's notices to stderr (Postgres 13 warns every
// connection "terminating connection because of crash of another server
// process"); they belong in the structured log. On a stream, Postgres 18's
// pgoutput warns where older versions fail: a publication it cannot find
// at the WAL position it decodes is skipped, and the changes it would have
// published with it, silently. That warning is told by the function that
// raises it, which no translation changes.
void ReplicationConnection::ReceiveNotice(void* connection, const PGresult* notice) {
  const char* primary = PQresultErrorField(notice, PG_DIAG_MESSAGE_PRIMARY);
  const std::string message = OneLine(primary != nullptr ? primary : PQresultErrorMessage(notice));
  log::Warn("postgres", "the server says", {{"notice", message}});
  const char* function = PQresultErrorField(notice, PG_DIAG_SOURCE_FUNCTION);
  if (connection != nullptr && function != nullptr && std::string_view(function) == "LoadPublications") {
    static_cast<ReplicationConnection*>(connection)->skipped_publication_ = message;
  }
}

namespace {

Status CommandError(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const std::string message =
      kPrefix + std::string(what) + ": " + OneLine(primary != nullptr ? primary : PQresultErrorMessage(result));
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  // Errors libpq makes up itself (no SQLSTATE) are about the connection.
  if (PQstatus(conn) == CONNECTION_BAD || sqlstate == nullptr) return Status::Unavailable(message);
  const std::string_view code(sqlstate);
  if (code == "42704") return Status::NotFound(message);  // undefined_object: the slot or publication
  // Connection exceptions, shutdown and termination, exhausted resources,
  // and a slot that another walsender still holds: worth retrying later.
  if (code.starts_with("08") || code.starts_with("57") || code.starts_with("53") || code == "55006") {
    return Status::Unavailable(message);
  }
  return Status::InvalidArgument(message);
}

// Unlike server-side's WaitForSocket, reaching the deadline is no error (an
// idle stream is normal), and a wait to write also ends when the server
// sends something, as PQflush's non-blocking contract requires.
Status WaitForSocket(PGconn* conn, bool want_write, Clock::time_point deadline, const std::stop_token& stop,
                     bool* timed_out) {
  // Short slices bound how long a stop request waits to be noticed.
  constexpr std::chrono::milliseconds kSlice{100};
  *timed_out = false;
  const int fd = PQsocket(conn);
  if (fd < 0) return Lost(conn);
  while (true) {
    if (stop.stop_requested()) return Status::Cancelled(std::string(kPrefix) + "stopped");
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      *timed_out = true;
      return Status::OK();
    }
    const auto slice = std::chrono::ceil<std::chrono::milliseconds>(std::min<Clock::duration>(deadline - now, kSlice));
    pollfd entry{fd, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    const int ready = poll(&entry, 1, static_cast<int>(slice.count()));
    if (ready > 0) return Status::OK();
    if (ready < 0 && errno != EINTR) return Status::IOError(std::string(kPrefix) + "poll: " + std::strerror(errno));
  }
}

Status Flush(PGconn* conn, const std::stop_token& stop) {
  while (true) {
    const int pending = PQflush(conn);
    if (pending == 0) return Status::OK();
    if (pending < 0) return Lost(conn);
    bool timed_out = false;
    CRBRIDGE_RETURN_IF_ERROR(WaitForSocket(conn, /*want_write=*/true, kNoDeadline, stop, &timed_out));
    if (PQconsumeInput(conn) != 1) return Lost(conn);
  }
}

// The next result of the running command, null after the last; waits
// because PQgetResult itself would block.
Status NextResult(PGconn* conn, const std::stop_token& stop, PgResultPtr* result) {
  while (PQisBusy(conn)) {
    bool timed_out = false;
    CRBRIDGE_RETURN_IF_ERROR(WaitForSocket(conn, /*want_write=*/false, kNoDeadline, stop, &timed_out));
    if (PQconsumeInput(conn) != 1) return Lost(conn);
  }
  result->reset(PQgetResult(conn));
  return Status::OK();
}

// Reads the results left after a copy so that the connection takes commands
// again; returns the first error among them.
Status DrainResults(PGconn* conn, const std::stop_token& stop, std::string_view what) {
  Status error;
  while (true) {
    PgResultPtr result;
    const Status next = NextResult(conn, stop, &result);
    // The server's error says more than the closed connection after it.
    if (!next.ok()) return error.ok() || next.code() == Status::Code::kCancelled ? next : error;
    if (result == nullptr) return error;
    const ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_FATAL_ERROR && error.ok()) error = CommandError(conn, result.get(), what);
    // The server ended its side of the copy first: libpq repeats this
    // result until ours ends too.
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) return error;
  }
}

// Closing the socket would not stop a command that waits on the server
// (CREATE_REPLICATION_SLOT for old transactions, DROP_REPLICATION_SLOT WAIT
// for the slot's user), and would leave the slot half made or in use.
void CancelOnServer(PGconn* conn) {
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) return;
  char error[256];
  PQcancel(cancel, error, sizeof error);  // best effort: the caller is stopping anyway
  PQfreeCancel(cancel);
}

// Runs a simple-protocol command (the only kind a replication connection
// takes) and returns its result, which must have status `expected`.
Status Exec(PGconn* conn, const std::stop_token& stop, const std::string& command, std::string_view what,
            ExecStatusType expected, PgResultPtr* out) {
  if (PQsendQuery(conn, command.c_str()) != 1) return Lost(conn);
  Status status = Flush(conn, stop);
  Status error;
  while (status.ok()) {
    PgResultPtr result;
    status = NextResult(conn, stop, &result);
    if (!status.ok() || result == nullptr) break;
    const ExecStatusType got = PQresultStatus(result.get());
    if (got == expected && *out == nullptr) {
      *out = std::move(result);
      // libpq hands out COPY results until the copy ends.
      if (got == PGRES_COPY_BOTH) return Status::OK();
    } else if (error.ok()) {
      error = got == PGRES_FATAL_ERROR
                  ? CommandError(conn, result.get(), what)
                  : Status::Corruption(kPrefix + std::string(what) + ": unexpected result " + PQresStatus(got));
    }
  }
  if (status.code() == Status::Code::kCancelled) CancelOnServer(conn);
  if (!status.ok()) return status;
  if (!error.ok()) return error;
  if (*out == nullptr) return Status::Corruption(kPrefix + std::string(what) + ": no result");
  return Status::OK();
}

Status ExpectRow(const PGresult* result, int columns, std::string_view what) {
  if (PQntuples(result) == 1 && PQnfields(result) >= columns) return Status::OK();
  return Status::Corruption(kPrefix + std::string(what) + ": expected one row of " + std::to_string(columns) +
                            " columns, got " + std::to_string(PQntuples(result)) + " of " +
                            std::to_string(PQnfields(result)));
}

// Postgres's own rule for slot names, which also makes quoting them
// unnecessary.
Status CheckSlotName(const std::string& slot) {
  const bool valid = !slot.empty() && slot.size() <= 63 && std::all_of(slot.begin(), slot.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                     });
  if (valid) return Status::OK();
  return Status::InvalidArgument(kPrefix + std::string("slot name \"") + slot +
                                 "\": use 1 to 63 characters of a-z, 0-9 and _");
}

// The replication grammar's string literals know only '' as an escape.
std::string QuoteLiteral(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') quoted += c;
    quoted += c;
  }
  return quoted + "'";
}

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"') quoted += c;
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

ReplicationConnection::ReplicationConnection(pg_conn* conn, std::stop_token stop)
    : conn_(conn), stop_(std::move(stop)) {
  PQsetNoticeReceiver(conn_, ReceiveNotice, this);
}

ReplicationConnection::~ReplicationConnection() { PQfinish(conn_); }

Status ReplicationConnection::Open(const std::string& url, std::stop_token stop,
                                   std::unique_ptr<ReplicationConnection>* out) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    const std::string reason = parse_error != nullptr ? OneLine(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return Status::InvalidArgument(kPrefix + std::string("invalid url: ") + reason);
  }
  std::vector<std::pair<std::string, std::string>> params;
  std::string options;
  int connect_timeout_seconds = 10;
  for (const PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || *option->val == '\0') continue;
    const std::string_view keyword = option->keyword;
    const std::string_view value = option->val;
    if (keyword == "options") {
      options = std::string(value) + " ";
    } else if (keyword != "replication" && keyword != "client_encoding") {
      if (keyword == "connect_timeout") {
        // libpq reports a malformed value itself when connecting.
        std::from_chars(value.data(), value.data() + value.size(), connect_timeout_seconds);
      }
      params.emplace_back(keyword, value);
    }
  }
  PQconninfoFree(parsed);
  params.emplace_back("replication", "database");
  // pgoutput converts text values to the client encoding.
  params.emplace_back("client_encoding", "UTF8");
  params.emplace_back("options", options + kSessionOptions);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : params) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  // libpq's connect_timeout applies only to blocking connects.
  const Clock::time_point deadline =
      connect_timeout_seconds > 0 ? Clock::now() + std::chrono::seconds(connect_timeout_seconds) : kNoDeadline;
  PgConnPtr conn(PQconnectStartParams(keywords.data(), values.data(), 0));
  if (conn == nullptr) return Status::Internal(kPrefix + std::string("libpq could not allocate a connection"));
  if (PQstatus(conn.get()) == CONNECTION_BAD) return Lost(conn.get());
  PQsetNoticeReceiver(conn.get(), ReceiveNotice, nullptr);
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) return Lost(conn.get());
    bool timed_out = false;
    CRBRIDGE_RETURN_IF_ERROR(
        WaitForSocket(conn.get(), /*want_write=*/polling == PGRES_POLLING_WRITING, deadline, stop, &timed_out));
    if (timed_out) {
      return Status::Unavailable(kPrefix + std::string("connecting timed out after ") +
                                 std::to_string(connect_timeout_seconds) + " s");
    }
    polling = PQconnectPoll(conn.get());
  }
  if (PQserverVersion(conn.get()) < 100000) {
    return Status::InvalidArgument(kPrefix + std::string("logical replication with pgoutput needs PostgreSQL 10 or "
                                                         "newer; the server is version ") +
                                   PQparameterStatus(conn.get(), "server_version"));
  }
  if (PQsetnonblocking(conn.get(), 1) != 0) return Lost(conn.get());
  // A SQL_ASCII database holds bytes in no encoding: converted to UTF8, the
  // first text that is not UTF-8 would fail the stream for good. Taken as
  // they are, such text does not map, and only its row is rejected
  // (type_mapping.h).
  const char* encoding = PQparameterStatus(conn.get(), "server_encoding");
  if (encoding != nullptr && std::string_view(encoding) == "SQL_ASCII") {
    PgResultPtr result;
    CRBRIDGE_RETURN_IF_ERROR(Exec(conn.get(), stop, "SET client_encoding = 'SQL_ASCII'", "setting the client encoding",
                                  PGRES_COMMAND_OK, &result));
  }
  out->reset(new ReplicationConnection(conn.release(), std::move(stop)));
  return Status::OK();
}

Status ReplicationConnection::IdentifySystem(SystemIdentity* out) {
  PgResultPtr result;
  CRBRIDGE_RETURN_IF_ERROR(Exec(conn_, stop_, "IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM", PGRES_TUPLES_OK, &result));
  CRBRIDGE_RETURN_IF_ERROR(ExpectRow(result.get(), 4, "IDENTIFY_SYSTEM"));
  SystemIdentity identity;
  identity.system_id = PQgetvalue(result.get(), 0, 0);
  const std::string_view timeline = PQgetvalue(result.get(), 0, 1);
  if (std::from_chars(timeline.data(), timeline.data() + timeline.size(), identity.timeline).ec != std::errc()) {
    return Status::Corruption(kPrefix + std::string("IDENTIFY_SYSTEM: timeline \"") + std::string(timeline) + "\"");
  }
  CRBRIDGE_RETURN_IF_ERROR(ParseLsn(PQgetvalue(result.get(), 0, 2), &identity.wal_position));
  identity.database = PQgetvalue(result.get(), 0, 3);
  *out = std::move(identity);
  return Status::OK();
}

Status ReplicationConnection::CreateSlot(const std::string& slot, CreatedSlot* out, SlotLife life, bool failover) {
  CRBRIDGE_RETURN_IF_ERROR(CheckSlotName(slot));
  PgResultPtr result;
  // The keyword form: the parenthesised options need PostgreSQL 15, and
  // only they say FAILOVER (17).
  const std::string temporary = life == SlotLife::kTemporary ? " TEMPORARY" : "";
  const std::string options = failover ? " (SNAPSHOT 'export', FAILOVER true)" : " EXPORT_SNAPSHOT";
  CRBRIDGE_RETURN_IF_ERROR(Exec(conn_, stop_, "CREATE_REPLICATION_SLOT " + slot + temporary + " LOGICAL pgoutput" + options,
                                "CREATE_REPLICATION_SLOT", PGRES_TUPLES_OK, &result));
  CRBRIDGE_RETURN_IF_ERROR(ExpectRow(result.get(), 3, "CREATE_REPLICATION_SLOT"));
  CreatedSlot created;
  CRBRIDGE_RETURN_IF_ERROR(ParseLsn(PQgetvalue(result.get(), 0, 1), &created.consistent_point));
  created.snapshot_name = PQgetvalue(result.get(), 0, 2);
  *out = std::move(created);
  return Status::OK();
}

Status ReplicationConnection::FindSlot(const std::string& slot, FoundSlot* found) {
  CRBRIDGE_RETURN_IF_ERROR(CheckSlotName(slot));
  PgResultPtr result;
  // Replication connections take no parameters; the checked name needs no
  // escaping. invalidation_reason (17+), wal_status (13+) and failover
  // (17+) are read through the row's JSON, which every version has.
  CRBRIDGE_RETURN_IF_ERROR(
      Exec(conn_, stop_,
           "SELECT confirmed_flush_lsn, COALESCE(to_jsonb(s)->>'invalidation_reason', "
           "CASE WHEN to_jsonb(s)->>'wal_status' = 'lost' THEN 'wal_status lost' END), "
           "COALESCE(to_jsonb(s)->>'failover', 'false') "
           "FROM pg_catalog.pg_replication_slots s "
           "WHERE slot_name = '" + slot + "'",
           "reading pg_replication_slots", PGRES_TUPLES_OK, &result));
  *found = FoundSlot{};
  found->exists = PQntuples(result.get()) > 0;
  if (!found->exists) return Status::OK();
  if (!PQgetisnull(result.get(), 0, 1)) found->invalidated = PQgetvalue(result.get(), 0, 1);
  found->failover = std::string_view(PQgetvalue(result.get(), 0, 2)) == "true";
  // NULL for a physical slot, and for a logical one until it is consistent.
  if (PQgetisnull(result.get(), 0, 0)) return Status::OK();
  return ParseLsn(PQgetvalue(result.get(), 0, 0), &found->confirmed_flush_lsn);
}

Status ReplicationConnection::SetFailover(const std::string& slot, bool failover) {
  CRBRIDGE_RETURN_IF_ERROR(CheckSlotName(slot));
  PgResultPtr result;
  return Exec(conn_, stop_, "ALTER_REPLICATION_SLOT " + slot + " (FAILOVER " + (failover ? "true" : "false") + ")",
              "ALTER_REPLICATION_SLOT", PGRES_COMMAND_OK, &result);
}

Status ReplicationConnection::DropSlot(const std::string& slot) {
  CRBRIDGE_RETURN_IF_ERROR(CheckSlotName(slot));
  PgResultPtr result;
  return Exec(conn_, stop_, "DROP_REPLICATION_SLOT " + slot + " WAIT", "DROP_REPLICATION_SLOT", PGRES_COMMAND_OK,
              &result);
}

Status ReplicationConnection::StartReplication(const std::string& slot, uint64_t start_lsn,
                                               const std::string& publication, int protocol_version) {
  CRBRIDGE_RETURN_IF_ERROR(CheckSlotName(slot));
  if (publication.empty()) return Status::InvalidArgument(kPrefix + std::string("no publication name"));
  if (protocol_version != 1 && protocol_version != 2) {
    return Status::InvalidArgument(kPrefix + std::string("pgoutput protocol version ") +
                                   std::to_string(protocol_version) + ": crbridge reads versions 1 and 2");
  }
  if (protocol_version == 2 && server_version() < 140000) {
    return Status::InvalidArgument(kPrefix + std::string("pgoutput protocol version 2 needs PostgreSQL 14 or newer; "
                                                         "the server is version ") +
                                   PQparameterStatus(conn_, "server_version"));
  }
  const std::string command = "START_REPLICATION SLOT " + slot + " LOGICAL " + FormatLsn(start_lsn) +
                              " (proto_version '" + std::to_string(protocol_version) +
                              "', publication_names " + QuoteLiteral(QuoteIdentifier(publication)) +
                              (protocol_version == 2 ? ", streaming 'on')" : ")");
  PgResultPtr result;
  return Exec(conn_, stop_, command, "START_REPLICATION", PGRES_COPY_BOTH, &result);
}

Status ReplicationConnection::ReadCopyData(std::chrono::milliseconds timeout, std::string* data, bool* got) {
  *got = false;
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    char* buffer = nullptr;
    const int length = PQgetCopyData(conn_, &buffer, /*async=*/1);
    // libpq takes the warning in the same call that returns what follows
    // it (a keepalive past the skipped changes, say): nothing after the
    // warning is returned, lest the slot be confirmed past those changes.
    if (!skipped_publication_.empty()) {
      if (length > 0) PQfreemem(buffer);
      // Ended as the server ends it when it fails: the connection stays usable.
      const std::string skipped = std::move(skipped_publication_);
      skipped_publication_.clear();
      CRBRIDGE_RETURN_IF_ERROR(StopReplication());
      return Status::NotFound(kPrefix + std::string("the replication stream: ") + skipped +
                              " (the publication does not exist at this position of the WAL)");
    }
    if (length > 0) {
      data->assign(buffer, static_cast<size_t>(length));
      PQfreemem(buffer);
      *got = true;
      return Status::OK();
    }
    if (length == -2) return Lost(conn_);
    if (length == -1) {
      CRBRIDGE_RETURN_IF_ERROR(DrainResults(conn_, stop_, "the replication stream"));
      return Status::Unavailable(kPrefix + std::string("the server ended the replication stream"));
    }
    bool timed_out = false;
    CRBRIDGE_RETURN_IF_ERROR(WaitForSocket(conn_, /*want_write=*/false, deadline, stop_, &timed_out));
    if (timed_out) return Status::OK();
    if (PQconsumeInput(conn_) != 1) return Lost(conn_);
  }
}

Status ReplicationConnection::SendStandbyStatus(uint64_t written, uint64_t flushed, uint64_t applied,
                                                bool reply_now) {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const std::string message =
      EncodeStandbyStatus(written, flushed, applied, UnixMicrosToPgTimestamp(now.count()), reply_now);
  while (true) {
    const int queued = PQputCopyData(conn_, message.data(), static_cast<int>(message.size()));
    if (queued == 1) break;
    if (queued < 0) return Lost(conn_);
    // libpq's output buffer is full.
    CRBRIDGE_RETURN_IF_ERROR(Flush(conn_, stop_));
  }
  return Flush(conn_, stop_);
}

Status ReplicationConnection::StopReplication() {
  int ended = 0;
  while ((ended = PQputCopyEnd(conn_, nullptr)) == 0) CRBRIDGE_RETURN_IF_ERROR(Flush(conn_, stop_));
  if (ended < 0) return Lost(conn_);
  CRBRIDGE_RETURN_IF_ERROR(Flush(conn_, stop_));
  // The server ends its side of the copy after ours.
  while (true) {
    char* buffer = nullptr;
    const int length = PQgetCopyData(conn_, &buffer, /*async=*/1);
    if (length > 0) {
      PQfreemem(buffer);
      continue;
    }
    if (length == -2) return Lost(conn_);
    if (length == -1) break;
    bool timed_out = false;
    CRBRIDGE_RETURN_IF_ERROR(WaitForSocket(conn_, /*want_write=*/false, kNoDeadline, stop_, &timed_out));
    if (PQconsumeInput(conn_) != 1) return Lost(conn_);
  }
  return DrainResults(conn_, stop_, "ending the replication stream");
}

int ReplicationConnection::server_version() const { return PQserverVersion(conn_); }

}  // namespace crbridge::postgres
