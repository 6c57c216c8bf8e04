#include "crbridge/connector/binlog_events.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "binlog_reader.h"

namespace crbridge {
namespace {

// MySQL and MariaDB refuse tables with more columns, so a larger count in a
// TABLE_MAP or ROWS event is corruption (and bounds what we allocate).
constexpr uint64_t kMaxColumns = 4096;

// The post-header sizes this decoder reads: a 6-byte table id and 2 bytes
// of flags, plus the extra-data length in ROWS v2.
constexpr uint8_t kTableMapPostHeaderSize = 8;
constexpr uint8_t kRowsV1PostHeaderSize = 8;
constexpr uint8_t kRowsV2PostHeaderSize = 10;

// MySQL GTID events: the logical clock's type byte.
constexpr uint8_t kMySqlLogicalClockTimestamps = 2;

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
      return "HEARTBEAT";
    case BinlogEventType::kMySqlGtid:
    case BinlogEventType::kMySqlAnonymousGtid:
    case BinlogEventType::kMariaDbGtid:
      return "GTID";
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
  return reader.ExpectEnd();
}

Status DecodeBody(BinlogReader& reader, BinlogMySqlGtid* gtid) {
  std::string_view uuid;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("flags", &gtid->flags));
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("source uuid", gtid->source_uuid.size(), &uuid));
  std::copy(uuid.begin(), uuid.end(), gtid->source_uuid.begin());
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("gno", &gtid->gno));
  if (reader.remaining() == 0) return Status::OK();  // a pre-5.7 server
  uint8_t clock_type = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.U8("logical clock type", &clock_type));
  if (clock_type != kMySqlLogicalClockTimestamps) {
    return reader.Malformed("unknown logical clock type " + std::to_string(clock_type));
  }
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("last committed", &gtid->last_committed.emplace()));
  CRBRIDGE_RETURN_IF_ERROR(reader.U64("sequence number", &gtid->sequence_number.emplace()));
  // Commit timestamps, transaction length and server versions follow;
  // capture does not need them.
  return Status::OK();
}

// ---- TABLE_MAP ----

bool IsNumeric(MySqlType type) {
  switch (type) {
    case MySqlType::kTiny:
    case MySqlType::kShort:
    case MySqlType::kInt24:
    case MySqlType::kLong:
    case MySqlType::kLongLong:
    case MySqlType::kNewDecimal:
    case MySqlType::kFloat:
    case MySqlType::kDouble:
      return true;
    default:
      return false;
  }
}

// The columns the charset lists of the optional metadata cover, as
// MariaDB's writer chooses them (MySQL leaves GEOMETRY out).
bool HasCharacterCharset(MySqlType type) {
  switch (type) {
    case MySqlType::kString:
    case MySqlType::kVarString:
    case MySqlType::kVarchar:
    case MySqlType::kTinyBlob:
    case MySqlType::kMediumBlob:
    case MySqlType::kLongBlob:
    case MySqlType::kBlob:
    case MySqlType::kGeometry:
    case MySqlType::kMariaDbBlobCompressed:
    case MySqlType::kMariaDbVarcharCompressed:
      return true;
    default:
      return false;
  }
}

bool IsEnumOrSet(MySqlType type) { return type == MySqlType::kEnum || type == MySqlType::kSet; }

