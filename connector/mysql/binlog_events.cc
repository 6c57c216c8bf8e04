#include "crbridge/connector/mysql/binlog_events.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "binlog_reader.h"
#include "binlog_table_map.h"

namespace crbridge::mysql {
namespace {

// The post-header sizes this decoder reads: a 6-byte table id and 2 bytes
// of flags, plus the extra-data length in ROWS v2.
constexpr uint8_t kTableMapPostHeaderSize = 8;
constexpr uint8_t kRowsV1PostHeaderSize = 8;
constexpr uint8_t kRowsV2PostHeaderSize = 10;

// MySQL GTID events: the logical clock's type byte.
constexpr uint8_t kMysqlLogicalClockTimestamps = 2;

const char* EventName(BinlogEventType type) {
  switch (type) {
    case BinlogEventType::kQuery:
      return "QUERY";
    case BinlogEventType::kRotate:
      return "ROTATE";
    case BinlogEventType::kFormatDescription:
      return "FORMAT_DESCRIPTION";
    case BinlogEventType::kXid:
      return "XID";
    case BinlogEventType::kTableMap:
      return "TABLE_MAP";
    case BinlogEventType::kWriteRowsV1:
    case BinlogEventType::kWriteRowsV2:
      return "WRITE_ROWS";
    case BinlogEventType::kUpdateRowsV1:
    case BinlogEventType::kUpdateRowsV2:
      return "UPDATE_ROWS";
    case BinlogEventType::kDeleteRowsV1:
    case BinlogEventType::kDeleteRowsV2:
      return "DELETE_ROWS";
    case BinlogEventType::kHeartbeat:
    case BinlogEventType::kHeartbeatV2:
      return "HEARTBEAT";
    case BinlogEventType::kMysqlGtid:
    case BinlogEventType::kMysqlAnonymousGtid:
    case BinlogEventType::kMariaDbGtid:
      return "GTID";
    case BinlogEventType::kMysqlTaggedGtid:
      return "GTID_TAGGED";
    case BinlogEventType::kPartialUpdateRows:
      return "PARTIAL_UPDATE_ROWS";
    case BinlogEventType::kXaPrepare:
      return "XA_PREPARE";
    case BinlogEventType::kTransactionPayload:
      return "TRANSACTION_PAYLOAD";
    case BinlogEventType::kMariaDbGtidList:
      return "GTID_LIST";
  }
  return "binlog";
}

Status Unsupported(const std::string& what) {
  return Status::InvalidArgument("binlog: unsupported server: " + what);
}

Status DecodeBody(BinlogReader& reader, BinlogFormatDescription* description) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U16("binlog version", &description->binlog_version));
  std::string_view server_version;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("server version", 50, &server_version));
  description->server_version.assign(server_version.substr(0, server_version.find('\0')));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("create timestamp", &description->create_timestamp));
  uint8_t header_length = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("header length", &header_length));
  // The post-header lengths, one per event type the server knows, then the
  // checksum algorithm byte.
  const std::string_view rest = reader.Rest();
  if (rest.empty()) return reader.Truncated("checksum algorithm");
  description->post_header_lengths.assign(rest.begin(), rest.end() - 1);
  const auto algorithm = static_cast<uint8_t>(rest.back());

  if (description->binlog_version != 4) {
    return Unsupported("binlog version " + std::to_string(description->binlog_version));
  }
  if (header_length != kBinlogEventHeaderSize) return Unsupported("event header length " + std::to_string(header_length));
  if (algorithm > static_cast<uint8_t>(BinlogChecksum::kCrc32)) {
    return Unsupported("checksum algorithm " + std::to_string(algorithm));
  }
  description->checksum = static_cast<BinlogChecksum>(algorithm);
  // A zero length marks a type the server never writes (MariaDB has no v2
  // ROWS events).
  const auto expect_post_header = [&](BinlogEventType type, uint8_t size) -> Status {
    const size_t index = static_cast<size_t>(type) - 1;
    if (index >= description->post_header_lengths.size()) return Status::OK();
    const uint8_t actual = description->post_header_lengths[index];
    if (actual == 0 || actual == size) return Status::OK();
    return Unsupported(std::string(EventName(type)) + " post-header of " + std::to_string(actual) + " bytes");
  };
  CRBRIDGE_RETURN_IF_ERROR(expect_post_header(BinlogEventType::kTableMap, kTableMapPostHeaderSize));
  for (const auto type : {BinlogEventType::kWriteRowsV1, BinlogEventType::kUpdateRowsV1,
                          BinlogEventType::kDeleteRowsV1}) {
    CRBRIDGE_RETURN_IF_ERROR(expect_post_header(type, kRowsV1PostHeaderSize));
  }
  for (const auto type : {BinlogEventType::kWriteRowsV2, BinlogEventType::kUpdateRowsV2,
                          BinlogEventType::kDeleteRowsV2}) {
    CRBRIDGE_RETURN_IF_ERROR(expect_post_header(type, kRowsV2PostHeaderSize));
  }
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogRotate* rotate) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("position", &rotate->position));
  rotate->file_name.assign(reader.Rest());
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogHeartbeat* heartbeat) {
  heartbeat->file_name.assign(reader.Rest());
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogQuery* query) {
  uint8_t database_length = 0;
  uint16_t status_length = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("thread id", &query->thread_id));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("execution time", &query->exec_seconds));
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("database length", &database_length));
  CRBRIDGE_RETURN_IF_ERROR(reader.U16("error code", &query->error_code));
  CRBRIDGE_RETURN_IF_ERROR(reader.U16("status variables length", &status_length));
  std::string_view bytes;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("status variables", status_length, &bytes));
  query->status_variables.assign(bytes);
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("database", database_length, &bytes));
  query->database.assign(bytes);
  uint8_t terminator = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("database", &terminator));
  if (terminator != 0) return reader.Malformed("database not NUL-terminated");
  query->sql.assign(reader.Rest());
  return Status::OK();
}

