#include "binlog_json.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <span>

#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/sqlite/text_encoding.h"

namespace crbridge::mysql {
namespace {

// json_binary.h's type bytes.
enum class JsonType : uint8_t {
  kSmallObject = 0x00,
  kLargeObject = 0x01,
  kSmallArray = 0x02,
  kLargeArray = 0x03,
  kLiteral = 0x04,
  kInt16 = 0x05,
  kUint16 = 0x06,
  kInt32 = 0x07,
  kUint32 = 0x08,
  kInt64 = 0x09,
  kUint64 = 0x0a,
  kDouble = 0x0b,
  kString = 0x0c,
  kOpaque = 0x0f,
};

// A kLiteral's byte.
constexpr uint8_t kJsonNull = 0x00;
constexpr uint8_t kJsonTrue = 0x01;
constexpr uint8_t kJsonFalse = 0x02;

// JSON_DOCUMENT_MAX_DEPTH: MySQL neither stores nor prints deeper values.
constexpr int kMaxDepth = 100;

// What MySQL writes prints in at most 6 characters per byte (a control
// character in a string, "\u001f"); more means the value's entries share
// their parts, which could otherwise print exponentially large text.
constexpr size_t kMaxTextPerByte = 8;
constexpr size_t kMaxTextSlack = 64;

// MySQL's base64_encode starts a new line after every 76 characters.
constexpr size_t kBase64LineLength = 76;

// Json_datetime's packed MYSQL_TIME: a signed integer whose low 24 bits are
// microseconds and whose upper bits hold the date (year * 13 + month, day)
// above 17 bits of hour, minute and second; a TIME's hour has 10 bits.
constexpr size_t kPackedTimeSize = 8;
constexpr int64_t kPackedFractionUnit = int64_t{1} << 24;

Status ReadAt(std::string_view data, size_t offset, size_t width, const char* field, uint64_t* value) {
  BinlogReader reader(data.substr(std::min(offset, data.size())), "ROWS");
  return reader.LittleEndian(field, width, value);
}

// A string's or opaque value's length: 7 bits per byte, least significant
// first, the top bit set on all but the last of at most 5 bytes.
Status ReadVariableLength(BinlogReader& reader, const char* field, size_t* length) {
  uint64_t value = 0;
  for (unsigned i = 0; i < 5; ++i) {
    uint8_t byte = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U8(field, &byte));
    value |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      if (value > UINT32_MAX) break;
      *length = static_cast<size_t>(value);
      return Status::OK();
    }
  }
  return reader.Malformed(std::string("invalid length of a ") + field);
}

// Small containers inline the 16-bit scalars in their value entries, large
// ones the 32-bit ones too.
bool IsInlined(uint8_t type, bool is_large) {
  switch (static_cast<JsonType>(type)) {
    case JsonType::kLiteral:
    case JsonType::kInt16:
    case JsonType::kUint16:
      return true;
    case JsonType::kInt32:
    case JsonType::kUint32:
      return is_large;
    default:
      return false;
  }
}

// my_gcvt(value, MY_GCVT_ARG_DOUBLE, MY_GCVT_MAX_FIELD_WIDTH) then the ".0"
// Json_wrapper adds to what would read as an integer. my_gcvt takes the
// fewest digits that read back the same and, in its field of 34 characters,
// writes them plainly when the decimal point falls within 14 places before
// them ("0.00001") and 15 after their start (below 10^15), or inside them;
// otherwise as "1e300", "1.5e-20".
std::string DoubleText(double value) {
  char scientific[32];
  const std::to_chars_result written = std::to_chars(scientific, scientific + sizeof scientific, std::fabs(value),
                                                     std::chars_format::scientific);
  const std::string_view form(scientific, written.ptr);  // "d.ddde+XX"
  const size_t e = form.find('e');
  std::string digits(1, form[0]);
  if (e > 1) digits.append(form.substr(2, e - 2));
  const size_t exponent_start = form[e + 1] == '+' ? e + 2 : e + 1;
  int exponent = 0;
  std::from_chars(form.data() + exponent_start, form.data() + form.size(), exponent);
  const int decimal_point = exponent + 1;  // digits before the point
  const int digit_count = static_cast<int>(digits.size());

  std::string text = std::signbit(value) ? "-" : "";
  if (decimal_point >= -14 && (decimal_point <= 15 || digit_count > decimal_point)) {
    if (decimal_point <= 0) {
      text += "0." + std::string(static_cast<size_t>(-decimal_point), '0') + digits;
    } else if (decimal_point < digit_count) {
      text += digits.substr(0, static_cast<size_t>(decimal_point)) + "." +
              digits.substr(static_cast<size_t>(decimal_point));
    } else {
      text += digits + std::string(static_cast<size_t>(decimal_point - digit_count), '0') + ".0";
    }
    return text;
  }
  text += digits.substr(0, 1);
  if (digit_count > 1) text += "." + digits.substr(1);
  return text + "e" + std::to_string(decimal_point - 1);
}

