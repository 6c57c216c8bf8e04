// The Postgres logical replication stream as crbridge reads it: the CopyData
// framing of a START_REPLICATION stream (XLogData, primary keepalive, the
// standby status update we send back) and the messages of the pgoutput
// plugin, protocol versions 1 and 2 (streamed transactions). Also LSN and
// timestamp helpers.
// The free functions are stateless and thread-safe. A PgOutputDecoder
// remembers whether it is inside a streamed-transaction block, so it is not
// thread-safe: one per replication connection, fed messages in order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crbridge/sqlite/status.h"

namespace crbridge::postgres {

// Microseconds since 2000-01-01 00:00:00 UTC, as Postgres sends them.
using PgTimestamp = int64_t;

// Postgres's infinite timestamps (INT64_MIN and INT64_MAX) and any value
// whose conversion would overflow saturate at the int64 limits.
int64_t PgTimestampToUnixMicros(PgTimestamp timestamp);
PgTimestamp UnixMicrosToPgTimestamp(int64_t unix_micros);

// "16/B374D848": the two 32-bit halves in upper-case hex, as Postgres
// prints an LSN.
std::string FormatLsn(uint64_t lsn);
// Accepts what Postgres's pg_lsn input accepts: 1 to 8 hex digits of either
// case, '/', 1 to 8 hex digits, nothing else. InvalidArgument otherwise.
Status ParseLsn(std::string_view text, uint64_t* lsn);

// ---- CopyData framing ----

// 'w': WAL data; `payload` is one pgoutput message and points into the
// buffer given to DecodeCopyData.
struct XLogData {
  uint64_t data_start = 0;
  uint64_t wal_end = 0;
  PgTimestamp send_time = 0;
  std::string_view payload;
  friend bool operator==(const XLogData&, const XLogData&) = default;
};

// 'k': the server's position; when `reply_requested`, it disconnects us
// unless a standby status update follows promptly.
struct PrimaryKeepalive {
  uint64_t wal_end = 0;
  PgTimestamp send_time = 0;
  bool reply_requested = false;
  friend bool operator==(const PrimaryKeepalive&, const PrimaryKeepalive&) = default;
};

using CopyDataMessage = std::variant<XLogData, PrimaryKeepalive>;

// Decodes one CopyData message received from the server. Returns Corruption
// for truncated messages or bytes after a keepalive, InvalidArgument for an
// unknown first byte.
Status DecodeCopyData(std::string_view copy_data, CopyDataMessage* message);

// The 'r' standby status update (34 bytes): how far we have received,
// flushed and applied the WAL. `reply_now` asks the server to answer with a
// keepalive at once.
std::string EncodeStandbyStatus(uint64_t written_lsn, uint64_t flushed_lsn, uint64_t applied_lsn,
                                PgTimestamp client_time, bool reply_now);

// ---- pgoutput messages ----

// One column of a row. The enumerators are the wire's kind bytes.
enum class PgTupleValueKind : char {
  kNull = 'n',
  // A TOASTed value the change did not touch: the server does not send it,
  // the row keeps its old value.
  kUnchangedToast = 'u',
  kText = 't',    // `data` is the type's text output
  kBinary = 'b',  // `data` is the type's binary send format
};

struct PgTupleValue {
  PgTupleValueKind kind = PgTupleValueKind::kNull;
  std::string data;  // empty unless kText or kBinary
  friend bool operator==(const PgTupleValue&, const PgTupleValue&) = default;
};

// The values in the relation's column order.
using PgTuple = std::vector<PgTupleValue>;

// Which old values an Update or Delete carries: with replica identity
// DEFAULT or INDEX only the key columns (the others are sent as NULL), with
// FULL the whole old row.
enum class PgOldTupleKind : char {
  kKeyColumns = 'K',
  kFullRow = 'O',
};

struct PgOldTuple {
  PgOldTupleKind kind = PgOldTupleKind::kKeyColumns;
  PgTuple values;
  friend bool operator==(const PgOldTuple&, const PgOldTuple&) = default;
};

enum class PgReplicaIdentity : char {
  kDefault = 'd',  // the primary key
  kNothing = 'n',
  kFull = 'f',
  kIndex = 'i',  // a chosen unique index
};

struct PgBegin {
  uint64_t final_lsn = 0;
  PgTimestamp commit_time = 0;
  uint32_t xid = 0;
  friend bool operator==(const PgBegin&, const PgBegin&) = default;
};

struct PgCommit {
  uint8_t flags = 0;  // no flags are defined yet
  uint64_t commit_lsn = 0;
  uint64_t end_lsn = 0;
  PgTimestamp commit_time = 0;
  friend bool operator==(const PgCommit&, const PgCommit&) = default;
};

// The replication origin the transaction was replayed from; crbridge's own
// writes carry crbridge's origin.
struct PgOrigin {
  uint64_t origin_lsn = 0;
  std::string name;
  friend bool operator==(const PgOrigin&, const PgOrigin&) = default;
};

// Data messages inside a streamed-transaction block carry the xid of the
// (sub)transaction; elsewhere `xid` is empty.

struct PgRelationColumn {
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  bool is_key = false;  // part of the replica identity: every column under FULL
  friend bool operator==(const PgRelationColumn&, const PgRelationColumn&) = default;
};

// Sent before the first change to a relation and again after its definition
// changes; later messages refer to it by `relid`.
struct PgRelation {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  std::string namespace_name;  // "pg_catalog" where the wire has ""
  std::string name;
  PgReplicaIdentity replica_identity = PgReplicaIdentity::kDefault;
  std::vector<PgRelationColumn> columns;
  friend bool operator==(const PgRelation&, const PgRelation&) = default;
};

// Sent for columns of non-built-in types before a Relation that uses them.
struct PgType {
  std::optional<uint32_t> xid;
  uint32_t type_oid = 0;
  std::string namespace_name;  // "pg_catalog" where the wire has ""
  std::string name;
  friend bool operator==(const PgType&, const PgType&) = default;
};

struct PgInsert {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  PgTuple new_tuple;
  friend bool operator==(const PgInsert&, const PgInsert&) = default;
};

// `old_tuple` is present when the key changed or the replica identity is
// FULL.
struct PgUpdate {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  std::optional<PgOldTuple> old_tuple;
  PgTuple new_tuple;
  friend bool operator==(const PgUpdate&, const PgUpdate&) = default;
};

struct PgDelete {
  std::optional<uint32_t> xid;
  uint32_t relid = 0;
  PgOldTuple old_tuple;
  friend bool operator==(const PgDelete&, const PgDelete&) = default;
};

struct PgTruncate {
  std::optional<uint32_t> xid;
  std::vector<uint32_t> relids;
  bool cascade = false;
  bool restart_identity = false;
  friend bool operator==(const PgTruncate&, const PgTruncate&) = default;
};

// pg_logical_emit_message(): a transactional message arrives inside its
// transaction, a non-transactional one as soon as it is written.
struct PgLogicalMessage {
  std::optional<uint32_t> xid;
  bool transactional = false;
  uint64_t lsn = 0;
  std::string prefix;
  std::string content;
  friend bool operator==(const PgLogicalMessage&, const PgLogicalMessage&) = default;
};

// Protocol 2 streams a large in-progress transaction in blocks, each
// between a Stream Start and a Stream Stop; a Stream Commit or Stream Abort
// (outside any block) ends it.
struct PgStreamStart {
  uint32_t xid = 0;
  bool first_segment = false;  // the first block of this transaction
  friend bool operator==(const PgStreamStart&, const PgStreamStart&) = default;
};

struct PgStreamStop {
  friend bool operator==(const PgStreamStop&, const PgStreamStop&) = default;
};

struct PgStreamCommit {
  uint32_t xid = 0;
  uint8_t flags = 0;  // no flags are defined yet
  uint64_t commit_lsn = 0;
  uint64_t end_lsn = 0;
  PgTimestamp commit_time = 0;
  friend bool operator==(const PgStreamCommit&, const PgStreamCommit&) = default;
};

// Aborts the changes streamed for `subxid`: the whole transaction when it
// equals `xid`, else one subtransaction.
struct PgStreamAbort {
  uint32_t xid = 0;
  uint32_t subxid = 0;
  friend bool operator==(const PgStreamAbort&, const PgStreamAbort&) = default;
};

using PgMessage = std::variant<PgBegin, PgCommit, PgOrigin, PgRelation, PgType, PgInsert, PgUpdate, PgDelete,
                               PgTruncate, PgLogicalMessage, PgStreamStart, PgStreamStop, PgStreamCommit,
                               PgStreamAbort>;

class PgOutputDecoder {
 public:
  // Decodes one pgoutput message, the payload of an XLogData. Returns
  // Corruption naming the message and field for truncated or malformed
  // input (including bytes after a complete message, and a Stream Start or
  // Stream Stop that does not alternate), InvalidArgument for an unknown
  // message type. Never reads outside `payload`. On error `message` and the
  // stream state are unchanged.
  Status Decode(std::string_view payload, PgMessage* message);

  bool in_stream_block() const { return in_stream_block_; }

 private:
  bool in_stream_block_ = false;
};

}  // namespace crbridge::postgres