// The XID's identifiers follow; capture does not need them.
Status DecodeBody(BinlogReader& reader, BinlogXaPrepare* prepare) {
  uint8_t one_phase = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("one phase", &one_phase));
  prepare->one_phase = one_phase != 0;
  reader.Rest();
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogXid* xid) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("xid", &xid->xid));
  return reader.ExpectEnd();
}

Status DecodeBody(BinlogReader& reader, BinlogMariaDbGtid* gtid) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("sequence number", &gtid->sequence));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("domain id", &gtid->domain_id));
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("flags", &gtid->flags));
  if (gtid->flags & kMariaDbGtidGroupCommitId) {
    CRBRIDGE_RETURN_IF_ERROR(reader.U64("commit id", &gtid->commit_id.emplace()));
  }
  if (gtid->flags & (kMariaDbGtidPreparedXa | kMariaDbGtidCompletedXa)) {
    BinlogXaId& xa_id = gtid->xa_id.emplace();
    uint8_t global_length = 0;
    uint8_t branch_length = 0;
    std::string_view bytes;
    CRBRIDGE_RETURN_IF_ERROR(reader.U32("XA format id", &xa_id.format_id));
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("XA gtrid length", &global_length));
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("XA bqual length", &branch_length));
    CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("XA gtrid", global_length, &bytes));
    xa_id.global_transaction_id.assign(bytes);
    CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("XA bqual", branch_length, &bytes));
    xa_id.branch_qualifier.assign(bytes);
  }
  // What follows is zero padding, or MariaDB 10.8+'s extra flags for
  // multi-engine and ALTER transactions, which capture does not need.
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogMariaDbGtidList* list) {
  constexpr size_t kPositionSize = 4 + 4 + 8;
  uint32_t count = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("count", &count));
  list->flags = static_cast<uint8_t>(count >> 28);
  count &= 0x0fff'ffff;
  if (count > reader.remaining() / kPositionSize) return reader.Truncated("positions");
  list->positions.resize(count);
  for (BinlogMariaDbGtidPosition& position : list->positions) {
    CRBRIDGE_RETURN_IF_ERROR(reader.U32("domain id", &position.domain_id));
    CRBRIDGE_RETURN_IF_ERROR(reader.U32("server id", &position.server_id));
    CRBRIDGE_RETURN_IF_ERROR(reader.U64("sequence number", &position.sequence));
  }
  // MariaDB 10.11 writes the empty list at the start of a server's first
  // binlog file with 2 zero bytes after the count.
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogMysqlGtid* gtid) {
  std::string_view uuid;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("flags", &gtid->flags));
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("source uuid", gtid->source_uuid.size(), &uuid));
  std::copy(uuid.begin(), uuid.end(), gtid->source_uuid.begin());
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("gno", &gtid->gno));
  if (reader.remaining() == 0) return Status::OK();  // a pre-5.7 server
  uint8_t clock_type = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("logical clock type", &clock_type));
  if (clock_type != kMysqlLogicalClockTimestamps) {
    return reader.Malformed("unknown logical clock type " + std::to_string(clock_type));
  }
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("last committed", &gtid->last_committed.emplace()));
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("sequence number", &gtid->sequence_number.emplace()));
  // Commit timestamps, transaction length and server versions follow;
  // capture does not need them.
  return Status::OK();
}

