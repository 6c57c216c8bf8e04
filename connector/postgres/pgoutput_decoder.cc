#include "crbridge/connector/postgres/pgoutput_decoder.h"

#include <cstdio>
#include <limits>
#include <utility>

#include "crbridge/connector/capture/wire_cursor.h"

namespace crbridge::postgres {
namespace {

// 2000-01-01 minus 1970-01-01.
constexpr int64_t kPgEpochInUnixMicros = 946'684'800LL * 1'000'000;

constexpr size_t kStandbyStatusSize = 1 + 8 + 8 + 8 + 8 + 1;

// pgoutput's big-endian integers, counts and strings on a WireCursor.
class WireReader : public WireCursor {
 public:
  WireReader(std::string_view input, const char* protocol, const char* message_name)
      : WireCursor(input, protocol, message_name, "message") {}

  Status U8(const char* field, uint8_t* value) { return BigEndianAs(field, 1, value); }
  Status U32(const char* field, uint32_t* value) { return BigEndianAs(field, 4, value); }
  Status I32(const char* field, int32_t* value) { return BigEndianAs(field, 4, value); }
  Status U64(const char* field, uint64_t* value) { return BigEndian(field, 8, value); }
  Status I64(const char* field, int64_t* value) { return BigEndianAs(field, 8, value); }

  // A count on the wire as i16 or i32 (`width` bytes). Each item takes at
  // least `min_item_size` bytes, so a count the rest of the message cannot
  // hold is a truncation, caught before anything is allocated for it.
  Status Count(const char* field, size_t width, size_t min_item_size, size_t* count) {
    uint64_t raw = 0;
    CRBRIDGE_RETURN_IF_ERROR(BigEndian(field, width, &raw));
    const uint64_t sign_bit = uint64_t{1} << (width * 8 - 1);
    if (raw & sign_bit) return Malformed(std::string("negative ") + field);
    if (raw > remaining() / min_item_size) return Truncated(field);
    *count = static_cast<size_t>(raw);
    return Status::OK();
  }

  Status String(const char* field, std::string* value) {
    std::string_view bytes;
    CRBRIDGE_RETURN_IF_ERROR(Terminated(field, &bytes));
    value->assign(bytes);
    return Status::OK();
  }

  // An i32 length, then that many bytes.
  Status LengthPrefixedBytes(const char* field, std::string* value) {
    int32_t length = 0;
    CRBRIDGE_RETURN_IF_ERROR(I32(field, &length));
    if (length < 0) return Malformed(std::string("negative length of ") + field);
    std::string_view bytes;
    CRBRIDGE_RETURN_IF_ERROR(Bytes(field, static_cast<size_t>(length), &bytes));
    value->assign(bytes);
    return Status::OK();
  }

 private:
  // `width` big-endian bytes as `Integer` (signed ones two's complement).
  template <typename Integer>
  Status BigEndianAs(const char* field, size_t width, Integer* value) {
    uint64_t raw = 0;
    CRBRIDGE_RETURN_IF_ERROR(BigEndian(field, width, &raw));
    *value = static_cast<Integer>(raw);
    return Status::OK();
  }
};

void AppendBigEndian(uint64_t value, size_t width, std::string* out) {
  for (size_t i = width; i-- > 0;) out->push_back(static_cast<char>((value >> (i * 8)) & 0xff));
}

// "'A' (0x41)" or "0x01": a printable byte is easier to recognize.
std::string DescribeByte(char type) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(static_cast<uint8_t>(type)));
  if (type >= 0x20 && type < 0x7f) return std::string("'") + type + "' (" + hex + ")";
  return hex;
}

bool ParseLsnHalf(std::string_view digits, uint32_t* half) {
  if (digits.empty() || digits.size() > 8) return false;
  uint32_t value = 0;
  for (const char c : digits) {
    uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
    value = (value << 4) | digit;
  }
  *half = value;
  return true;
}

// ---- pgoutput message bodies ----

// Postgres sends pg_catalog, the namespace of built-in types and
// relations, as "" to save bytes.
void ResolveCatalogNamespace(std::string* namespace_name) {
  if (namespace_name->empty()) *namespace_name = "pg_catalog";
}

Status ReadStreamXid(WireReader& reader, bool in_stream_block, std::optional<uint32_t>* xid) {
  if (!in_stream_block) return Status::OK();
  uint32_t value = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("xid", &value));
  *xid = value;
  return Status::OK();
}

