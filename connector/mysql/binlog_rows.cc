#include "crbridge/connector/mysql/binlog_rows.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <utility>

#include "binlog_json.h"
#include "binlog_reader.h"

namespace crbridge::mysql {
namespace {

// Bytes per leftover decimal digits (0 to 8) of a DECIMAL; 9 digits take 4.
constexpr uint8_t kDecimalDigitBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
constexpr uint32_t kPowersOfTen[10] = {1, 10, 100, 1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000,
                                       1'000'000'000};

// The sign offsets of the temporal types' big-endian integer parts.
constexpr int64_t kDateTime2Offset = 0x80'0000'0000;
constexpr int64_t kTime2Offset = 0x80'0000;
constexpr int64_t kTime2WithMicrosOffset = 0x8000'0000'0000;

bool IsBitSet(std::string_view bitmap, size_t index) {
  return (static_cast<uint8_t>(bitmap[index / 8]) >> (index % 8)) & 1;
}

Status Unsupported(const BinlogColumn& column, const std::string& what) {
  return Status::InvalidArgument("binlog: column `" + column.name + "`: " + what + " is not supported");
}

// `value` in at least `digits` digits, zero-padded.
std::string Digits(uint64_t value, size_t digits) {
  std::string text = std::to_string(value);
  if (text.size() < digits) text.insert(0, digits - text.size(), '0');
  return text;
}

// ".123" for 123456 microseconds at 3 fractional digits; "" at 0.
std::string Fraction(uint32_t micros, uint8_t fractional_digits) {
  if (fractional_digits == 0) return "";
  return "." + Digits(micros / kPowersOfTen[6 - fractional_digits], fractional_digits);
}

std::string FormatDateTime(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                           unsigned second) {
  char text[40];
  std::snprintf(text, sizeof text, "%04u-%02u-%02u %02u:%02u:%02u", year, month, day, hour, minute, second);
  return text;
}

// The fraction of a DATETIME2 or TIMESTAMP2: ceil(fsp / 2) big-endian bytes
// in units of 1/100, 1/10,000 or 1/1,000,000 s.
Status ReadMicros(BinlogReader& reader, uint8_t fractional_digits, uint32_t* micros) {
  const size_t size = (fractional_digits + 1u) / 2;
  uint64_t raw = 0;
  if (size > 0) CRBRIDGE_RETURN_IF_ERROR(reader.BigEndian("fraction", size, &raw));
  if (raw >= kPowersOfTen[size * 2]) return reader.Malformed("fraction out of range");
  *micros = static_cast<uint32_t>(raw * kPowersOfTen[6 - size * 2]);
  return Status::OK();
}

Status DecodeInteger(BinlogReader& reader, size_t width, bool is_unsigned, BinlogValue* value) {
  uint64_t raw = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("integer", width, &raw));
  if (is_unsigned) {
    if (raw > static_cast<uint64_t>(INT64_MAX)) {
      *value = raw;
    } else {
      *value = static_cast<int64_t>(raw);
    }
    return Status::OK();
  }
  const unsigned shift = static_cast<unsigned>(64 - width * 8);
  *value = static_cast<int64_t>(raw << shift) >> shift;  // sign-extends
  return Status::OK();
}

// TIME2: a signed packed value, the hours, minutes and seconds in its
// integer part (bits 12-21, 6-11, 0-5) and microseconds in its low 24 bits.
// Below 6-byte precision, a negative value borrows from its integer part
// when it has a fraction.
Status DecodeTime2(BinlogReader& reader, uint8_t fractional_digits, BinlogValue* value) {
  constexpr int64_t kIntegerUnit = int64_t{1} << 24;
  int64_t packed = 0;
  uint64_t raw = 0;
  if (fractional_digits >= 5) {
    CRBRIDGE_RETURN_IF_ERROR(reader.BigEndian("TIME", 6, &raw));
    packed = static_cast<int64_t>(raw) - kTime2WithMicrosOffset;
  } else {
    CRBRIDGE_RETURN_IF_ERROR(reader.BigEndian("TIME", 3, &raw));
    int64_t integer_part = static_cast<int64_t>(raw) - kTime2Offset;
    int64_t fraction = 0;
    int64_t fraction_unit = 0;
    if (fractional_digits > 0) {
      const size_t size = (fractional_digits + 1u) / 2;
      uint64_t stored = 0;
      CRBRIDGE_RETURN_IF_ERROR(reader.BigEndian("fraction", size, &stored));
      fraction = static_cast<int64_t>(stored);
      if (integer_part < 0 && fraction != 0) {
        ++integer_part;
        fraction -= int64_t{1} << (size * 8);
      }
      fraction_unit = size == 1 ? 10'000 : 100;
    }
    packed = integer_part * kIntegerUnit + fraction * fraction_unit;
  }
  const bool negative = packed < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(packed) : static_cast<uint64_t>(packed);
  const uint64_t hms = magnitude >> 24;
  const auto micros = static_cast<uint32_t>(magnitude % kIntegerUnit);
  if (micros >= 1'000'000) return reader.Malformed("TIME fraction out of range");
  char text[32];
  std::snprintf(text, sizeof text, "%s%02u:%02u:%02u", negative ? "-" : "", static_cast<unsigned>((hms >> 12) % 1024),
                static_cast<unsigned>((hms >> 6) % 64), static_cast<unsigned>(hms % 64));
  *value = text + Fraction(micros, fractional_digits);
  return Status::OK();
}

Status DecodeDateTime2(BinlogReader& reader, uint8_t fractional_digits, BinlogValue* value) {
  uint64_t raw = 0;
  uint32_t micros = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.BigEndian("DATETIME", 5, &raw));
  CRBRIDGE_RETURN_IF_ERROR(ReadMicros(reader, fractional_digits, &micros));
  const int64_t packed = static_cast<int64_t>(raw) - kDateTime2Offset;
  if (packed < 0) return reader.Malformed("negative DATETIME");
  const auto v = static_cast<uint64_t>(packed);
  const uint64_t year_month = v >> 22;
  *value = FormatDateTime(static_cast<unsigned>(year_month / 13), static_cast<unsigned>(year_month % 13),
                          (v >> 17) & 31, (v >> 12) & 31, (v >> 6) & 63, v & 63) +
           Fraction(micros, fractional_digits);
  return Status::OK();
}

// Seconds since the Unix epoch as UTC; 0 is MySQL's zero TIMESTAMP.
std::string FormatUnixSeconds(uint32_t seconds) {
  if (seconds == 0) return FormatDateTime(0, 0, 0, 0, 0, 0);
  using namespace std::chrono;
  const sys_seconds time{std::chrono::seconds{seconds}};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  return FormatDateTime(static_cast<unsigned>(static_cast<int>(date.year())), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), static_cast<unsigned>(clock.hours().count()),
                        static_cast<unsigned>(clock.minutes().count()), static_cast<unsigned>(clock.seconds().count()));
}