// A tagged GTID event's body is one message of MySQL's serialization
// library: a version, the message's size (counted from the version's
// byte), the last field id a reader must know (0: none), then fields as
// (id, value) in ascending id order, absent ones left out; the uuid is 16
// integers of a byte each. Fields after the sequence number (timestamps,
// lengths, server versions) are not needed and left unread.
Status DecodeTaggedGtid(BinlogReader& reader, BinlogMysqlGtid* gtid) {
  uint64_t version = 0;
  uint64_t size = 0;
  uint64_t last_non_ignorable = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("format version", &version));
  CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("message size", &size));
  CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("last non-ignorable field", &last_non_ignorable));
  if (version != 1) return reader.Malformed("serialization format version " + std::to_string(version));
  // Fields 0 to 11 are known; a later server may add fields readers must know.
  if (last_non_ignorable > 12) return reader.Malformed("a field unknown to this reader is required");
  enum Field : uint64_t { kFlags = 0, kUuid, kGno, kTag, kLastCommitted, kSequenceNumber };
  bool has_uuid = false;
  bool has_gno = false;
  uint64_t field = 0;
  while (reader.remaining() > 0) {
    CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("field id", &field));
    if (field > kSequenceNumber) break;
    uint64_t value = 0;
    int64_t signed_value = 0;
    switch (field) {
      case kFlags:
        CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("flags", &value));
        gtid->flags = static_cast<uint8_t>(value);
        break;
      case kUuid:
        for (uint8_t& byte : gtid->source_uuid) {
          CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("source uuid", &value));
          if (value > 0xff) return reader.Malformed("source uuid byte " + std::to_string(value));
          byte = static_cast<uint8_t>(value);
        }
        has_uuid = true;
        break;
      case kGno:
        CRBRIDGE_RETURN_IF_ERROR(reader.SignedVarlen("gno", &signed_value));
        if (signed_value <= 0) return reader.Malformed("gno " + std::to_string(signed_value));
        gtid->gno = static_cast<uint64_t>(signed_value);
        has_gno = true;
        break;
      case kTag: {
        CRBRIDGE_RETURN_IF_ERROR(reader.Varlen("tag length", &value));
        // MySQL's tags are at most 32 characters.
        if (value > 32) return reader.Malformed("tag of " + std::to_string(value) + " bytes");
        std::string_view tag;
        CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("tag", static_cast<size_t>(value), &tag));
        gtid->tag.assign(tag);
        break;
      }
      case kLastCommitted:
        CRBRIDGE_RETURN_IF_ERROR(reader.SignedVarlen("last committed", &signed_value));
        gtid->last_committed = static_cast<uint64_t>(signed_value);
        break;
      case kSequenceNumber:
        CRBRIDGE_RETURN_IF_ERROR(reader.SignedVarlen("sequence number", &signed_value));
        gtid->sequence_number = static_cast<uint64_t>(signed_value);
        break;
    }
  }
  if (!has_uuid || !has_gno) return reader.Malformed("no uuid or gno");
  reader.Rest();
  return Status::OK();
}