Status ReadTuple(WireReader& reader, PgTuple* tuple) {
  size_t column_count = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.Count("tuple column count", 2, 1, &column_count));
  tuple->resize(column_count);
  for (PgTupleValue& value : *tuple) {
    uint8_t kind = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("tuple value kind", &kind));
    switch (kind) {
      case 'n':
      case 'u':
        break;
      case 't':
      case 'b':
        CRBRIDGE_RETURN_IF_ERROR(reader.LengthPrefixedBytes("tuple value", &value.data));
        break;
      default:
        return reader.Malformed("unknown tuple value kind " + DescribeByte(static_cast<char>(kind)));
    }
    value.kind = static_cast<PgTupleValueKind>(kind);
  }
  return Status::OK();
}

Status ReadOldTuple(WireReader& reader, uint8_t marker, PgOldTuple* old_tuple) {
  old_tuple->kind = static_cast<PgOldTupleKind>(marker);
  return ReadTuple(reader, &old_tuple->values);
}

Status ExpectMarker(WireReader& reader, char expected, const char* field) {
  uint8_t marker = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8(field, &marker));
  if (marker != static_cast<uint8_t>(expected)) {
    return reader.Malformed(std::string("expected ") + field + " '" + expected + "', got " +
                            DescribeByte(static_cast<char>(marker)));
  }
  return Status::OK();
}

Status ReadBody(WireReader& reader, bool, PgBegin* begin) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("final LSN", &begin->final_lsn));
  CRBRIDGE_RETURN_IF_ERROR(reader.I64("commit timestamp", &begin->commit_time));
  return reader.U32("xid", &begin->xid);
}

Status ReadBody(WireReader& reader, bool, PgCommit* commit) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("flags", &commit->flags));
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("commit LSN", &commit->commit_lsn));
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("end LSN", &commit->end_lsn));
  return reader.I64("commit timestamp", &commit->commit_time);
}

Status ReadBody(WireReader& reader, bool, PgOrigin* origin) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("origin LSN", &origin->origin_lsn));
  return reader.String("origin name", &origin->name);
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgRelation* relation) {
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &relation->xid));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("relation id", &relation->relid));
  CRBRIDGE_RETURN_IF_ERROR(reader.String("namespace", &relation->namespace_name));
  ResolveCatalogNamespace(&relation->namespace_name);
  CRBRIDGE_RETURN_IF_ERROR(reader.String("relation name", &relation->name));
  uint8_t identity = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("replica identity", &identity));
  switch (identity) {
    case 'd':
    case 'n':
    case 'f':
    case 'i':
      relation->replica_identity = static_cast<PgReplicaIdentity>(identity);
      break;
    default:
      return reader.Malformed("unknown replica identity " + DescribeByte(static_cast<char>(identity)));
  }
  size_t column_count = 0;
  constexpr size_t kMinColumnSize = 1 + 1 + 4 + 4;  // flags, "", type oid, type modifier
  CRBRIDGE_RETURN_IF_ERROR(reader.Count("column count", 2, kMinColumnSize, &column_count));
  relation->columns.resize(column_count);
  for (PgRelationColumn& column : relation->columns) {
    uint8_t flags = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("column flags", &flags));
    column.is_key = (flags & 1) != 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.String("column name", &column.name));
    CRBRIDGE_RETURN_IF_ERROR(reader.U32("column type oid", &column.type_oid));
    CRBRIDGE_RETURN_IF_ERROR(reader.I32("column type modifier", &column.type_modifier));
  }
  return Status::OK();
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgType* type) {
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &type->xid));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("type oid", &type->type_oid));
  CRBRIDGE_RETURN_IF_ERROR(reader.String("namespace", &type->namespace_name));
  ResolveCatalogNamespace(&type->namespace_name);
  return reader.String("type name", &type->name);
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgInsert* insert) {
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &insert->xid));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("relation id", &insert->relid));
  CRBRIDGE_RETURN_IF_ERROR(ExpectMarker(reader, 'N', "new tuple marker"));
  return ReadTuple(reader, &insert->new_tuple);
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgUpdate* update) {
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &update->xid));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("relation id", &update->relid));
  uint8_t marker = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("tuple marker", &marker));
  if (marker == 'K' || marker == 'O') {
    CRBRIDGE_RETURN_IF_ERROR(ReadOldTuple(reader, marker, &update->old_tuple.emplace()));
    CRBRIDGE_RETURN_IF_ERROR(ExpectMarker(reader, 'N', "new tuple marker"));
  } else if (marker != 'N') {
    return reader.Malformed("expected tuple marker 'K', 'O' or 'N', got " +
                            DescribeByte(static_cast<char>(marker)));
  }
  return ReadTuple(reader, &update->new_tuple);
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgDelete* deletion) {
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &deletion->xid));
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("relation id", &deletion->relid));
  uint8_t marker = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("old tuple marker", &marker));
  if (marker != 'K' && marker != 'O') {
    return reader.Malformed("expected old tuple marker 'K' or 'O', got " +
                            DescribeByte(static_cast<char>(marker)));
  }
  return ReadOldTuple(reader, marker, &deletion->old_tuple);
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgTruncate* truncate) {
  constexpr uint8_t kCascade = 1;
  constexpr uint8_t kRestartIdentity = 2;
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &truncate->xid));
  size_t relation_count = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.Count("relation count", 4, 4, &relation_count));
  uint8_t options = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("options", &options));
  // An option we do not know could change what the truncation did.
  if ((options & ~(kCascade | kRestartIdentity)) != 0) {
    return reader.Malformed("unknown options " + std::to_string(options));
  }
  truncate->cascade = (options & kCascade) != 0;
  truncate->restart_identity = (options & kRestartIdentity) != 0;
  truncate->relids.resize(relation_count);
  for (uint32_t& relid : truncate->relids) CRBRIDGE_RETURN_IF_ERROR(reader.U32("relation id", &relid));
  return Status::OK();
}