Status DecodeTimestamp2(BinlogReader& reader, uint8_t fractional_digits, BinlogValue* value) {
  uint64_t seconds = 0;
  uint32_t micros = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.BigEndian("TIMESTAMP", 4, &seconds));
  CRBRIDGE_RETURN_IF_ERROR(ReadMicros(reader, fractional_digits, &micros));
  *value = FormatUnixSeconds(static_cast<uint32_t>(seconds)) + Fraction(micros, fractional_digits);
  return Status::OK();
}

// Pre-5.6 temporal formats, still found in tables created by old servers.
Status DecodeOldTemporal(BinlogReader& reader, MysqlType type, BinlogValue* value) {
  if (type == MysqlType::kTimestamp) {
    uint32_t seconds = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U32("TIMESTAMP", &seconds));
    *value = FormatUnixSeconds(seconds);
    return Status::OK();
  }
  if (type == MysqlType::kDateTime) {  // YYYYMMDDhhmmss as an integer
    uint64_t v = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U64("DATETIME", &v));
    const uint64_t date = v / 1'000'000;
    const uint64_t time = v % 1'000'000;
    *value = FormatDateTime(static_cast<unsigned>(date / 10'000 % 10'000), date / 100 % 100, date % 100,
                            static_cast<unsigned>(time / 10'000), time / 100 % 100, time % 100);
    return Status::OK();
  }
  // TIME: a signed 3-byte HHMMSS integer.
  BinlogValue hhmmss;
  CRBRIDGE_RETURN_IF_ERROR(DecodeInteger(reader, 3, false, &hhmmss));
  const int64_t signed_value = std::get<int64_t>(hhmmss);
  const int64_t magnitude = signed_value < 0 ? -signed_value : signed_value;
  char text[32];
  std::snprintf(text, sizeof text, "%s%02u:%02u:%02u", signed_value < 0 ? "-" : "",
                static_cast<unsigned>(magnitude / 10'000), static_cast<unsigned>(magnitude / 100 % 100),
                static_cast<unsigned>(magnitude % 100));
  *value = std::string(text);
  return Status::OK();
}

// Character data as text when the table map names a character charset;
// binary or unknown charsets as bytes.
void SetStringValue(const BinlogColumn& column, std::string_view data, BinlogValue* value) {
  if (column.charset && *column.charset != kMysqlBinaryCharset) {
    *value = std::string(data);
  } else {
    *value = BinlogBytes{std::string(data)};
  }
}

Status DecodeLengthPrefixed(BinlogReader& reader, size_t prefix_size, const char* field, std::string_view* data) {
  uint64_t length = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian(field, prefix_size, &length));
  if (length > reader.remaining()) return reader.Truncated(field);
  return reader.Bytes(field, static_cast<size_t>(length), data);
}