// Fields of type, length, value, all length-encoded integers, up to an end
// mark (type 0); then the payload.
Status DecodeBody(BinlogReader& reader, BinlogTransactionPayload* payload) {
  enum Field : uint64_t { kEndMark = 0, kPayloadSize, kCompression, kUncompressedSize };
  std::optional<uint64_t> payload_size;
  std::optional<uint64_t> compression;
  for (;;) {
    uint64_t field = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncoded("field type", &field));
    if (field == kEndMark) break;
    std::string_view value_bytes;
    CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncodedBytes("field", &value_bytes));
    if (field > kUncompressedSize) continue;  // a field of a later server, skipped by its length
    BinlogReader value_reader(value_bytes, "TRANSACTION_PAYLOAD");
    uint64_t value = 0;
    CRBRIDGE_RETURN_IF_ERROR(value_reader.LengthEncoded("field value", &value));
    if (field == kPayloadSize) payload_size = value;
    if (field == kCompression) compression = value;
    if (field == kUncompressedSize) payload->uncompressed_size = value;
  }
  if (!payload_size || !compression) return reader.Malformed("no payload size or compression type");
  if (*compression != static_cast<uint64_t>(BinlogCompression::kZstd) &&
      *compression != static_cast<uint64_t>(BinlogCompression::kNone)) {
    return Unsupported("transaction payload compressed with algorithm " + std::to_string(*compression) +
                       " (binlog_transaction_compression: crbridge reads zstd)");
  }
  payload->compression = static_cast<BinlogCompression>(*compression);
  if (*payload_size != reader.remaining()) {
    return reader.Malformed("payload of " + std::to_string(*payload_size) + " bytes in " +
                            std::to_string(reader.remaining()));
  }
  payload->payload = reader.Rest();
  return Status::OK();
}

Status ReadColumnBitmap(BinlogReader& reader, const char* field, size_t column_count, std::vector<bool>* bitmap) {
  std::string_view bytes;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes(field, (column_count + 7) / 8, &bytes));
  bitmap->resize(column_count);
  for (size_t i = 0; i < column_count; ++i) (*bitmap)[i] = (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
  return Status::OK();
}


Status DecodeRows(BinlogReader& reader, BinlogRowsEvent* rows) {
  CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("table id", 6, &rows->table_id));
  CRBRIDGE_RETURN_IF_ERROR(reader.U16("flags", &rows->flags));
  if (rows->version == 2) {
    // The length counts its own two bytes.
    uint16_t extra_length = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U16("extra data length", &extra_length));
    if (extra_length < 2) return reader.Malformed("extra data length " + std::to_string(extra_length));
    std::string_view extra;
    CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("extra data", extra_length - 2u, &extra));
    rows->extra_data.assign(extra);
  }
  uint64_t column_count = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncoded("column count", &column_count));
  if (column_count > kMaxColumns) return reader.Malformed(std::to_string(column_count) + " columns");
  rows->column_count = static_cast<uint32_t>(column_count);
  CRBRIDGE_RETURN_IF_ERROR(ReadColumnBitmap(reader, "present columns", column_count, &rows->present_columns));
  if (rows->kind == BinlogRowsKind::kUpdate) {
    CRBRIDGE_RETURN_IF_ERROR(
        ReadColumnBitmap(reader, "present columns of the after image", column_count, &rows->present_columns_after));
  }
  rows->rows = reader.Rest();
  return Status::OK();
}

template <typename Body>
Status DecodeInto(std::string_view body, BinlogEventType type, BinlogEventData* data) {
  BinlogReader reader(body, EventName(type));
  Body decoded;
  CRBRIDGE_RETURN_IF_ERROR(DecodeBody(reader, &decoded));
  *data = std::move(decoded);
  return Status::OK();
}