Status ReadBody(WireReader& reader, bool in_stream_block, PgLogicalMessage* message) {
  constexpr uint8_t kTransactional = 1;
  CRBRIDGE_RETURN_IF_ERROR(ReadStreamXid(reader, in_stream_block, &message->xid));
  uint8_t flags = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("flags", &flags));
  if ((flags & ~kTransactional) != 0) return reader.Malformed("unknown flags " + std::to_string(flags));
  message->transactional = (flags & kTransactional) != 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("LSN", &message->lsn));
  CRBRIDGE_RETURN_IF_ERROR(reader.String("prefix", &message->prefix));
  return reader.LengthPrefixedBytes("content", &message->content);
}

Status ReadBody(WireReader& reader, bool, PgStreamStart* start) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("xid", &start->xid));
  uint8_t first_segment = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("first segment", &first_segment));
  start->first_segment = first_segment != 0;
  return Status::OK();
}

Status ReadBody(WireReader&, bool, PgStreamStop*) { return Status::OK(); }

Status ReadBody(WireReader& reader, bool, PgStreamCommit* commit) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("xid", &commit->xid));
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("flags", &commit->flags));
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("commit LSN", &commit->commit_lsn));
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("end LSN", &commit->end_lsn));
  return reader.I64("commit timestamp", &commit->commit_time);
}

Status ReadBody(WireReader& reader, bool, PgStreamAbort* abort) {
  CRBRIDGE_RETURN_IF_ERROR(reader.U32("xid", &abort->xid));
  return reader.U32("subtransaction xid", &abort->subxid);
}

template <typename Message>
Status DecodeBody(std::string_view body, const char* message_name, bool in_stream_block, PgMessage* message) {
  WireReader reader(body, "pgoutput", message_name);
  Message decoded;
  CRBRIDGE_RETURN_IF_ERROR(ReadBody(reader, in_stream_block, &decoded));
  CRBRIDGE_RETURN_IF_ERROR(reader.ExpectEnd());
  *message = std::move(decoded);
  return Status::OK();
}

}  // namespace

int64_t PgTimestampToUnixMicros(PgTimestamp timestamp) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (timestamp == kMin) return kMin;
  if (timestamp > kMax - kPgEpochInUnixMicros) return kMax;
  return timestamp + kPgEpochInUnixMicros;
}

PgTimestamp UnixMicrosToPgTimestamp(int64_t unix_micros) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (unix_micros == kMax) return kMax;
  if (unix_micros < kMin + kPgEpochInUnixMicros) return kMin;
  return unix_micros - kPgEpochInUnixMicros;
}

std::string FormatLsn(uint64_t lsn) {
  char text[20];
  std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xffffffff));
  return text;
}

Status ParseLsn(std::string_view text, uint64_t* lsn) {
  const size_t slash = text.find('/');
  uint32_t high = 0;
  uint32_t low = 0;
  if (slash == std::string_view::npos || !ParseLsnHalf(text.substr(0, slash), &high) ||
      !ParseLsnHalf(text.substr(slash + 1), &low)) {
    return Status::InvalidArgument("invalid LSN \"" + std::string(text) + "\": expected hex digits, '/', hex digits");
  }
  *lsn = (uint64_t{high} << 32) | low;
  return Status::OK();
}