// Reads one column's metadata, 0 to 2 bytes depending on its wire type.
Status DecodeColumnMetadata(BinlogReader& reader, uint8_t wire_type, BinlogColumn* column) {
  const auto type = static_cast<MySqlType>(wire_type);
  column->type = type;
  uint8_t first = 0;
  uint8_t second = 0;
  switch (type) {
    case MySqlType::kFloat:
    case MySqlType::kDouble:
    case MySqlType::kTinyBlob:
    case MySqlType::kMediumBlob:
    case MySqlType::kLongBlob:
    case MySqlType::kBlob:
    case MySqlType::kGeometry:
    case MySqlType::kJson:
    case MySqlType::kMariaDbBlobCompressed:
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &column->pack_length));
      column->raw_metadata = column->pack_length;
      return Status::OK();
    case MySqlType::kTime2:
    case MySqlType::kDateTime2:
    case MySqlType::kTimestamp2:
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &column->fractional_digits));
      column->raw_metadata = column->fractional_digits;
      if (column->fractional_digits > 6) return reader.Malformed("fractional precision above 6");
      return Status::OK();
    case MySqlType::kVarchar:
    case MySqlType::kVarString:
    case MySqlType::kMariaDbVarcharCompressed:
      CRBRIDGE_RETURN_IF_ERROR(reader.U16("column metadata", &column->max_bytes));
      column->raw_metadata = column->max_bytes;
      return Status::OK();
    case MySqlType::kNewDecimal:
    case MySqlType::kBit:
    case MySqlType::kString:
    case MySqlType::kEnum:
    case MySqlType::kSet:
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &first));
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &second));
      column->raw_metadata = static_cast<uint16_t>(first | (second << 8));
      break;
    case MySqlType::kDecimal:
    case MySqlType::kTiny:
    case MySqlType::kShort:
    case MySqlType::kLong:
    case MySqlType::kNull:
    case MySqlType::kTimestamp:
    case MySqlType::kLongLong:
    case MySqlType::kInt24:
    case MySqlType::kDate:
    case MySqlType::kTime:
    case MySqlType::kDateTime:
    case MySqlType::kYear:
    case MySqlType::kNewDate:
      return Status::OK();
    default:
      return Status::InvalidArgument("binlog: unsupported column type " + std::to_string(wire_type) +
                                     " in TABLE_MAP event");
  }
  if (type == MySqlType::kNewDecimal) {
    column->precision = first;
    column->scale = second;
    if (first == 0 || first > 65 || second > 30 || second > first) {
      return reader.Malformed("DECIMAL(" + std::to_string(first) + "," + std::to_string(second) + ")");
    }
    return Status::OK();
  }
  if (type == MySqlType::kBit) {
    const unsigned bits = second * 8u + first;
    if (first > 7 || bits == 0 || bits > 64) return reader.Malformed("BIT width " + std::to_string(bits));
    column->bits = static_cast<uint8_t>(bits);
    return Status::OK();
  }
  // CHAR, BINARY, ENUM, SET: the real type, with bits 8-9 of a CHAR's
  // length folded (inverted) into its bits 4-5; then the length's low byte,
  // or ENUM's and SET's pack length.
  uint8_t real_type = first;
  unsigned length = second;
  if ((first & 0x30) != 0x30) {
    real_type = static_cast<uint8_t>(first | 0x30);
    length |= ((first & 0x30u) ^ 0x30u) << 4;
  }
  column->type = static_cast<MySqlType>(real_type);
  switch (column->type) {
    case MySqlType::kString:
      column->max_bytes = static_cast<uint16_t>(length);
      return Status::OK();
    case MySqlType::kEnum:
      column->pack_length = static_cast<uint8_t>(length);
      if (length < 1 || length > 2) return reader.Malformed("ENUM pack length " + std::to_string(length));
      return Status::OK();
    case MySqlType::kSet:
      column->pack_length = static_cast<uint8_t>(length);
      if (length < 1 || length > 8) return reader.Malformed("SET pack length " + std::to_string(length));
      return Status::OK();
    default:
      return reader.Malformed("unknown real type " + std::to_string(real_type) + " of a CHAR column");
  }
}

// The indexes of the columns that `belongs` selects: the optional metadata
// lists values for such subsets in column order.
template <typename Predicate>
std::vector<BinlogColumn*> ColumnsWhere(std::vector<BinlogColumn>& columns, Predicate belongs) {
  std::vector<BinlogColumn*> selected;
  for (BinlogColumn& column : columns) {
    if (belongs(column)) selected.push_back(&column);
  }
  return selected;
}

Status ReadColumnIndex(BinlogReader& reader, const char* field, size_t column_count, uint32_t* index) {
  uint64_t value = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncoded(field, &value));
  if (value >= column_count) return reader.Malformed(std::string(field) + " " + std::to_string(value) + " out of range");
  *index = static_cast<uint32_t>(value);
  return Status::OK();
}

Status ReadCharset(BinlogReader& reader, const char* field, std::optional<uint32_t>* charset) {
  uint64_t value = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncoded(field, &value));
  if (value > UINT32_MAX) return reader.Malformed(std::string(field) + " out of range");
  *charset = static_cast<uint32_t>(value);
  return Status::OK();
}

