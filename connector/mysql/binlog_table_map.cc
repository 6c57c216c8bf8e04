#include "binlog_table_map.h"

#include <string>
#include <vector>

namespace crbridge::mysql {
namespace {

bool IsNumeric(MysqlType type) {
  switch (type) {
    case MysqlType::kTiny:
    case MysqlType::kShort:
    case MysqlType::kInt24:
    case MysqlType::kLong:
    case MysqlType::kLongLong:
    case MysqlType::kNewDecimal:
    case MysqlType::kFloat:
    case MysqlType::kDouble:
      return true;
    default:
      return false;
  }
}

// The columns the charset lists of the optional metadata cover, as the
// server's writer chooses them: MySQL leaves GEOMETRY out, MariaDB does not.
bool HasCharacterCharset(MysqlType type, MysqlFlavor flavor) {
  switch (type) {
    case MysqlType::kString:
    case MysqlType::kVarString:
    case MysqlType::kVarchar:
    case MysqlType::kTinyBlob:
    case MysqlType::kMediumBlob:
    case MysqlType::kLongBlob:
    case MysqlType::kBlob:
    case MysqlType::kMariaDbBlobCompressed:
    case MysqlType::kMariaDbVarcharCompressed:
      return true;
    case MysqlType::kGeometry:
      return flavor == MysqlFlavor::kMariaDb;
    default:
      return false;
  }
}

bool IsEnumOrSet(MysqlType type) { return type == MysqlType::kEnum || type == MysqlType::kSet; }

// Reads one column's metadata, 0 to 2 bytes depending on its wire type.
Status DecodeColumnMetadata(BinlogReader& reader, uint8_t wire_type, BinlogColumn* column) {
  const auto type = static_cast<MysqlType>(wire_type);
  column->type = type;
  uint8_t first = 0;
  uint8_t second = 0;
  switch (type) {
    case MysqlType::kFloat:
    case MysqlType::kDouble:
    case MysqlType::kTinyBlob:
    case MysqlType::kMediumBlob:
    case MysqlType::kLongBlob:
    case MysqlType::kBlob:
    case MysqlType::kGeometry:
    case MysqlType::kJson:
    case MysqlType::kMariaDbBlobCompressed:
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &column->pack_length));
      column->raw_metadata = column->pack_length;
      return Status::OK();
    case MysqlType::kTime2:
    case MysqlType::kDateTime2:
    case MysqlType::kTimestamp2:
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &column->fractional_digits));
      column->raw_metadata = column->fractional_digits;
      if (column->fractional_digits > 6) return reader.Malformed("fractional precision above 6");
      return Status::OK();
    case MysqlType::kVarchar:
    case MysqlType::kVarString:
    case MysqlType::kMariaDbVarcharCompressed:
      CRBRIDGE_RETURN_IF_ERROR(reader.U16("column metadata", &column->max_bytes));
      column->raw_metadata = column->max_bytes;
      return Status::OK();
    case MysqlType::kNewDecimal:
    case MysqlType::kBit:
    case MysqlType::kString:
    case MysqlType::kEnum:
    case MysqlType::kSet:
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &first));
      CRBRIDGE_RETURN_IF_ERROR(reader.U8("column metadata", &second));
      column->raw_metadata = static_cast<uint16_t>(first | (second << 8));
      break;
    case MysqlType::kDecimal:
    case MysqlType::kTiny:
    case MysqlType::kShort:
    case MysqlType::kLong:
    case MysqlType::kNull:
    case MysqlType::kTimestamp:
    case MysqlType::kLongLong:
    case MysqlType::kInt24:
    case MysqlType::kDate:
    case MysqlType::kTime:
    case MysqlType::kDateTime:
    case MysqlType::kYear:
    case MysqlType::kNewDate:
      return Status::OK();
    default:
      return Status::InvalidArgument("binlog: unsupported column type " + std::to_string(wire_type) +
                                     " in TABLE_MAP event");
  }
  if (type == MysqlType::kNewDecimal) {
    column->precision = first;
    column->scale = second;
    if (first == 0 || first > 65 || second > 30 || second > first) {
      return reader.Malformed("DECIMAL(" + std::to_string(first) + "," + std::to_string(second) + ")");
    }
    return Status::OK();
  }
  if (type == MysqlType::kBit) {
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
  column->type = static_cast<MysqlType>(real_type);
  switch (column->type) {
    case MysqlType::kString:
      column->max_bytes = static_cast<uint16_t>(length);
      return Status::OK();
    case MysqlType::kEnum:
      column->pack_length = static_cast<uint8_t>(length);
      if (length < 1 || length > 2) return reader.Malformed("ENUM pack length " + std::to_string(length));
      return Status::OK();
    case MysqlType::kSet:
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

Status DecodeOptionalMetadata(BinlogReader& reader, MysqlFlavor flavor, BinlogTableMap* table) {
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
  const auto character = [flavor](const BinlogColumn& c) { return HasCharacterCharset(c.type, flavor); };
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
            field, ColumnsWhere(columns, [](const BinlogColumn& c) { return c.type == MysqlType::kSet; })));
        break;
      case kEnumValues:
        CRBRIDGE_RETURN_IF_ERROR(DecodeValueStrings(
            field, ColumnsWhere(columns, [](const BinlogColumn& c) { return c.type == MysqlType::kEnum; })));
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

}  // namespace

Status DecodeTableMap(BinlogReader& reader, MysqlFlavor flavor, BinlogTableMap* table) {
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
  return DecodeOptionalMetadata(reader, flavor, table);
}

}  // namespace crbridge::mysql