Status DecodeEnumOrSet(BinlogReader& reader, const BinlogColumn& column, BinlogValue* value) {
  const char* name = column.type == MysqlType::kEnum ? "ENUM" : "SET";
  if (column.enum_or_set_values.empty()) {
    return Unsupported(column, std::string(name) + " without its values in the table map (binlog_row_metadata=FULL)");
  }
  uint64_t raw = 0;
  CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian(name, column.pack_length, &raw));
  const std::vector<std::string>& values = column.enum_or_set_values;
  if (column.type == MysqlType::kEnum) {
    // 0 is the empty string MySQL stores for an invalid value.
    if (raw > values.size()) return reader.Malformed("ENUM index " + std::to_string(raw) + " out of range");
    *value = raw == 0 ? std::string() : values[raw - 1];
    return Status::OK();
  }
  std::string members;
  for (size_t bit = 0; bit < 64 && (raw >> bit) != 0; ++bit) {
    if (((raw >> bit) & 1) == 0) continue;
    if (bit >= values.size()) return reader.Malformed("SET member " + std::to_string(bit) + " out of range");
    if (!members.empty()) members += ',';
    members += values[bit];
  }
  *value = std::move(members);
  return Status::OK();
}

Status DecodeValue(BinlogReader& reader, const BinlogColumn& column, BinlogValue* value) {
  std::string_view data;
  uint64_t raw = 0;
  switch (column.type) {
    case MysqlType::kTiny:
      return DecodeInteger(reader, 1, column.is_unsigned, value);
    case MysqlType::kShort:
      return DecodeInteger(reader, 2, column.is_unsigned, value);
    case MysqlType::kInt24:
      return DecodeInteger(reader, 3, column.is_unsigned, value);
    case MysqlType::kLong:
      return DecodeInteger(reader, 4, column.is_unsigned, value);
    case MysqlType::kLongLong:
      return DecodeInteger(reader, 8, column.is_unsigned, value);
    case MysqlType::kYear:  // 0 is the year 0000, others count from 1900
      CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("YEAR", 1, &raw));
      *value = static_cast<int64_t>(raw == 0 ? 0 : raw + 1900);
      return Status::OK();
    case MysqlType::kFloat:
      CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("FLOAT", 4, &raw));
      *value = static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(raw)));
      return Status::OK();
    case MysqlType::kDouble:
      CRBRIDGE_RETURN_IF_ERROR(reader.U64("DOUBLE", &raw));
      *value = std::bit_cast<double>(raw);
      return Status::OK();
    case MysqlType::kNewDecimal: {
      std::string digits;
      CRBRIDGE_RETURN_IF_ERROR(DecodePackedDecimal(reader, column.precision, column.scale, &digits));
      *value = std::move(digits);
      return Status::OK();
    }
    case MysqlType::kDate:
    case MysqlType::kNewDate: {
      CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("DATE", 3, &raw));
      char text[16];
      std::snprintf(text, sizeof text, "%04u-%02u-%02u", static_cast<unsigned>(raw >> 9),
                    static_cast<unsigned>(raw >> 5 & 15), static_cast<unsigned>(raw & 31));
      *value = std::string(text);
      return Status::OK();
    }
    case MysqlType::kTime2:
      return DecodeTime2(reader, column.fractional_digits, value);
    case MysqlType::kDateTime2:
      return DecodeDateTime2(reader, column.fractional_digits, value);
    case MysqlType::kTimestamp2:
      return DecodeTimestamp2(reader, column.fractional_digits, value);
    case MysqlType::kTimestamp:
    case MysqlType::kDateTime:
    case MysqlType::kTime:
      return DecodeOldTemporal(reader, column.type, value);
    case MysqlType::kVarchar:
    case MysqlType::kVarString:
      CRBRIDGE_RETURN_IF_ERROR(DecodeLengthPrefixed(reader, column.max_bytes < 256 ? 1 : 2, "VARCHAR", &data));
      SetStringValue(column, data, value);
      return Status::OK();
    case MysqlType::kString:
      CRBRIDGE_RETURN_IF_ERROR(DecodeLengthPrefixed(reader, column.max_bytes < 256 ? 1 : 2, "CHAR", &data));
      SetStringValue(column, data, value);
      // The server strips a BINARY's trailing zero bytes (a CHAR's trailing
      // spaces, which it does not return either).
      if (auto* bytes = std::get_if<BinlogBytes>(value); bytes && column.charset == kMysqlBinaryCharset) {
        if (bytes->data.size() < column.max_bytes) bytes->data.resize(column.max_bytes, '\0');
      }
      return Status::OK();
    case MysqlType::kEnum:
    case MysqlType::kSet:
      return DecodeEnumOrSet(reader, column, value);
    case MysqlType::kBit:
      CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("BIT", (column.bits + 7u) / 8, &data));
      *value = BinlogBytes{std::string(data)};
      return Status::OK();
    case MysqlType::kTinyBlob:
    case MysqlType::kMediumBlob:
    case MysqlType::kLongBlob:
    case MysqlType::kBlob:
    case MysqlType::kGeometry:
    case MysqlType::kJson:
      if (column.pack_length < 1 || column.pack_length > 4) {
        return reader.Malformed("BLOB length prefix of " + std::to_string(column.pack_length) + " bytes");
      }
      CRBRIDGE_RETURN_IF_ERROR(DecodeLengthPrefixed(reader, column.pack_length, "BLOB", &data));
      if (column.type == MysqlType::kJson) {
        std::string json;
        CRBRIDGE_RETURN_IF_ERROR(DecodeMysqlJson(data, &json));
        *value = std::move(json);
      } else if (column.type == MysqlType::kGeometry) {
        *value = BinlogBytes{std::string(data)};
      } else {
        SetStringValue(column, data, value);
      }
      return Status::OK();
    case MysqlType::kNull:
      *value = BinlogNull{};
      return Status::OK();
    case MysqlType::kMariaDbBlobCompressed:
    case MysqlType::kMariaDbVarcharCompressed:
      return Unsupported(column, "a compressed column");
    default:
      return Unsupported(column, "type " + std::to_string(static_cast<unsigned>(column.type)));
  }
}