Status DecodeCopyData(std::string_view copy_data, CopyDataMessage* message) {
  constexpr const char* kProtocol = "replication stream";
  if (copy_data.empty()) return Status::Corruption("replication stream: empty CopyData message");
  const std::string_view body = copy_data.substr(1);
  switch (copy_data[0]) {
    case 'w': {
      WireReader reader(body, kProtocol, "XLogData");
      XLogData data;
      CRBRIDGE_RETURN_IF_ERROR(reader.U64("data start", &data.data_start));
      CRBRIDGE_RETURN_IF_ERROR(reader.U64("WAL end", &data.wal_end));
      CRBRIDGE_RETURN_IF_ERROR(reader.I64("send time", &data.send_time));
      data.payload = reader.Rest();
      *message = data;
      return Status::OK();
    }
    case 'k': {
      WireReader reader(body, kProtocol, "primary keepalive");
      PrimaryKeepalive keepalive;
      CRBRIDGE_RETURN_IF_ERROR(reader.U64("WAL end", &keepalive.wal_end));
      CRBRIDGE_RETURN_IF_ERROR(reader.I64("send time", &keepalive.send_time));
      uint8_t reply_requested = 0;
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("reply requested", &reply_requested));
      CRBRIDGE_RETURN_IF_ERROR(reader.ExpectEnd());
      keepalive.reply_requested = reply_requested != 0;
      *message = keepalive;
      return Status::OK();
    }
    default:
      return Status::InvalidArgument("replication stream: unknown CopyData message type " +
                                     DescribeByte(copy_data[0]));
  }
}

std::string EncodeStandbyStatus(uint64_t written_lsn, uint64_t flushed_lsn, uint64_t applied_lsn,
                                PgTimestamp client_time, bool reply_now) {
  std::string out;
  out.reserve(kStandbyStatusSize);
  out.push_back('r');
  AppendBigEndian(written_lsn, 8, &out);
  AppendBigEndian(flushed_lsn, 8, &out);
  AppendBigEndian(applied_lsn, 8, &out);
  AppendBigEndian(static_cast<uint64_t>(client_time), 8, &out);
  out.push_back(reply_now ? 1 : 0);
  return out;
}

Status PgOutputDecoder::Decode(std::string_view payload, PgMessage* message) {
  if (payload.empty()) return Status::Corruption("pgoutput: empty message");
  const std::string_view body = payload.substr(1);
  const bool in_stream = in_stream_block_;
  switch (payload[0]) {
    case 'B': return DecodeBody<PgBegin>(body, "Begin", in_stream, message);
    case 'C': return DecodeBody<PgCommit>(body, "Commit", in_stream, message);
    case 'O': return DecodeBody<PgOrigin>(body, "Origin", in_stream, message);
    case 'R': return DecodeBody<PgRelation>(body, "Relation", in_stream, message);
    case 'Y': return DecodeBody<PgType>(body, "Type", in_stream, message);
    case 'I': return DecodeBody<PgInsert>(body, "Insert", in_stream, message);
    case 'U': return DecodeBody<PgUpdate>(body, "Update", in_stream, message);
    case 'D': return DecodeBody<PgDelete>(body, "Delete", in_stream, message);
    case 'T': return DecodeBody<PgTruncate>(body, "Truncate", in_stream, message);
    case 'M': return DecodeBody<PgLogicalMessage>(body, "Message", in_stream, message);
    case 'S':
      if (in_stream_block_) return Status::Corruption("pgoutput: Stream Start inside a stream block");
      CRBRIDGE_RETURN_IF_ERROR(DecodeBody<PgStreamStart>(body, "Stream Start", in_stream, message));
      in_stream_block_ = true;
      return Status::OK();
    case 'E':
      if (!in_stream_block_) return Status::Corruption("pgoutput: Stream Stop outside a stream block");
      CRBRIDGE_RETURN_IF_ERROR(DecodeBody<PgStreamStop>(body, "Stream Stop", in_stream, message));
      in_stream_block_ = false;
      return Status::OK();
    case 'c': return DecodeBody<PgStreamCommit>(body, "Stream Commit", in_stream, message);
    case 'A': return DecodeBody<PgStreamAbort>(body, "Stream Abort", in_stream, message);
    default:
      return Status::InvalidArgument("pgoutput: unknown message type " + DescribeByte(payload[0]));
  }
}

}  // namespace crbridge::postgres