// Writes the text of one value and what it contains.
class JsonTextWriter {
 public:
  JsonTextWriter(size_t binary_size, std::string* text)
      : text_limit_(binary_size * kMaxTextPerByte + kMaxTextSlack), text_(text) {}

  // A value of `type` starting at `data`, which runs to the end of the
  // container holding it; `depth` containers enclose it.
  Status Value(uint8_t type, std::string_view data, int depth) {
    switch (static_cast<JsonType>(type)) {
      case JsonType::kSmallObject:
        return Container(true, false, data, depth + 1);
      case JsonType::kLargeObject:
        return Container(true, true, data, depth + 1);
      case JsonType::kSmallArray:
        return Container(false, false, data, depth + 1);
      case JsonType::kLargeArray:
        return Container(false, true, data, depth + 1);
      default:
        return Scalar(type, data);
    }
  }

 private:
  // An element count and a size in bytes, the key entries of an object
  // (offset, u16 length), the value entries (a type byte and an offset or
  // an inlined scalar), then the keys and the values. Offsets and sizes
  // take 2 bytes in a small container and 4 in a large one and count from
  // the element count.
  Status Container(bool is_object, bool is_large, std::string_view data, int depth) {
    BinlogReader reader(data, "ROWS");
    const char* name = is_object ? "JSON object" : "JSON array";
    if (depth > kMaxDepth) return reader.Malformed(std::string(name) + " nested deeper than MySQL allows");
    const size_t offset_size = is_large ? 4 : 2;
    uint64_t count = 0;
    uint64_t size = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian(name, offset_size, &count));
    CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian(name, offset_size, &size));
    if (size > data.size()) return reader.Truncated(name);
    data = data.substr(0, static_cast<size_t>(size));
    const size_t key_entry_size = offset_size + 2;
    const size_t value_entry_size = 1 + offset_size;
    const uint64_t first_value_entry = 2 * offset_size + (is_object ? count * key_entry_size : 0);
    if (first_value_entry + count * value_entry_size > size) {
      return reader.Malformed(std::string(name) + " with more entries than bytes");
    }

    text_->push_back(is_object ? '{' : '[');
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) text_->append(", ");
      if (is_object) {
        const size_t key_entry = 2 * offset_size + i * key_entry_size;
        uint64_t key_offset = 0;
        uint64_t key_length = 0;
        CRBRIDGE_RETURN_IF_ERROR(ReadAt(data, key_entry, offset_size, "JSON key entry", &key_offset));
        CRBRIDGE_RETURN_IF_ERROR(ReadAt(data, key_entry + offset_size, 2, "JSON key entry", &key_length));
        if (key_offset > size || size - key_offset < key_length) return reader.Malformed("JSON key outside its object");
        Quoted(data.substr(static_cast<size_t>(key_offset), static_cast<size_t>(key_length)));
        text_->append(": ");
      }
      const size_t value_entry = static_cast<size_t>(first_value_entry) + i * value_entry_size;
      const auto type = static_cast<uint8_t>(data[value_entry]);
      if (IsInlined(type, is_large)) {
        CRBRIDGE_RETURN_IF_ERROR(Scalar(type, data.substr(value_entry + 1, offset_size)));
      } else {
        uint64_t value_offset = 0;
        CRBRIDGE_RETURN_IF_ERROR(ReadAt(data, value_entry + 1, offset_size, "JSON value entry", &value_offset));
        // A value lies after its entry, so that nested values move forward.
        if (value_offset > size || value_offset < value_entry + value_entry_size) {
          return reader.Malformed("JSON value outside its " + std::string(is_object ? "object" : "array"));
        }
        CRBRIDGE_RETURN_IF_ERROR(Value(type, data.substr(static_cast<size_t>(value_offset)), depth));
      }
      if (text_->size() > text_limit_) return reader.Malformed("JSON value printing far larger than it is stored");
    }
    text_->push_back(is_object ? '}' : ']');
    return Status::OK();
  }

  Status Scalar(uint8_t type, std::string_view data) {
    BinlogReader reader(data, "ROWS");
    uint64_t raw = 0;
    size_t length = 0;
    std::string_view bytes;
    switch (static_cast<JsonType>(type)) {
      case JsonType::kLiteral:
        CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("JSON literal", 1, &raw));
        if (raw == kJsonNull) {
          text_->append("null");
        } else if (raw == kJsonTrue) {
          text_->append("true");
        } else if (raw == kJsonFalse) {
          text_->append("false");
        } else {
          return reader.Malformed("JSON literal " + std::to_string(raw));
        }
        return Status::OK();
      case JsonType::kInt16:
        return Integer(reader, "JSON int16", 2, true);
      case JsonType::kUint16:
        return Integer(reader, "JSON uint16", 2, false);
      case JsonType::kInt32:
        return Integer(reader, "JSON int32", 4, true);
      case JsonType::kUint32:
        return Integer(reader, "JSON uint32", 4, false);
      case JsonType::kInt64:
        return Integer(reader, "JSON int64", 8, true);
      case JsonType::kUint64:
        return Integer(reader, "JSON uint64", 8, false);
      case JsonType::kDouble: {
        CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian("JSON double", 8, &raw));
        const double value = std::bit_cast<double>(raw);
        if (!std::isfinite(value)) return reader.Malformed("JSON double that is not a number");
        text_->append(DoubleText(value));
        return Status::OK();
      }
      case JsonType::kString:
        CRBRIDGE_RETURN_IF_ERROR(ReadVariableLength(reader, "JSON string", &length));
        CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("JSON string", length, &bytes));
        Quoted(bytes);
        return Status::OK();
      case JsonType::kOpaque: {
        uint8_t field_type = 0;
        CRBRIDGE_RETURN_IF_ERROR(reader.U8("JSON opaque value", &field_type));
        CRBRIDGE_RETURN_IF_ERROR(ReadVariableLength(reader, "JSON opaque value", &length));
        CRBRIDGE_RETURN_IF_ERROR(reader.Bytes("JSON opaque value", length, &bytes));
        return Opaque(static_cast<MysqlType>(field_type), bytes);
      }
      default:
        return reader.Malformed("JSON value of type " + std::to_string(type));
    }
  }

  Status Integer(BinlogReader& reader, const char* field, size_t width, bool is_signed) {
    uint64_t raw = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.LittleEndian(field, width, &raw));
    if (is_signed) {
      const auto shift = static_cast<unsigned>(64 - width * 8);
      text_->append(std::to_string(static_cast<int64_t>(raw << shift) >> shift));  // sign-extends
    } else {
      text_->append(std::to_string(raw));
    }
    return Status::OK();
  }

  // A value of a column type JSON has no type of its own for, tagged with
  // that type. Json_wrapper prints a VAR_STRING as a string.
  Status Opaque(MysqlType field_type, std::string_view bytes) {
    switch (field_type) {
      case MysqlType::kNewDecimal:
        return Decimal(bytes);
      case MysqlType::kDate:
      case MysqlType::kTime:
      case MysqlType::kDateTime:
      case MysqlType::kTimestamp:
        return Temporal(field_type, bytes);
      case MysqlType::kVarString:
        Quoted(bytes);
        return Status::OK();
      default:
        break;
    }
    const std::string base64 =
        EncodeBase64(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), true);
    std::string tagged = "base64:type" + std::to_string(static_cast<unsigned>(field_type)) + ":";
    for (size_t line = 0; line < base64.size(); line += kBase64LineLength) {
      if (line > 0) tagged += '\n';
      tagged.append(base64, line, kBase64LineLength);
    }
    Quoted(tagged);
    return Status::OK();
  }

  // A precision byte, a scale byte, then the packed digits.
  Status Decimal(std::string_view bytes) {
    BinlogReader reader(bytes, "ROWS");
    uint8_t precision = 0;
    uint8_t scale = 0;
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("JSON DECIMAL", &precision));
    CRBRIDGE_RETURN_IF_ERROR(reader.U8("JSON DECIMAL", &scale));
    std::string digits;
    CRBRIDGE_RETURN_IF_ERROR(DecodePackedDecimal(reader, precision, scale, &digits));
    if (reader.remaining() != 0) return reader.Malformed("JSON DECIMAL longer than its precision");
    text_->append(digits);
    return Status::OK();
  }

  // my_TIME_to_str with 6 fractional digits, quoted.
  Status Temporal(MysqlType field_type, std::string_view bytes) {
    BinlogReader reader(bytes, "ROWS");
    uint64_t raw = 0;
    if (bytes.size() != kPackedTimeSize) {
      return reader.Malformed("JSON date or time of " + std::to_string(bytes.size()) + " bytes");
    }
    CRBRIDGE_RETURN_IF_ERROR(reader.U64("JSON date or time", &raw));
    const auto packed = static_cast<int64_t>(raw);
    const bool negative = packed < 0;
    const uint64_t magnitude = negative ? 0 - raw : raw;
    const auto micros = static_cast<unsigned>(magnitude % kPackedFractionUnit);
    const uint64_t whole = magnitude / kPackedFractionUnit;
    if (micros >= 1'000'000) return reader.Malformed("JSON date or time with a fraction out of range");
    char formatted[64];
    if (field_type == MysqlType::kTime) {
      std::snprintf(formatted, sizeof formatted, "\"%s%02u:%02u:%02u.%06u\"", negative ? "-" : "",
                    static_cast<unsigned>(whole >> 12 & 1023), static_cast<unsigned>(whole >> 6 & 63),
                    static_cast<unsigned>(whole & 63), micros);
      text_->append(formatted);
      return Status::OK();
    }
    if (negative) return reader.Malformed("negative JSON date");
    const uint64_t date = whole >> 17;
    const uint64_t year_month = date >> 5;
    const auto year = static_cast<unsigned>(year_month / 13);
    const auto month = static_cast<unsigned>(year_month % 13);
    const auto day = static_cast<unsigned>(date & 31);
    if (field_type == MysqlType::kDate) {
      std::snprintf(formatted, sizeof formatted, "\"%04u-%02u-%02u\"", year, month, day);
    } else {
      std::snprintf(formatted, sizeof formatted, "\"%04u-%02u-%02u %02u:%02u:%02u.%06u\"", year, month, day,
                    static_cast<unsigned>(whole >> 12 & 31), static_cast<unsigned>(whole >> 6 & 63),
                    static_cast<unsigned>(whole & 63), micros);
    }
    text_->append(formatted);
    return Status::OK();
  }

  // double_quote(): '"', '\\' and the control characters escaped, the
  // common ones by letter and the rest as \u00xx.
  void Quoted(std::string_view string) {
    text_->push_back('"');
    for (const char c : string) {
      switch (c) {
        case '"':
        case '\\':
          text_->push_back('\\');
          text_->push_back(c);
          break;
        case '\b':
          text_->append("\\b");
          break;
        case '\t':
          text_->append("\\t");
          break;
        case '\n':
          text_->append("\\n");
          break;
        case '\f':
          text_->append("\\f");
          break;
        case '\r':
          text_->append("\\r");
          break;
        default:
          if (static_cast<uint8_t>(c) <= 0x1f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            text_->append(escaped);
          } else {
            text_->push_back(c);
          }
      }
    }
    text_->push_back('"');
  }

  const size_t text_limit_;
  std::string* text_;
};

}  // namespace

Status DecodeMysqlJson(std::string_view binary, std::string* text) {
  text->clear();
  // Inserts with IGNORE or outside strict mode store an empty value for a
  // NULL in a NOT NULL column; json_binary::parse_binary reads it as null.
  if (binary.empty()) {
    *text = "null";
    return Status::OK();
  }
  JsonTextWriter writer(binary.size(), text);
  return writer.Value(static_cast<uint8_t>(binary[0]), binary.substr(1), 0);
}

}  // namespace crbridge::mysql