Status DecodeRowsInto(std::string_view body, BinlogEventType type, BinlogRowsKind kind, uint8_t version,
                      BinlogEventData* data) {
  BinlogReader reader(body, EventName(type));
  BinlogRowsEvent rows;
  rows.kind = kind;
  rows.version = version;
  CRBRIDGE_RETURN_IF_ERROR(DecodeRows(reader, &rows));
  *data = std::move(rows);
  return Status::OK();
}

uint32_t ReadLittleEndian32(std::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 4; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

Status VerifyChecksum(std::string_view covered, std::string_view trailer, BinlogEventType type) {
  const auto computed = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(covered.data()), static_cast<uInt>(covered.size())));
  const uint32_t stored = ReadLittleEndian32(trailer);
  if (computed == stored) return Status::OK();
  char message[96];
  std::snprintf(message, sizeof message, "binlog: checksum mismatch in %s event (stored %08x, computed %08x)",
                EventName(type), stored, computed);
  return Status::Corruption(message);
}

}  // namespace

Status DecodeBinlogEventHeader(std::string_view bytes, BinlogEventHeader* header) {
  BinlogReader reader(bytes.substr(0, kBinlogEventHeaderSize), "binlog");
  if (bytes.size() < kBinlogEventHeaderSize) return Status::Corruption("binlog: truncated event header");
  BinlogEventHeader decoded;
  uint8_t type = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("timestamp", &decoded.timestamp));
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("type", &type));
  decoded.type = static_cast<BinlogEventType>(type);
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("server id", &decoded.server_id));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("event size", &decoded.event_size));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("log position", &decoded.log_pos));
  CRBRIDGE_RETURN_IF_ERROR(reader.U16("flags", &decoded.flags));
  *header = decoded;
  return Status::OK();
}

