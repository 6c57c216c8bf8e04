#include "crbridge/mappings/type_mapping.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <regex>

namespace crbridge {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

ColumnType Integer(int64_t min, uint64_t max) { return ColumnType{ValueKind::kInteger, min, max, ""}; }
ColumnType Kind(ValueKind kind) { return ColumnType{kind, INT64_MIN, INT64_MAX, ""}; }

Status ClassifyPostgres(const ServerColumn& column, ColumnType* type) {
  const std::string t = Lower(column.type);
  if (column.is_enum) {
    *type = Kind(ValueKind::kServerText);
  } else if (t.ends_with("[]")) {
    *type = Kind(ValueKind::kServerText);
  } else if (t == "smallint") {
    *type = Integer(INT16_MIN, INT16_MAX);
  } else if (t == "integer") {
    *type = Integer(INT32_MIN, INT32_MAX);
  } else if (t == "bigint") {
    *type = Integer(INT64_MIN, INT64_MAX);
  } else if (t == "boolean") {
    *type = Kind(ValueKind::kBoolean);
  } else if (t == "real" || t == "double precision") {
    *type = Kind(ValueKind::kReal);
  } else if (StartsWith(t, "numeric")) {
    *type = Kind(ValueKind::kDecimal);
  } else if (t == "text" || t == "citext" || t == "name" || StartsWith(t, "character") || t == "\"char\"") {
    *type = Kind(ValueKind::kText);
  } else if (t == "bytea") {
    *type = Kind(ValueKind::kBlob);
  } else if (t == "uuid") {
    *type = Kind(ValueKind::kUuid);
  } else if (t == "date") {
    *type = Kind(ValueKind::kDate);
  } else if (StartsWith(t, "timestamp") && t.ends_with("without time zone")) {
    *type = Kind(ValueKind::kTimestamp);
  } else if (StartsWith(t, "timestamp") && t.ends_with("with time zone")) {
    *type = Kind(ValueKind::kTimestampTz);
  } else if (t == "json" || t == "jsonb") {
    *type = Kind(ValueKind::kJson);
  } else if (t == "money") {
    return Status::InvalidArgument("type money prints in the server's locale and cannot round-trip; use numeric");
  } else {
    // time, interval, inet, and the other built-in types print a text form
    // that their input accepts back unchanged.
    *type = Kind(ValueKind::kServerText);
  }
  type->server_type = column.type;
  return Status::OK();
}

Status ClassifyMysql(const ServerColumn& column, ColumnType* type) {
  const std::string t = Lower(column.type);
  const bool is_unsigned = t.find("unsigned") != std::string::npos;
  const std::string base = t.substr(0, t.find_first_of("( "));
  if (t == "tinyint(1)" || base == "bool" || base == "boolean") {
    *type = Kind(ValueKind::kBoolean);
  } else if (base == "tinyint") {
    *type = is_unsigned ? Integer(0, UINT8_MAX) : Integer(INT8_MIN, INT8_MAX);
  } else if (base == "smallint") {
    *type = is_unsigned ? Integer(0, UINT16_MAX) : Integer(INT16_MIN, INT16_MAX);
  } else if (base == "mediumint") {
    *type = is_unsigned ? Integer(0, (1 << 24) - 1) : Integer(-(1 << 23), (1 << 23) - 1);
  } else if (base == "int" || base == "integer") {
    *type = is_unsigned ? Integer(0, UINT32_MAX) : Integer(INT32_MIN, INT32_MAX);
  } else if (base == "bigint") {
    *type = is_unsigned ? Integer(0, UINT64_MAX) : Integer(INT64_MIN, INT64_MAX);
  } else if (base == "year") {
    *type = Integer(0, 2155);
  } else if (base == "bit") {
    // BIT(n) holds an n-bit unsigned number: the integer clients see.
    const size_t open = t.find('(');
    const int bits = open == std::string::npos ? 1 : std::atoi(t.c_str() + open + 1);
    *type = Integer(0, bits >= 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1);
  } else if (base == "float" || base == "double" || base == "real") {
    *type = Kind(ValueKind::kReal);
  } else if (base == "decimal" || base == "numeric" || base == "dec" || base == "fixed") {
    *type = Kind(ValueKind::kDecimal);
  } else if (base == "char" || base == "varchar" || base == "tinytext" || base == "text" || base == "mediumtext" ||
             base == "longtext" || base == "enum" || base == "set" || base == "inet4" || base == "inet6") {
    *type = Kind(ValueKind::kText);
  } else if (base == "binary" || base == "varbinary" || base == "tinyblob" || base == "blob" || base == "mediumblob" ||
             base == "longblob") {
    *type = Kind(ValueKind::kBlob);
  } else if (base == "uuid") {
    *type = Kind(ValueKind::kUuid);
  } else if (base == "date") {
    *type = Kind(ValueKind::kDate);
  } else if (base == "datetime") {
    *type = Kind(ValueKind::kTimestamp);
  } else if (base == "timestamp") {
    *type = Kind(ValueKind::kTimestampTz);
  } else if (base == "time") {
    *type = Kind(ValueKind::kServerText);
  } else if (base == "json") {
    *type = Kind(ValueKind::kJson);
  } else {
    return Status::InvalidArgument("type " + column.type + " has no SQLite mapping that round-trips");
  }
  type->server_type = column.type;
  return Status::OK();
}

bool IsMysqlBit(SourceType source, const ColumnType& type) {
  return source == SourceType::kMysql && Lower(type.server_type).starts_with("bit");
}

// The shortest big-endian bytes of `n` (one zero byte for 0).
std::string BigEndianBytes(uint64_t n) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    n >>= 8;
  } while (n != 0);
  return bytes;
}