Status DecodeImage(BinlogReader& reader, const BinlogTableMap& table, const std::vector<bool>& present,
                   BinlogRowImage* image) {
  const size_t present_count = static_cast<size_t>(std::count(present.begin(), present.end(), true));
  std::string_view null_bitmap;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("null bitmap", (present_count + 7) / 8, &null_bitmap));
  image->reserve(present_count);
  size_t present_index = 0;
  for (size_t i = 0; i < present.size(); ++i) {
    if (!present[i]) continue;
    BinlogColumnValue& entry = image->emplace_back();
    entry.column = static_cast<uint32_t>(i);
    if (IsBitSet(null_bitmap, present_index++)) continue;  // BinlogNull
    const BinlogColumn& column = table.columns[i];
    const Status status = DecodeValue(reader, column, &entry.value);
    if (status.code() == Status::Code::kCorruption) {
      return Status::Corruption(status.message() + " (column " + std::to_string(i) + " `" + column.name + "`)");
    }
    CRBRIDGE_RETURN_IF_ERROR(status);
  }
  return Status::OK();
}

}  // namespace

Status DecodePackedDecimal(BinlogReader& reader, unsigned precision, unsigned scale, std::string* text) {
  if (precision == 0 || precision > 65 || scale > 30 || scale > precision) {
    return reader.Malformed("DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")");
  }
  const unsigned integer_digits = precision - scale;
  const unsigned integer_groups = integer_digits / 9;
  const unsigned integer_leftover = integer_digits % 9;
  const unsigned fraction_groups = scale / 9u;
  const unsigned fraction_leftover = scale % 9u;
  const size_t size = integer_groups * 4 + kDecimalDigitBytes[integer_leftover] + fraction_groups * 4 +
                      kDecimalDigitBytes[fraction_leftover];
  std::string_view stored;
  CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("DECIMAL", size, &stored));
  std::string bytes(stored);
  const bool negative = (static_cast<uint8_t>(bytes[0]) & 0x80) == 0;
  bytes[0] = static_cast<char>(bytes[0] ^ 0x80);
  if (negative) {
    for (char& byte : bytes) byte = static_cast<char>(~byte);
  }
  BinlogReader digits_reader(bytes, "ROWS");
  std::string integer_part;
  std::string fraction_part;
  const auto append = [&](unsigned digits, std::string* out) -> Status {
    uint64_t group = 0;
    CRBRIDGE_RETURN_IF_ERROR(digits_reader.BigEndian("DECIMAL", kDecimalDigitBytes[digits], &group));
    if (group >= kPowersOfTen[digits]) return reader.Malformed("DECIMAL digits out of range");
    out->append(Digits(group, digits));
    return Status::OK();
  };
  if (integer_leftover > 0) CRBRIDGE_RETURN_IF_ERROR(append(integer_leftover, &integer_part));
  for (unsigned i = 0; i < integer_groups; ++i) CRBRIDGE_RETURN_IF_ERROR(append(9, &integer_part));
  for (unsigned i = 0; i < fraction_groups; ++i) CRBRIDGE_RETURN_IF_ERROR(append(9, &fraction_part));
  if (fraction_leftover > 0) CRBRIDGE_RETURN_IF_ERROR(append(fraction_leftover, &fraction_part));

  integer_part.erase(0, std::min(integer_part.find_first_not_of('0'), integer_part.size()));
  if (integer_part.empty()) integer_part = "0";
  const bool is_zero = integer_part == "0" && fraction_part.find_first_not_of('0') == std::string::npos;
  *text = negative && !is_zero ? "-" : "";
  *text += integer_part;
  if (!fraction_part.empty()) *text += "." + fraction_part;
  return Status::OK();
}