Status DecodeBinlogEvent(std::string_view bytes, BinlogChecksum checksum, BinlogEvent* event, MysqlFlavor flavor) {
  BinlogEventHeader header;
  CRBRIDGE_RETURN_IF_ERROR(DecodeBinlogEventHeader(bytes, &header));
  if (header.event_size != bytes.size()) {
    return Status::Corruption("binlog: event size " + std::to_string(header.event_size) + " in the header of a " +
                              EventName(header.type) + " event of " + std::to_string(bytes.size()) + " bytes");
  }
  bool has_checksum = checksum == BinlogChecksum::kCrc32;
  size_t trailer_size = has_checksum ? kBinlogChecksumSize : 0;
  if (header.type == BinlogEventType::kFormatDescription) {
    trailer_size = kBinlogChecksumSize;
    if (bytes.size() < kBinlogEventHeaderSize + 1 + kBinlogChecksumSize) {
      return Status::Corruption("binlog: truncated FORMAT_DESCRIPTION event (checksum)");
    }
    has_checksum = static_cast<uint8_t>(bytes[bytes.size() - kBinlogChecksumSize - 1]) ==
                   static_cast<uint8_t>(BinlogChecksum::kCrc32);
  }
  if (bytes.size() < kBinlogEventHeaderSize + trailer_size) {
    return Status::Corruption(std::string("binlog: truncated ") + EventName(header.type) + " event (checksum)");
  }
  const std::string_view covered = bytes.substr(0, bytes.size() - trailer_size);
  if (has_checksum) CRBRIDGE_RETURN_IF_ERROR(VerifyChecksum(covered, bytes.substr(covered.size()), header.type));
  const std::string_view body = covered.substr(kBinlogEventHeaderSize);

  BinlogEventData data = BinlogSkippedEvent{};
  const BinlogEventType type = header.type;
  switch (type) {
    case BinlogEventType::kFormatDescription:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogFormatDescription>(body, type, &data));
      break;
    case BinlogEventType::kRotate:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogRotate>(body, type, &data));
      break;
    case BinlogEventType::kHeartbeat:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogHeartbeat>(body, type, &data));
      break;
    case BinlogEventType::kHeartbeatV2:
      // Its fields (file and position, for files past 4 GB) are not needed:
      // capture takes positions from other events.
      data = BinlogHeartbeat{};
      break;
    case BinlogEventType::kQuery:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogQuery>(body, type, &data));
      break;
    case BinlogEventType::kXid:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogXid>(body, type, &data));
      break;
    case BinlogEventType::kXaPrepare:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogXaPrepare>(body, type, &data));
      break;
    case BinlogEventType::kMariaDbGtid:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogMariaDbGtid>(body, type, &data));
      break;
    case BinlogEventType::kMariaDbGtidList:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogMariaDbGtidList>(body, type, &data));
      break;
    case BinlogEventType::kMysqlGtid:
    case BinlogEventType::kMysqlAnonymousGtid:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogMysqlGtid>(body, type, &data));
      std::get<BinlogMysqlGtid>(data).anonymous = type == BinlogEventType::kMysqlAnonymousGtid;
      break;
    case BinlogEventType::kMysqlTaggedGtid: {
      BinlogReader reader(body, EventName(type));
      BinlogMysqlGtid gtid;
      CRBRIDGE_RETURN_IF_ERROR(DecodeTaggedGtid(reader, &gtid));
      data = std::move(gtid);
      break;
    }
    case BinlogEventType::kTransactionPayload:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogTransactionPayload>(body, type, &data));
      break;
    case BinlogEventType::kPartialUpdateRows:
      return Unsupported("a PARTIAL_UPDATE_ROWS event: the server logs JSON updates as diffs "
                         "(binlog_row_value_options=PARTIAL_JSON); crbridge needs whole rows: set "
                         "binlog_row_value_options='' globally, and in the sessions that set it");
    case BinlogEventType::kTableMap: {
      BinlogReader reader(body, EventName(type));
      BinlogTableMap table;
      CRBRIDGE_RETURN_IF_ERROR(DecodeTableMap(reader, flavor, &table));
      data = std::move(table);
      break;
    }
    case BinlogEventType::kWriteRowsV1:
      CRBRIDGE_RETURN_IF_ERROR(DecodeRowsInto(body, type, BinlogRowsKind::kWrite, 1, &data));
      break;
    case BinlogEventType::kUpdateRowsV1:
      CRBRIDGE_RETURN_IF_ERROR(DecodeRowsInto(body, type, BinlogRowsKind::kUpdate, 1, &data));
      break;
    case BinlogEventType::kDeleteRowsV1:
      CRBRIDGE_RETURN_IF_ERROR(DecodeRowsInto(body, type, BinlogRowsKind::kDelete, 1, &data));
      break;
    case BinlogEventType::kWriteRowsV2:
      CRBRIDGE_RETURN_IF_ERROR(DecodeRowsInto(body, type, BinlogRowsKind::kWrite, 2, &data));
      break;
    case BinlogEventType::kUpdateRowsV2:
      CRBRIDGE_RETURN_IF_ERROR(DecodeRowsInto(body, type, BinlogRowsKind::kUpdate, 2, &data));
      break;
    case BinlogEventType::kDeleteRowsV2:
      CRBRIDGE_RETURN_IF_ERROR(DecodeRowsInto(body, type, BinlogRowsKind::kDelete, 2, &data));
      break;
  }
  event->header = header;
  event->data = std::move(data);
  return Status::OK();
}

std::string FormatMysqlUuid(const std::array<uint8_t, 16>& uuid) {
  std::string text;
  char hex[3];
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(uuid[i]));
    text.append(hex);
  }
  return text;
}

std::string FormatMysqlGtid(const BinlogMysqlGtid& gtid) {
  std::string text = FormatMysqlUuid(gtid.source_uuid);
  if (!gtid.tag.empty()) text += ":" + gtid.tag;
  return text + ":" + std::to_string(gtid.gno);
}

}  // namespace crbridge::mysql
