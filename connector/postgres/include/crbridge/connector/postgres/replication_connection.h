// ReplicationConnection: a Postgres connection in logical replication mode
// (replication=database) on raw libpq, for replication slots and the
// pgoutput stream of START_REPLICATION, whose COPY BOTH protocol libpqxx
// cannot run. Not thread-safe: one thread uses it. The stop token given to
// Open may be requested from any thread; it ends whatever the connection is
// waiting for with Cancelled, so shutdown never waits on the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "crbridge/sqlite/status.h"

// libpq's PGconn, so that includers do not see libpq's C API.
struct pg_conn;
struct pg_result;

namespace crbridge::postgres {

// A replication slot as pg_replication_slots shows it.
struct FoundSlot {
  bool exists = false;
  uint64_t confirmed_flush_lsn = 0;
  // Why the server invalidated it, when it did: it can never stream again
  // (wal_status 'lost' on 13+, invalidation_reason on 17+, such as
  // "wal_removed" or 18's "idle_timeout").
  std::optional<std::string> invalidated;
  bool failover = false;  // 17+: a failover slot

  // Gone or invalidated: it cannot stream what the app wrote since.
  bool lost() const { return !exists || invalidated.has_value(); }
};

struct SystemIdentity {
  std::string system_id;  // an unsigned 64-bit number, in decimal as the server sends it
  int timeline = 0;
  uint64_t wal_position = 0;  // the server's current WAL flush position
  std::string database;
};

struct CreatedSlot {
  // The stream starts with the first transaction that commits after this
  // LSN; the snapshot sees exactly the transactions committed before it.
  uint64_t consistent_point = 0;
  // For SET TRANSACTION SNAPSHOT in another session's REPEATABLE READ
  // transaction. Valid only until this connection runs its next command
  // or closes, so import it first.
  std::string snapshot_name;
};

class ReplicationConnection {
 public:
  // Connects to `url` (a libpq URL or key=value string) with
  // replication=database, client_encoding UTF8 and session settings that
  // make pgoutput's text values stable: UTC, ISO dates, exact floats, hex
  // bytea, postgres intervals (its own `options` come first, ours win).
  // Gives up after the url's connect_timeout (10 s without one; 0 waits
  // until stopped). Unavailable when the server cannot be reached or
  // refuses us, InvalidArgument for a url libpq cannot parse or a server
  // older than PostgreSQL 10.
  static Status Open(const std::string& url, std::stop_token stop, std::unique_ptr<ReplicationConnection>* out);

  ~ReplicationConnection();
  ReplicationConnection(const ReplicationConnection&) = delete;
  ReplicationConnection& operator=(const ReplicationConnection&) = delete;

  // Errors of the commands below: Unavailable when the connection is lost,
  // the walsender is terminated or the slot is in use by another
  // connection; NotFound for a slot or publication that does not exist;
  // InvalidArgument for other refusals and for slot names that are not 1 to
  // 63 characters of a-z, 0-9 and '_'. After Cancelled (stop requested
  // while a command ran; it is cancelled on the server too), the connection
  // is unusable.

  Status IdentifySystem(SystemIdentity* out);

  // A pgoutput slot. Waits until transactions running now have finished.
  // A temporary slot lives until this connection closes: its exported
  // snapshot and consistent point are what one reads a table at.
  // A failover slot (Postgres 17+, permanent slots only) is kept in step
  // on standbys with sync_replication_slots.
  enum class SlotLife { kPermanent, kTemporary };
  Status CreateSlot(const std::string& slot, CreatedSlot* out, SlotLife life = SlotLife::kPermanent,
                    bool failover = false);

  // Makes `slot` a failover slot or not (Postgres 17+).
  Status SetFailover(const std::string& slot, bool failover);

  // Whether `slot` exists (in any database: slots are cluster-wide), the
  // position up to which its consumer confirmed the stream, and whether the
  // server invalidated it.
  Status FindSlot(const std::string& slot, FoundSlot* found);

  // Waits while another connection streams from the slot.
  Status DropSlot(const std::string& slot);

  // Starts the pgoutput stream of the publication's tables. `start_lsn` 0
  // means from the slot's confirmed_flush_lsn; transactions that commit
  // before the slot's position are never resent. `protocol_version` is 1,
  // or 2 (PostgreSQL 14 or newer, InvalidArgument before) to also stream
  // large transactions while they run.
  Status StartReplication(const std::string& slot, uint64_t start_lsn, const std::string& publication,
                          int protocol_version);

  // While streaming: the next CopyData message from the server ('w' XLogData
  // or 'k' keepalive, decoded by DecodeCopyData in pgoutput_decoder.h);
  // `got` is false when none arrived within `timeout`. Unavailable when the
  // server ended the stream or the connection broke; another code when the
  // server refused to go on (NotFound: the publication does not exist), and
  // then the connection takes commands again.
  Status ReadCopyData(std::chrono::milliseconds timeout, std::string* data, bool* got);

  // While streaming: the standby status update. `flushed` becomes the
  // slot's confirmed_flush_lsn, so it must only cover transactions that are
  // safely stored. `reply_now` asks for a keepalive at once.
  Status SendStandbyStatus(uint64_t written, uint64_t flushed, uint64_t applied, bool reply_now);

  // Ends the stream; the connection can then run commands again. Messages
  // the server sent in the meantime are discarded.
  Status StopReplication();

  // As PQserverVersion: 150004 for 15.4.
  int server_version() const;

 private:
  ReplicationConnection(pg_conn* conn, std::stop_token stop);
  // libpq's notice receiver: logs the server's notices, and keeps the one
  // saying the stream skips its publication (`connection`: the
  // ReplicationConnection, or null while it is being opened).
  static void ReceiveNotice(void* connection, const pg_result* notice);

  pg_conn* conn_;
  std::stop_token stop_;
  // Postgres 18+: the server's warning that it skipped the publication; the
  // stream ends with NotFound, as it does on older versions.
  std::string skipped_publication_;
};

}  // namespace crbridge::postgres
