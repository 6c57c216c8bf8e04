// ErrorStatus: the one mapping from what libpqxx throws to a Status, used
// by every Postgres call site (the twin of mysql::ErrorStatus). Stateless:
// safe from any thread.
//
// Decided by exception type, then by SQLSTATE (pqxx::sql_error::sqlstate();
// libpqxx 6 throws its transaction_rollback family without one):
//
//   what was thrown                                     Status
//   ---------------------------------------------------  -----------
//   pqxx::broken_connection; class 08 (connection       Unavailable
//     exception); 57P01 admin_shutdown, 57P02
//     crash_shutdown, 57P03 cannot_connect_now; any
//     error after which the connection is closed
//   pqxx::in_doubt_error, pqxx::statement_completion_   Unavailable
//     unknown, 40003: the connection went away during
//     the commit, which may or may not have got through
//     (ShadowStore::Write's contract says so)
//   pqxx::transaction_rollback and its subclasses       Aborted
//     (serialization_failure, deadlock_detected); class
//     40 (40001 serialization failure, 40P01 deadlock)
//   55P03 lock_not_available                            Aborted
//   23505 unique_violation: an app transaction took a   Aborted
//     key the write found free (SyncStore::Merge runs
//     again on Aborted)
//   anything else: 42P01 undefined_table, 42703         Internal
//     undefined_column, 42501 insufficient_privilege,
//     class 22 data exception, class 23 other than
//     23505, errors that are not libpqxx's
//
// Unavailable and Aborted are worth retrying (the connection, the
// transaction); Internal is not: retrying fails the same way until a
// person steps in. No row reads InvalidArgument: that code blames the
// input, and SyncSession acknowledges and drops a changeset whose merge
// returns it, while a refusal of the database (a missing metadata table,
// a revoked grant) is never proven to be the peer's fault (SyncStore
// validates what peers send before any SQL).
#pragma once

#include <exception>
#include <memory>
#include <string_view>

#include "crbridge/sqlite/status.h"

namespace crbridge::postgres {

// The Status of `e`, thrown while doing `context` ("reading the change
// log"): "postgres: <context>: <what libpqxx said>". `connection_open`
// false (the connection was found closed after the error) makes any error
// Unavailable: a server going down can surface as an error of a statement.
Status ErrorStatus(const std::exception& e, std::string_view context, bool connection_open = true);

// Runs `body`, a function returning Status, turning what it throws into its
// Status.
template <typename Body>
Status CatchErrors(std::string_view context, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return ErrorStatus(e, context);
  }
}

// The same, also reading the error as a lost connection when `conn` is
// closed after it. `conn` is looked at after `body`, which may replace it
// (reconnect); null (no connection made yet) says nothing.
template <typename Connection, typename Body>
Status CatchErrors(std::string_view context, const std::unique_ptr<Connection>& conn, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return ErrorStatus(e, context, conn == nullptr || conn->is_open());
  }
}

}  // namespace crbridge::postgres
