// The events of a MySQL/MariaDB row binlog as crbridge reads them: the
// 19-byte event header, the CRC32 trailer, and the bodies of the events
// capture needs (format description, rotate, heartbeat, query, xid, the
// MariaDB and MySQL GTID events, tagged ones included, table maps with
// their optional metadata, the framing of ROWS events v1 and v2, and
// MySQL's compressed transactions; the row images themselves are decoded
// by binlog_rows.h, the transactions' events by binlog_payload.h). Layouts: docs/mysql-binlog.md.
// Stateless functions over plain structs; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crbridge/server/mysql/mysql_flavor.h"
#include "crbridge/sqlite/status.h"

namespace crbridge::mysql {

// The event types this decoder knows, numbered as on the wire. A header may
// carry any other number; such events decode to BinlogSkippedEvent.
enum class BinlogEventType : uint8_t {
  kQuery = 2,
  kRotate = 4,
  kFormatDescription = 15,
  kXid = 16,
  kTableMap = 19,
  kWriteRowsV1 = 23,   // MariaDB
  kUpdateRowsV1 = 24,  // MariaDB
  kDeleteRowsV1 = 25,  // MariaDB
  kHeartbeat = 27,
  kWriteRowsV2 = 30,   // MySQL
  kUpdateRowsV2 = 31,  // MySQL
  kDeleteRowsV2 = 32,  // MySQL
  kMysqlGtid = 33,
  kMysqlAnonymousGtid = 34,
  kXaPrepare = 38,           // MySQL: ends the first part of an XA transaction, or all of it (one phase)
  kPartialUpdateRows = 39,   // MySQL with binlog_row_value_options=PARTIAL_JSON: refused
  kTransactionPayload = 40,  // MySQL with binlog_transaction_compression=ON
  kHeartbeatV2 = 41,         // MySQL 8.0.26+
  kMysqlTaggedGtid = 42,     // MySQL 8.3+
  kMariaDbGtid = 162,
  kMariaDbGtidList = 163,
};

constexpr size_t kBinlogEventHeaderSize = 19;
constexpr size_t kBinlogChecksumSize = 4;

// Header flags.
constexpr uint16_t kBinlogEventArtificial = 0x0020;  // made up by the server for the stream, not in a binlog file
constexpr uint16_t kBinlogEventSkipReplication = 0x8000;

struct BinlogEventHeader {
  uint32_t timestamp = 0;  // seconds since the Unix epoch
  BinlogEventType type = BinlogEventType::kQuery;
  uint32_t server_id = 0;  // the server that wrote the event (or a session's server_id)
  uint32_t event_size = 0;  // header, body and checksum
  uint32_t log_pos = 0;     // the position after this event in its binlog file (0 for some artificial events)
  uint16_t flags = 0;
  friend bool operator==(const BinlogEventHeader&, const BinlogEventHeader&) = default;
};

// Decodes the first 19 bytes of `bytes`. Corruption when fewer.
Status DecodeBinlogEventHeader(std::string_view bytes, BinlogEventHeader* header);

// Whether events end with a CRC32 of everything before it (the server's
// binlog_checksum, which the FORMAT_DESCRIPTION event announces).
enum class BinlogChecksum : uint8_t { kOff = 0, kCrc32 = 1 };

// ---- event bodies ----

struct BinlogFormatDescription {
  uint16_t binlog_version = 0;  // 4 for every server crbridge supports
  std::string server_version;   // "10.11.6-MariaDB-0+deb12u1", "8.0.36"
  uint32_t create_timestamp = 0;
  // Post-header length of each event type, indexed by type - 1.
  std::vector<uint8_t> post_header_lengths;
  BinlogChecksum checksum = BinlogChecksum::kOff;
  friend bool operator==(const BinlogFormatDescription&, const BinlogFormatDescription&) = default;
};

// The stream moves to another binlog file; the first event of a stream is an
// artificial rotate that names the file it starts in.
struct BinlogRotate {
  uint64_t position = 0;
  std::string file_name;
  friend bool operator==(const BinlogRotate&, const BinlogRotate&) = default;
};

// Sent while the binlog is idle; the header's log_pos is the current
// position in `file_name`.
struct BinlogHeartbeat {
  std::string file_name;
  friend bool operator==(const BinlogHeartbeat&, const BinlogHeartbeat&) = default;
};

// A statement: DDL, "BEGIN" (MySQL groups), or "COMMIT" ending a group
// without an XID (non-transactional tables).
struct BinlogQuery {
  uint32_t thread_id = 0;
  uint32_t exec_seconds = 0;
  uint16_t error_code = 0;
  std::string status_variables;  // undecoded: sql_mode, charsets, ...
  std::string database;          // the session's default database, may be empty
  std::string sql;
  friend bool operator==(const BinlogQuery&, const BinlogQuery&) = default;
};

// Ends a transaction.
struct BinlogXid {
  uint64_t xid = 0;
  friend bool operator==(const BinlogXid&, const BinlogXid&) = default;
};

// Ends the events of an XA transaction's XA START ... XA END (MySQL): with
// `one_phase` (XA COMMIT ... ONE PHASE) they are committed; without, they
// are only prepared, and a later group commits or rolls them back.
struct BinlogXaPrepare {
  bool one_phase = false;
  friend bool operator==(const BinlogXaPrepare&, const BinlogXaPrepare&) = default;
};

// MariaDB GTID flags2.
constexpr uint8_t kMariaDbGtidStandalone = 0x01;  // no XID ends the group (DDL, non-transactional)
constexpr uint8_t kMariaDbGtidGroupCommitId = 0x02;
constexpr uint8_t kMariaDbGtidTransactional = 0x04;
constexpr uint8_t kMariaDbGtidDdl = 0x20;
constexpr uint8_t kMariaDbGtidPreparedXa = 0x40;
constexpr uint8_t kMariaDbGtidCompletedXa = 0x80;

struct BinlogXaId {
  uint32_t format_id = 0;
  std::string global_transaction_id;
  std::string branch_qualifier;
  friend bool operator==(const BinlogXaId&, const BinlogXaId&) = default;
};

// Starts a MariaDB event group (no "BEGIN" query follows). The GTID is
// domain-server-sequence; the server is the header's server_id.
struct BinlogMariaDbGtid {
  uint64_t sequence = 0;
  uint32_t domain_id = 0;
  uint8_t flags = 0;
  std::optional<uint64_t> commit_id;  // with kMariaDbGtidGroupCommitId
  std::optional<BinlogXaId> xa_id;    // with kMariaDbGtidPreparedXa or kMariaDbGtidCompletedXa
  friend bool operator==(const BinlogMariaDbGtid&, const BinlogMariaDbGtid&) = default;
};

struct BinlogMariaDbGtidPosition {
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint64_t sequence = 0;
  friend bool operator==(const BinlogMariaDbGtidPosition&, const BinlogMariaDbGtidPosition&) = default;
};

// The GTID state at the start of a binlog file.
struct BinlogMariaDbGtidList {
  uint8_t flags = 0;  // the count's top 4 bits
  std::vector<BinlogMariaDbGtidPosition> positions;
  friend bool operator==(const BinlogMariaDbGtidList&, const BinlogMariaDbGtidList&) = default;
};

// Starts a MySQL event group: a "BEGIN" query follows, or the group is one
// DDL statement. Anonymous GTIDs (GTID mode off) have a zero uuid and gno.
// Tagged GTIDs (uuid:tag:gno, MySQL 8.3+) come in events of their own.
struct BinlogMysqlGtid {
  bool anonymous = false;
  uint8_t flags = 0;  // 1: may commit in parallel with the previous group
  std::array<uint8_t, 16> source_uuid{};
  std::string tag;  // "" when untagged
  uint64_t gno = 0;
  // The logical clock for parallel appliers, absent from pre-5.7 servers.
  std::optional<uint64_t> last_committed;
  std::optional<uint64_t> sequence_number;
  friend bool operator==(const BinlogMysqlGtid&, const BinlogMysqlGtid&) = default;
};

// "3e11fa47-71ca-11e1-9e33-c80aa9429562", as MySQL prints a server uuid.
std::string FormatMysqlUuid(const std::array<uint8_t, 16>& uuid);

// "3e11fa47-71ca-11e1-9e33-c80aa9429562:23" (or "...:tag:23"), as MySQL
// prints a GTID.
std::string FormatMysqlGtid(const BinlogMysqlGtid& gtid);

// Column types as the table map and row images name them (MySQL's
// enum_field_types).
enum class MysqlType : uint8_t {
  kDecimal = 0,  // pre-5.0 DECIMAL
  kTiny = 1,
  kShort = 2,
  kLong = 3,
  kFloat = 4,
  kDouble = 5,
  kNull = 6,
  kTimestamp = 7,  // pre-5.6 TIMESTAMP
  kLongLong = 8,
  kInt24 = 9,
  kDate = 10,
  kTime = 11,      // pre-5.6 TIME
  kDateTime = 12,  // pre-5.6 DATETIME
  kYear = 13,
  kNewDate = 14,
  kVarchar = 15,
  kBit = 16,
  kTimestamp2 = 17,
  kDateTime2 = 18,
  kTime2 = 19,
  kMariaDbBlobCompressed = 140,
  kMariaDbVarcharCompressed = 141,
  kJson = 245,  // MySQL's binary JSON; MariaDB's JSON is a LONGTEXT (kBlob)
  kNewDecimal = 246,
  kEnum = 247,
  kSet = 248,
  kTinyBlob = 249,
  kMediumBlob = 250,
  kLongBlob = 251,
  kBlob = 252,  // every BLOB and TEXT size; the length prefix size tells them apart
  kVarString = 253,
  kString = 254,  // CHAR and BINARY (ENUM and SET hide here too, resolved below)
  kGeometry = 255,
};

// The charset of binary strings (BINARY, VARBINARY, BLOB).
constexpr uint32_t kMysqlBinaryCharset = 63;

// A column as the table map describes it, with its metadata decoded.
struct BinlogColumn {
  // The real type: kString's metadata resolved to kEnum or kSet, so ENUM and
  // SET columns say so.
  MysqlType type = MysqlType::kNull;
  // The 0 to 2 metadata bytes as sent (little-endian), for messages.
  uint16_t raw_metadata = 0;
  // kVarchar, kVarString, kString: the maximum length in bytes.
  uint16_t max_bytes = 0;
  // kFloat/kDouble: 4 or 8; the blob family, kJson, kGeometry: the size of
  // the length prefix (1 to 4); kEnum: 1 or 2; kSet: 1 to 8.
  uint8_t pack_length = 0;
  uint8_t precision = 0;  // kNewDecimal
  uint8_t scale = 0;      // kNewDecimal
  uint8_t fractional_digits = 0;  // kTime2, kDateTime2, kTimestamp2: 0 to 6
  uint8_t bits = 0;               // kBit: 1 to 64
  bool nullable = false;
  // From the optional metadata (binlog_row_metadata=FULL; signedness also
  // with MINIMAL); defaults when the table map lacks it.
  bool is_unsigned = false;
  std::optional<uint32_t> charset;  // character columns and ENUM/SET
  std::string name;
  std::vector<std::string> enum_or_set_values;  // kEnum, kSet
  friend bool operator==(const BinlogColumn&, const BinlogColumn&) = default;
};

// One part of the primary key; prefix_length 0 means the whole column.
struct BinlogKeyPart {
  uint32_t column = 0;
  uint32_t prefix_length = 0;
  friend bool operator==(const BinlogKeyPart&, const BinlogKeyPart&) = default;
};

// Precedes the ROWS events of a table in each group and names the table
// they refer to by `table_id`. Table ids change after DDL: always map by
// the latest TABLE_MAP.
struct BinlogTableMap {
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string database;
  std::string table;
  std::vector<BinlogColumn> columns;
  std::vector<BinlogKeyPart> primary_key;  // empty without the optional metadata
  bool has_signedness = false;    // optional metadata type 1 was present
  bool has_column_names = false;  // type 4 (binlog_row_metadata=FULL)
  friend bool operator==(const BinlogTableMap&, const BinlogTableMap&) = default;
};

enum class BinlogRowsKind : uint8_t { kWrite, kUpdate, kDelete };

// ROWS event flags.
constexpr uint16_t kBinlogRowsStatementEnd = 0x0001;

// A ROWS event with its row images left encoded: they need the table map
// (binlog_rows.h). `rows` points into the bytes given to DecodeBinlogEvent.
struct BinlogRowsEvent {
  BinlogRowsKind kind = BinlogRowsKind::kWrite;
  uint8_t version = 1;  // 1: MariaDB, 2: MySQL
  uint64_t table_id = 0;
  uint16_t flags = 0;
  std::string extra_data;  // v2: the extra-row-info TLVs, undecoded
  uint32_t column_count = 0;
  // Which columns the images carry (all with binlog_row_image=FULL): for
  // updates `present_columns` is the before image's and
  // `present_columns_after` the after image's.
  std::vector<bool> present_columns;
  std::vector<bool> present_columns_after;
  std::string_view rows;
  friend bool operator==(const BinlogRowsEvent&, const BinlogRowsEvent&) = default;
};

// A MySQL transaction's events, compressed as one (the GTID event stays
// outside). `payload` points into the bytes given to DecodeBinlogEvent.
enum class BinlogCompression : uint8_t { kZstd = 0, kNone = 255 };
struct BinlogTransactionPayload {
  BinlogCompression compression = BinlogCompression::kZstd;
  uint64_t uncompressed_size = 0;  // 0 when the event does not say
  std::string_view payload;
  friend bool operator==(const BinlogTransactionPayload&, const BinlogTransactionPayload&) = default;
};

// An event type this decoder does not interpret (annotate rows, previous
// GTIDs, user variables, ...); capture skips it.
struct BinlogSkippedEvent {
  friend bool operator==(const BinlogSkippedEvent&, const BinlogSkippedEvent&) = default;
};

using BinlogEventData =
    std::variant<BinlogFormatDescription, BinlogRotate, BinlogHeartbeat, BinlogQuery, BinlogXid, BinlogXaPrepare, BinlogMariaDbGtid,
                 BinlogMariaDbGtidList, BinlogMysqlGtid, BinlogTableMap, BinlogRowsEvent, BinlogTransactionPayload,
                 BinlogSkippedEvent>;

struct BinlogEvent {
  BinlogEventHeader header;
  BinlogEventData data;
  friend bool operator==(const BinlogEvent&, const BinlogEvent&) = default;
};

// Decodes one whole event as the stream delivers it (header, body and, with
// kCrc32, the checksum). A FORMAT_DESCRIPTION event carries its own setting:
// it always ends with the algorithm byte and 4 checksum bytes, checked when
// that byte says CRC32, whatever `checksum` says.
// Returns Corruption naming the event and field for a size that disagrees
// with the header, a checksum mismatch, truncated or malformed bodies or
// bytes after a complete body; never reads outside `bytes`. A
// PARTIAL_UPDATE_ROWS event (JSON changes logged as diffs: crbridge needs
// whole rows) or a payload compressed otherwise than with zstd is
// InvalidArgument naming the server setting. A
// FORMAT_DESCRIPTION of a server whose events this decoder cannot read
// (another binlog version, header length or checksum algorithm, TABLE_MAP
// or ROWS post-headers of other sizes) is InvalidArgument; since every
// stream starts with one, the other decoders assume those sizes. On error
// `event` is unchanged. `flavor` is the server that wrote the event: the
// charset lists of MySQL's table maps leave GEOMETRY columns out, MariaDB's
// include them.
Status DecodeBinlogEvent(std::string_view bytes, BinlogChecksum checksum, BinlogEvent* event,
                         MysqlFlavor flavor = MysqlFlavor::kMariaDb);

}  // namespace crbridge::mysql