Status DecodeBinlogRows(const BinlogTableMap& table, const BinlogRowsEvent& rows,
                        std::vector<BinlogRowChange>* changes) {
  if (rows.table_id != table.table_id) {
    return Status::InvalidArgument("binlog: ROWS event for table id " + std::to_string(rows.table_id) +
                                   " decoded with the table map of table id " + std::to_string(table.table_id));
  }
  const bool is_update = rows.kind == BinlogRowsKind::kUpdate;
  if (rows.column_count != table.columns.size() || rows.present_columns.size() != table.columns.size() ||
      (is_update && rows.present_columns_after.size() != table.columns.size())) {
    return Status::Corruption("binlog: ROWS event with " + std::to_string(rows.column_count) + " columns for " +
                              table.database + "." + table.table + " with " + std::to_string(table.columns.size()));
  }
  // Each row must take bytes, or a few bytes could claim endless rows.
  const auto none_present = [](const std::vector<bool>& present) {
    return std::find(present.begin(), present.end(), true) == present.end();
  };
  if (!rows.rows.empty() && none_present(rows.present_columns) &&
      (!is_update || none_present(rows.present_columns_after))) {
    return Status::Corruption("binlog: ROWS event with rows but no present columns");
  }
  BinlogReader reader(rows.rows, "ROWS");
  std::vector<BinlogRowChange> decoded;
  while (reader.remaining() > 0) {
    BinlogRowChange& change = decoded.emplace_back();
    switch (rows.kind) {
      case BinlogRowsKind::kWrite:
        CRBRIDGE_RETURN_IF_ERROR(DecodeImage(reader, table, rows.present_columns, &change.after));
        break;
      case BinlogRowsKind::kDelete:
        CRBRIDGE_RETURN_IF_ERROR(DecodeImage(reader, table, rows.present_columns, &change.before));
        break;
      case BinlogRowsKind::kUpdate:
        CRBRIDGE_RETURN_IF_ERROR(DecodeImage(reader, table, rows.present_columns, &change.before));
        CRBRIDGE_RETURN_IF_ERROR(DecodeImage(reader, table, rows.present_columns_after, &change.after));
        break;
    }
  }
  *changes = std::move(decoded);
  return Status::OK();
}

}  // namespace crbridge::mysql