// A default charset, then (column index, charset) pairs for the columns
// that differ; indexes count within `columns`.
Status DecodeDefaultCharset(BinlogReader& reader, const std::vector<BinlogColumn*>& columns) {
  std::optional<uint32_t> charset;
  CRBRIDGE_RETURN_IF_ERROR(ReadCharset(reader, "default charset", &charset));
  for (BinlogColumn* column : columns) column->charset = charset;
  while (reader.remaining() > 0) {
    uint32_t index = 0;
    CRBRIDGE_RETURN_IF_ERROR(ReadColumnIndex(reader, "charset column index", columns.size(), &index));
    CRBRIDGE_RETURN_IF_ERROR(ReadCharset(reader, "column charset", &columns[index]->charset));
  }
  return Status::OK();
}

Status DecodeColumnCharsets(BinlogReader& reader, const std::vector<BinlogColumn*>& columns) {
  for (BinlogColumn* column : columns) CRBRIDGE_RETURN_IF_ERROR(ReadCharset(reader, "column charset", &column->charset));
  return reader.ExpectEnd();
}

Status DecodeValueStrings(BinlogReader& reader, const std::vector<BinlogColumn*>& columns) {
  for (BinlogColumn* column : columns) {
    size_t count = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.Count("value count", 1, &count));
    column->enum_or_set_values.resize(count);
    for (std::string& value : column->enum_or_set_values) {
      std::string_view bytes;
      CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncodedBytes("value", &bytes));
      value.assign(bytes);
    }
  }
  return reader.ExpectEnd();
}

Status DecodeOptionalMetadata(BinlogReader& reader, BinlogTableMap* table) {
  enum : uint8_t {
    kSignedness = 1,
    kDefaultCharset = 2,
    kColumnCharset = 3,
    kColumnName = 4,
    kSetValues = 5,
    kEnumValues = 6,
    kSimplePrimaryKey = 8,
    kPrimaryKeyWithPrefix = 9,
    kEnumAndSetDefaultCharset = 10,
    kEnumAndSetColumnCharset = 11,
  };
  std::vector<BinlogColumn>& columns = table->columns;
  const auto character = [](const BinlogColumn& c) { return HasCharacterCharset(c.type); };
  const auto enum_or_set = [](const BinlogColumn& c) { return IsEnumOrSet(c.type); };
  while (reader.remaining() > 0) {
    uint8_t field_type = 0;
    std::string_view value;
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("optional metadata type", &field_type));
    CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncodedBytes("optional metadata", &value));
    BinlogReader field(value, "TABLE_MAP");
    switch (field_type) {
      case kSignedness: {
        // One bit per numeric column, most significant bit first.
        const std::vector<BinlogColumn*> numeric =
            ColumnsWhere(columns, [](const BinlogColumn& c) { return IsNumeric(c.type); });
        if (value.size() < (numeric.size() + 7) / 8) return reader.Truncated("signedness");
        for (size_t i = 0; i < numeric.size(); ++i) {
          numeric[i]->is_unsigned = (static_cast<uint8_t>(value[i / 8]) >> (7 - i % 8)) & 1;
        }
        table->has_signedness = true;
        break;
      }
      case kDefaultCharset:
        CRBRIDGE_RETURN_IF_ERROR(DecodeDefaultCharset(field, ColumnsWhere(columns, character)));
        break;
      case kColumnCharset:
        CRBRIDGE_RETURN_IF_ERROR(DecodeColumnCharsets(field, ColumnsWhere(columns, character)));
        break;
      case kEnumAndSetDefaultCharset:
        CRBRIDGE_RETURN_IF_ERROR(DecodeDefaultCharset(field, ColumnsWhere(columns, enum_or_set)));
        break;
      case kEnumAndSetColumnCharset:
        CRBRIDGE_RETURN_IF_ERROR(DecodeColumnCharsets(field, ColumnsWhere(columns, enum_or_set)));
        break;
      case kColumnName:
        for (BinlogColumn& column : columns) {
          std::string_view name;
          CRBRIDGE_RETURN_IF_ERROR(field.LengthEncodedBytes("column name", &name));
          column.name.assign(name);
        }
        CRBRIDGE_RETURN_IF_ERROR(field.ExpectEnd());
        table->has_column_names = true;
        break;
      case kSetValues:
        CRBRIDGE_RETURN_IF_ERROR(DecodeValueStrings(
            field, ColumnsWhere(columns, [](const BinlogColumn& c) { return c.type == MySqlType::kSet; })));
        break;
      case kEnumValues:
        CRBRIDGE_RETURN_IF_ERROR(DecodeValueStrings(
            field, ColumnsWhere(columns, [](const BinlogColumn& c) { return c.type == MySqlType::kEnum; })));
        break;
      case kSimplePrimaryKey:
      case kPrimaryKeyWithPrefix:
        table->primary_key.clear();
        while (field.remaining() > 0) {
          BinlogKeyPart& part = table->primary_key.emplace_back();
          CRBRIDGE_RETURN_IF_ERROR(ReadColumnIndex(field, "primary key column", columns.size(), &part.column));
          if (field_type == kPrimaryKeyWithPrefix) {
            uint64_t prefix = 0;
            CRBRIDGE_RETURN_IF_ERROR(field.LengthEncoded("primary key prefix length", &prefix));
            if (prefix > UINT32_MAX) return field.Malformed("primary key prefix length out of range");
            part.prefix_length = static_cast<uint32_t>(prefix);
          }
        }
        break;
      default:
        break;  // geometry types, column visibility and later additions
    }
  }
  return Status::OK();
}