std::string Describe(const Value& value) {
  std::string sql = value.ToSql();
  if (sql.size() > 60) sql = sql.substr(0, 57) + "...";
  static const char* const kClass[] = {"", "integer", "real", "text", "blob", "null"};
  return sql + " (" + kClass[static_cast<int>(value.storage_class())] + ")";
}

Status Refuse(std::string_view what, const Value& value, const ColumnType& type, std::string_view why = "") {
  std::string message = std::string(what) + ": cannot store " + Describe(value) + " in a " + type.server_type + " column";
  if (!why.empty()) message += ": " + std::string(why);
  return Status::InvalidArgument(message);
}

std::string FormatDouble(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

// A timestamp as clients write it: YYYY-MM-DD[T ]HH:MM[:SS[.fraction]] and
// an optional offset (Z, +HH, +HH:MM, +HHMM).
struct ParsedTimestamp {
  int64_t days = 0;  // since 1970-01-01
  int64_t seconds = 0;  // of the day
  std::string fraction;  // digits after the point, as written
  bool has_offset = false;
  int offset_minutes = 0;
};

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

bool ParseTimestamp(const std::string& text, ParsedTimestamp* out) {
  static const std::regex kPattern(
      R"((\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)");
  std::smatch m;
  if (!std::regex_match(text, m, kPattern)) return false;
  const int64_t month = std::stoi(m[2]), day = std::stoi(m[3]), hour = std::stoi(m[4]), minute = std::stoi(m[5]);
  const int64_t second = m[6].matched ? std::stoi(m[6]) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return false;
  out->days = DaysFromCivil(std::stoi(m[1]), month, day);
  out->seconds = hour * 3600 + minute * 60 + second;
  out->fraction = m[7].matched ? m[7].str() : "";
  out->has_offset = m[8].matched;
  if (out->has_offset && m[8].str() != "Z") {
    const std::string offset = m[8].str();
    const int sign = offset[0] == '-' ? -1 : 1;
    const int hours = std::stoi(offset.substr(1, 2));
    const std::string rest = offset.size() > 3 ? offset.substr(offset.size() - 2) : "0";
    out->offset_minutes = sign * (hours * 60 + std::stoi(rest));
  }
  return true;
}

// "YYYY-MM-DD HH:MM:SS[.fraction]" in UTC.
std::string FormatUtc(const ParsedTimestamp& t) {
  int64_t total = t.days * 86400 + t.seconds - static_cast<int64_t>(t.offset_minutes) * 60;
  int64_t days = total >= 0 ? total / 86400 : (total - 86399) / 86400;
  const int64_t of_day = total - days * 86400;
  int64_t y = 0, m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(of_day / 3600),
                static_cast<long long>(of_day / 60 % 60), static_cast<long long>(of_day % 60));
  std::string out = buffer;
  if (!t.fraction.empty()) out += "." + t.fraction;
  return out;
}

bool IsDecimal(const std::string& text) {
  static const std::regex kPattern(R"([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)");
  return std::regex_match(text, kPattern);
}

