#include "crbridge/mappings/type_mapping.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <optional>
#include <regex>

#include <nlohmann/json.hpp>

#include "crbridge/sqlite/text_encoding.h"
#include "date_time_text.h"

namespace crbridge {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

ColumnType Integer(int64_t min, uint64_t max) { return ColumnType{ValueKind::kInteger, min, max, "", 0, 0, 0}; }
ColumnType Kind(ValueKind kind) { return ColumnType{kind, INT64_MIN, INT64_MAX, "", 0, 0, 0}; }

// The numbers in a type's parentheses: "numeric(10,2)" -> {10, 2}; none
// without them.
std::vector<uint64_t> TypeModifiers(const std::string& type) {
  std::vector<uint64_t> numbers;
  const size_t open = type.find('(');
  if (open == std::string::npos) return numbers;
  for (size_t at = open + 1; at < type.size() && std::isdigit(static_cast<unsigned char>(type[at]));) {
    uint64_t n = 0;
    at = static_cast<size_t>(std::from_chars(type.data() + at, type.data() + type.size(), n).ptr - type.data());
    numbers.push_back(n);
    if (at < type.size() && type[at] == ',') ++at;
  }
  return numbers;
}

// A text or blob column of at most the first modifier's characters (bytes).
ColumnType Bounded(ValueKind kind, const std::string& type) {
  ColumnType out = Kind(kind);
  const std::vector<uint64_t> modifiers = TypeModifiers(type);
  if (!modifiers.empty()) out.max_length = modifiers[0];
  return out;
}

// numeric(p[,s]); MySQL's DECIMAL without them is DECIMAL(10,0).
ColumnType Decimal(SourceType source, const std::string& type) {
  ColumnType out = Kind(ValueKind::kDecimal);
  const std::vector<uint64_t> modifiers = TypeModifiers(type);
  if (!modifiers.empty() || source == SourceType::kMysql) {
    out.precision = modifiers.empty() ? 10 : static_cast<int>(modifiers[0]);
    out.scale = modifiers.size() > 1 ? static_cast<int>(modifiers[1]) : 0;
  }
  return out;
}

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
    *type = Decimal(SourceType::kPostgres, t);
  } else if (StartsWith(t, "character")) {
    *type = Bounded(ValueKind::kText, t);
  } else if (t == "text" || t == "citext" || t == "name" || t == "\"char\"") {
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
    *type = Decimal(SourceType::kMysql, t);
  } else if (base == "char" || base == "varchar") {
    *type = Bounded(ValueKind::kText, t);
  } else if (base == "tinytext" || base == "text" || base == "mediumtext" || base == "longtext" || base == "enum" ||
             base == "set" || base == "inet4" || base == "inet6") {
    *type = Kind(ValueKind::kText);
  } else if (base == "binary" || base == "varbinary") {
    *type = Bounded(ValueKind::kBlob, t);
  } else if (base == "tinyblob" || base == "blob" || base == "mediumblob" || base == "longblob") {
    *type = Kind(ValueKind::kBlob);
    type->max_length = base == "tinyblob" ? 255 : base == "blob" ? 65535 : base == "mediumblob" ? 16777215 : 0;
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
  if (sql.size() > 60) {
    size_t cut = 57;
    while (cut > 0 && (static_cast<uint8_t>(sql[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
    sql = sql.substr(0, cut) + "...";
  }
  static const char* const kClass[] = {"", "integer", "real", "text", "blob", "null"};
  return EscapeUnprintable(sql) + " (" + kClass[static_cast<int>(value.storage_class())] + ")";
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

// What a server says for a float that is not a finite number.
std::string NonFiniteText(double v) { return std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"; }

bool IsNonFiniteText(const std::string& text) { return text == "NaN" || text == "Infinity" || text == "-Infinity"; }

bool IsDecimal(const std::string& text) {
  static const std::regex kPattern(R"([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)");
  return std::regex_match(text, kPattern);
}

// Whether the decimal `text` (IsDecimal), rounded to `scale` places, has at
// most `precision - scale` digits before the point, as numeric(precision,
// scale) requires.
bool FitsDecimal(const std::string& text, int precision, int scale) {
  // The value is 0.<digits> x 10^point, <digits> without leading zeros.
  std::string digits;
  int64_t point = 0;
  bool after_point = false;
  size_t i = text[0] == '+' || text[0] == '-' ? 1 : 0;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      after_point = true;
    } else if (digits.empty() && text[i] == '0') {
      if (after_point) --point;
    } else {
      digits += text[i];
      if (!after_point) ++point;
    }
  }
  if (digits.empty()) return true;  // zero
  if (i < text.size()) {
    int64_t exponent = 0;
    const char* first = text.data() + i + 1 + (text[i + 1] == '+');
    if (std::from_chars(first, text.data() + text.size(), exponent).ec != std::errc()) return text[i + 1] == '-';
    if (exponent > 1000000 || exponent < -1000000) return exponent < 0;
    point += exponent;
  }
  const int64_t kept = point + scale;  // digits left after rounding
  if (kept < 0) return true;           // rounds to zero
  const bool rounds_up = static_cast<size_t>(kept) < digits.size() && digits[static_cast<size_t>(kept)] >= '5';
  if (rounds_up && std::all_of(digits.begin(), digits.begin() + kept, [](char c) { return c == '9'; })) ++point;
  return point <= precision - scale;
}

// Text that travels: valid UTF-8 without NUL bytes. Postgres's text types
// cannot hold NUL; MariaDB's can, but the published cr-sqlite client cuts
// text at a NUL when it reads changes, so such text never round-trips.
bool TravelsAsText(std::string_view text) { return IsUtf8(text) && text.find('\0') == std::string_view::npos; }

// Characters of UTF-8 text, not counting trailing spaces past `limit`
// (servers drop them rather than refuse the text).
uint64_t CharactersBeyondSpaces(const std::string& text, uint64_t limit) {
  uint64_t characters = 0, kept = 0;
  for (const char c : text) {
    if ((static_cast<uint8_t>(c) & 0xc0) == 0x80) continue;
    ++characters;
    if (c != ' ' || characters <= limit) kept = characters;
  }
  return kept;
}

// A Postgres `time [without time zone]` or a MySQL TIME column.
bool IsTimeOfDay(SourceType source, const ColumnType& type) {
  const std::string t = Lower(type.server_type);
  if (source == SourceType::kMysql) return t == "time" || t.starts_with("time(");
  return t.starts_with("time") && !t.starts_with("timestamp") && !t.ends_with("with time zone");
}

TimestampKind TimestampKindOf(SourceType source, const ColumnType& type) {
  if (type.kind == ValueKind::kTimestamp) return TimestampKind::kWithoutZone;
  return source == SourceType::kPostgres ? TimestampKind::kWithZone : TimestampKind::kMysqlUtc;
}

bool IsUuid(const std::string& text) {
  static const std::regex kPattern(R"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})");
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
    return Status::Corruption("server value \"" + EscapeUnprintable(text.substr(0, 60)) + "\" is not a valid " +
                              type.server_type);
  };
  const bool is_text = type.kind != ValueKind::kInteger && type.kind != ValueKind::kBoolean &&
                       type.kind != ValueKind::kReal && type.kind != ValueKind::kBlob;
  if (is_text && !TravelsAsText(text)) {
    return Status::Corruption("server text \"" + EscapeUnprintable(text.substr(0, 60)) + "\" of a " + type.server_type +
                              " is not valid UTF-8 without NUL bytes");
  }
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
      // SQLite stores a REAL NaN as NULL: NaN travels as text.
      if (text == "NaN") {
        *value = Value::Text("NaN");
        return Status::OK();
      }
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
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      *value = Value::Text(CanonicalTimestamp(text, type.kind == ValueKind::kTimestampTz));
      return Status::OK();
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
  if (sc == StorageClass::kText) {
    if (!TravelsAsText(value.text())) return Refuse(what, value, type, "text must be valid UTF-8 without NUL bytes");
  }
  const bool postgres = source == SourceType::kPostgres;
  // A NaN or an infinity, as a float or as the text a server prints.
  const bool non_finite = (sc == StorageClass::kFloat && !std::isfinite(value.real())) ||
                          (sc == StorageClass::kText && IsNonFiniteText(value.text()));
  const std::string non_finite_text = sc == StorageClass::kFloat ? NonFiniteText(value.real()) : non_finite ? value.text() : "";
  std::string why;
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
      parameter->text = postgres ? (n ? "true" : "false") : (n ? "1" : "0");
      return Status::OK();
    case ValueKind::kReal:
      if (non_finite && !postgres) {
        return Refuse(what, value, type, "MySQL's and MariaDB's FLOAT and DOUBLE cannot hold NaN or infinities");
      }
      if (non_finite) {
        parameter->text = non_finite_text;
      } else if (sc == StorageClass::kInteger) {
        parameter->text = std::to_string(value.integer());
      } else if (sc == StorageClass::kFloat) {
        parameter->text = FormatDouble(value.real());
      } else {
        return Refuse(what, value, type, "expected a number, or 'NaN', 'Infinity' or '-Infinity' on Postgres");
      }
      return Status::OK();
    case ValueKind::kDecimal:
      if (non_finite) {
        // Postgres's numeric has NaN, and infinities when unconstrained.
        if (!postgres || (non_finite_text != "NaN" && type.precision > 0)) {
          return Refuse(what, value, type, "the column cannot hold NaN or infinities");
        }
        parameter->text = non_finite_text;
        return Status::OK();
      }
      if (sc == StorageClass::kInteger) {
        parameter->text = std::to_string(value.integer());
      } else if (sc == StorageClass::kFloat) {
        parameter->text = FormatDouble(value.real());
      } else if (sc == StorageClass::kText && IsDecimal(value.text())) {
        parameter->text = value.text();
      } else {
        return Refuse(what, value, type, "expected a number");
      }
      if (type.precision > 0 && !FitsDecimal(parameter->text, type.precision, type.scale)) {
        return Refuse(what, value, type,
                      "more than " + std::to_string(type.precision - type.scale) + " digits before the point");
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
      if (type.max_length > 0 && CharactersBeyondSpaces(parameter->text, type.max_length) > type.max_length) {
        return Refuse(what, value, type, "longer than " + std::to_string(type.max_length) + " characters");
      }
      if (IsTimeOfDay(source, type) && !ClientTime(source, parameter->text, &why)) return Refuse(what, value, type, why);
      return Status::OK();
    case ValueKind::kJson:
      if (sc != StorageClass::kText) return Refuse(what, value, type, "expected JSON text");
      if (!nlohmann::json::accept(value.text())) return Refuse(what, value, type, "not valid JSON");
      parameter->text = value.text();
      return Status::OK();
    case ValueKind::kBlob: {
      if (sc != StorageClass::kBlob) return Refuse(what, value, type);
      if (type.max_length > 0 && value.blob().size() > type.max_length) {
        return Refuse(what, value, type, "longer than " + std::to_string(type.max_length) + " bytes");
      }
      if (!postgres) {
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
      if (sc != StorageClass::kText) return Refuse(what, value, type, "expected YYYY-MM-DD");
      if (!ClientDate(source, value.text(), &parameter->text, &why)) return Refuse(what, value, type, why);
      return Status::OK();
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz:
      if (sc != StorageClass::kText) return Refuse(what, value, type, "expected YYYY-MM-DDTHH:MM:SS[.ffffff]");
      if (!ClientTimestamp(source, TimestampKindOf(source, type), value.text(), &parameter->text, &why)) {
        return Refuse(what, value, type, why);
      }
      return Status::OK();
  }
  return Refuse(what, value, type);
}

}  // namespace crbridge