Status DecodeBody(BinlogReader& reader, BinlogTableMap* table) {
  CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("table id", 6, &table->table_id));
  CRBRIDGE_RETURN_IF_ERROR(reader.U16("flags", &table->flags));
  CRBRIDGE_RETURN_IF_ERROR(reader.NameWithTerminator("database name", &table->database));
  CRBRIDGE_RETURN_IF_ERROR(reader.NameWithTerminator("table name", &table->table));
  size_t column_count = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.Count("column count", 1, &column_count));
  if (column_count > kMaxColumns) return reader.Malformed(std::to_string(column_count) + " columns");
  std::string_view types;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("column types", column_count, &types));
  table->columns.resize(column_count);

  std::string_view metadata;
  CRBRIDGE_RETURN_IF_ERROR(reader.LengthEncodedBytes("column metadata", &metadata));
  BinlogReader metadata_reader(metadata, "TABLE_MAP");
  for (size_t i = 0; i < column_count; ++i) {
    CRBRIDGE_RETURN_IF_ERROR(
        DecodeColumnMetadata(metadata_reader, static_cast<uint8_t>(types[i]), &table->columns[i]));
  }
  CRBRIDGE_RETURN_IF_ERROR(metadata_reader.ExpectEnd());

  std::string_view nullable;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("nullable bitmap", (column_count + 7) / 8, &nullable));
  for (size_t i = 0; i < column_count; ++i) {
    table->columns[i].nullable = (static_cast<uint8_t>(nullable[i / 8]) >> (i % 8)) & 1;
  }
  return DecodeOptionalMetadata(reader, table);
}

// ---- ROWS ----

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

Status DecodeBinlogEvent(std::string_view bytes, BinlogChecksum checksum, BinlogEvent* event) {
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
    case BinlogEventType::kQuery:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogQuery>(body, type, &data));
      break;
    case BinlogEventType::kXid:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogXid>(body, type, &data));
      break;
    case BinlogEventType::kMariaDbGtid:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogMariaDbGtid>(body, type, &data));
      break;
    case BinlogEventType::kMariaDbGtidList:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogMariaDbGtidList>(body, type, &data));
      break;
    case BinlogEventType::kMySqlGtid:
    case BinlogEventType::kMySqlAnonymousGtid:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogMySqlGtid>(body, type, &data));
      std::get<BinlogMySqlGtid>(data).anonymous = type == BinlogEventType::kMySqlAnonymousGtid;
      break;
    case BinlogEventType::kTableMap:
      CRBRIDGE_RETURN_IF_ERROR(DecodeInto<BinlogTableMap>(body, type, &data));
      break;
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

std::string FormatMySqlGtid(const BinlogMySqlGtid& gtid) {
  std::string text;
  char hex[3];
  for (size_t i = 0; i < gtid.source_uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(gtid.source_uuid[i]));
    text.append(hex);
  }
  return text + ":" + std::to_string(gtid.gno);
}

}  // namespace crbridge