bool IsUuid(const std::string& text) {
  static const std::regex kPattern(R"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})");
  return std::regex_match(text, kPattern);
}

bool IsDate(const std::string& text) {
  static const std::regex kPattern(R"(\d{4}-\d{2}-\d{2})");
  return std::regex_match(text, kPattern);
}

// An integer a client sent, possibly as a JavaScript number (a float with
// an integral value).
bool AsInteger(const Value& value, int64_t* out) {
  if (value.storage_class() == StorageClass::kInteger) {
    *out = value.integer();
    return true;
  }
  if (value.storage_class() == StorageClass::kFloat) {
    const double d = value.real();
    if (std::trunc(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool InRange(const ColumnType& type, int64_t n) {
  return n >= type.min && (n < 0 || static_cast<uint64_t>(n) <= type.max);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view ColumnType::SqliteType() const {
  switch (kind) {
    case ValueKind::kInteger:
    case ValueKind::kBoolean: return "INTEGER";
    case ValueKind::kReal: return "REAL";
    case ValueKind::kBlob: return "BLOB";
    default: return "TEXT";
  }
}

Status ClassifyColumn(SourceType source, const ServerColumn& column, ColumnType* type) {
  return source == SourceType::kPostgres ? ClassifyPostgres(column, type) : ClassifyMysql(column, type);
}

Status FromServerText(const ColumnType& type, std::string_view text, Value* value) {
  const auto bad = [&] {
    return Status::Corruption("server value \"" + std::string(text.substr(0, 60)) + "\" is not a valid " + type.server_type);
  };
  switch (type.kind) {
    case ValueKind::kInteger: {
      if (!text.empty() && text[0] == '-') {
        int64_t n = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (error != std::errc() || end != text.data() + text.size()) return bad();
        *value = Value::Integer(n);
        return Status::OK();
      }
      uint64_t n = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (error != std::errc() || end != text.data() + text.size()) return bad();
      if (n > static_cast<uint64_t>(INT64_MAX)) {
        return Status::Corruption("server value " + std::string(text) + " does not fit a 64-bit SQLite integer");
      }
      *value = Value::Integer(static_cast<int64_t>(n));
      return Status::OK();
    }
    case ValueKind::kBoolean:
      if (text == "t" || text == "true" || text == "1") {
        *value = Value::Integer(1);
      } else if (text == "f" || text == "false" || text == "0") {
        *value = Value::Integer(0);
      } else {
        return bad();
      }
      return Status::OK();
    case ValueKind::kReal: {
      const std::string copy(text);
      char* end = nullptr;
      const double d = std::strtod(copy.c_str(), &end);
      if (copy.empty() || *end != '\0' || std::isnan(d)) return bad();
      *value = Value::Float(d);
      return Status::OK();
    }
    case ValueKind::kBlob: {
      if (!StartsWith(text, "\\x")) {  // MySQL: the bytes themselves
        *value = Value::BlobValue(Blob(text.begin(), text.end()));
        return Status::OK();
      }
      if (text.size() % 2 != 0) return bad();
      Blob bytes;
      for (size_t i = 2; i < text.size(); i += 2) {
        const int high = HexValue(text[i]);
        const int low = HexValue(text[i + 1]);
        if (high < 0 || low < 0) return bad();
        bytes.push_back(static_cast<uint8_t>(high * 16 + low));
      }
      *value = Value::BlobValue(std::move(bytes));
      return Status::OK();
    }
    case ValueKind::kUuid:
      *value = Value::Text(Lower(text));
      return Status::OK();
    case ValueKind::kTimestamp: {
      std::string out(text);
      if (out.size() > 10 && out[10] == ' ') out[10] = 'T';
      *value = Value::Text(std::move(out));
      return Status::OK();
    }
    case ValueKind::kTimestampTz: {
      std::string out(text);
      if (out.size() > 10 && out[10] == ' ') out[10] = 'T';
      for (const std::string_view utc : {"+00:00", "+00", "Z"}) {
        if (out.ends_with(utc)) {
          out.resize(out.size() - utc.size());
          break;
        }
      }
      *value = Value::Text(out + "Z");
      return Status::OK();
    }
    case ValueKind::kDecimal:
    case ValueKind::kText:
    case ValueKind::kDate:
    case ValueKind::kJson:
    case ValueKind::kServerText:
      *value = Value::Text(std::string(text));
      return Status::OK();
  }
  return bad();
}

Status ToServerParameter(SourceType source, const ColumnType& type, const Value& value, std::string_view what,
                         ServerParameter* parameter) {
  *parameter = ServerParameter{};
  if (value.is_null()) {
    parameter->is_null = true;
    return Status::OK();
  }
  const StorageClass sc = value.storage_class();
  int64_t n = 0;
  switch (type.kind) {
    case ValueKind::kInteger:
      if (!AsInteger(value, &n)) return Refuse(what, value, type);
      if (!InRange(type, n)) return Refuse(what, value, type, "out of range");
      // MySQL stores a string's bytes in a BIT column, not the number it spells.
      parameter->text = IsMysqlBit(source, type) ? BigEndianBytes(static_cast<uint64_t>(n)) : std::to_string(n);
      return Status::OK();
    case ValueKind::kBoolean:
      if (!AsInteger(value, &n) || (n != 0 && n != 1)) return Refuse(what, value, type, "expected 0 or 1");
      parameter->text = source == SourceType::kPostgres ? (n ? "true" : "false") : (n ? "1" : "0");
      return Status::OK();
    case ValueKind::kReal:
      if (sc == StorageClass::kInteger) {
        parameter->text = std::to_string(value.integer());
      } else if (sc == StorageClass::kFloat && std::isfinite(value.real())) {
        parameter->text = FormatDouble(value.real());
      } else if (sc == StorageClass::kFloat && source == SourceType::kPostgres) {
        parameter->text = value.real() > 0 ? "Infinity" : "-Infinity";
      } else {
        return Refuse(what, value, type);
      }
      return Status::OK();
    case ValueKind::kDecimal:
      if (sc == StorageClass::kInteger) {
        parameter->text = std::to_string(value.integer());
      } else if (sc == StorageClass::kFloat && std::isfinite(value.real())) {
        parameter->text = FormatDouble(value.real());
      } else if (sc == StorageClass::kText && IsDecimal(value.text())) {
        parameter->text = value.text();
      } else {
        return Refuse(what, value, type, "expected a number");
      }
      return Status::OK();
    case ValueKind::kText:
    case ValueKind::kServerText:
      if (sc == StorageClass::kText) {
        parameter->text = value.text();
      } else if (sc == StorageClass::kInteger) {
        parameter->text = std::to_string(value.integer());
      } else if (sc == StorageClass::kFloat) {
        parameter->text = FormatDouble(value.real());
      } else {
        return Refuse(what, value, type);
      }
      return Status::OK();
    case ValueKind::kJson:
      if (sc != StorageClass::kText) return Refuse(what, value, type, "expected JSON text");
      parameter->text = value.text();
      return Status::OK();
    case ValueKind::kBlob: {
      if (sc != StorageClass::kBlob) return Refuse(what, value, type);
      if (source == SourceType::kMysql) {
        parameter->text.assign(value.blob().begin(), value.blob().end());
        return Status::OK();
      }
      static constexpr char kHex[] = "0123456789abcdef";
      parameter->text = "\\x";
      for (const uint8_t b : value.blob()) {
        parameter->text += kHex[b >> 4];
        parameter->text += kHex[b & 15];
      }
      return Status::OK();
    }
    case ValueKind::kUuid:
      if (sc != StorageClass::kText || !IsUuid(value.text())) return Refuse(what, value, type, "expected a UUID");
      parameter->text = Lower(value.text());
      return Status::OK();
    case ValueKind::kDate:
      if (sc != StorageClass::kText || !IsDate(value.text())) return Refuse(what, value, type, "expected YYYY-MM-DD");
      parameter->text = value.text();
      return Status::OK();
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz: {
      ParsedTimestamp parsed;
      if (sc != StorageClass::kText || !ParseTimestamp(value.text(), &parsed)) {
        return Refuse(what, value, type, "expected YYYY-MM-DDTHH:MM:SS[.ffffff]");
      }
      if (type.kind == ValueKind::kTimestamp && parsed.has_offset) {
        return Refuse(what, value, type, "the column has no time zone; send the time without an offset");
      }
      parameter->text = FormatUtc(parsed);
      if (type.kind == ValueKind::kTimestampTz && source == SourceType::kPostgres) parameter->text += "+00";
      return Status::OK();
    }
  }
  return Refuse(what, value, type);
}

}  // namespace crbridge
