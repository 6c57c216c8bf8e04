// Every row of the type mapping (mappings/type_mapping.h), both directions,
// for both dialects, as tables of input and expected output.
#include "crbridge/mappings/type_mapping.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "crbridge/sqlite/text_encoding.h"

namespace crbridge {
namespace {

constexpr SourceType kPg = SourceType::kPostgres;
constexpr SourceType kMy = SourceType::kMysql;

ColumnType Classify(SourceType source, const std::string& type, bool is_enum = false) {
  ServerColumn column;
  column.name = "c";
  column.type = type;
  column.is_enum = is_enum;
  ColumnType out;
  const Status s = ClassifyColumn(source, column, &out);
  EXPECT_TRUE(s.ok()) << type << ": " << s.ToString();
  return out;
}

struct ClassifyCase {
  SourceType source;
  const char* type;
  ValueKind kind;
  const char* sqlite;
};

TEST(TypeMappingTest, ClassifiesEveryServerType) {
  const ClassifyCase cases[] = {
      {kPg, "smallint", ValueKind::kInteger, "INTEGER"},
      {kPg, "integer", ValueKind::kInteger, "INTEGER"},
      {kPg, "bigint", ValueKind::kInteger, "INTEGER"},
      {kPg, "boolean", ValueKind::kBoolean, "INTEGER"},
      {kPg, "real", ValueKind::kReal, "REAL"},
      {kPg, "double precision", ValueKind::kReal, "REAL"},
      {kPg, "numeric(10,2)", ValueKind::kDecimal, "TEXT"},
      {kPg, "numeric", ValueKind::kDecimal, "TEXT"},
      {kPg, "text", ValueKind::kText, "TEXT"},
      {kPg, "character varying(20)", ValueKind::kText, "TEXT"},
      {kPg, "character(3)", ValueKind::kText, "TEXT"},
      {kPg, "citext", ValueKind::kText, "TEXT"},
      {kPg, "bytea", ValueKind::kBlob, "BLOB"},
      {kPg, "uuid", ValueKind::kUuid, "TEXT"},
      {kPg, "date", ValueKind::kDate, "TEXT"},
      {kPg, "timestamp without time zone", ValueKind::kTimestamp, "TEXT"},
      {kPg, "timestamp(3) without time zone", ValueKind::kTimestamp, "TEXT"},
      {kPg, "timestamp with time zone", ValueKind::kTimestampTz, "TEXT"},
      {kPg, "time without time zone", ValueKind::kServerText, "TEXT"},
      {kPg, "interval", ValueKind::kServerText, "TEXT"},
      {kPg, "json", ValueKind::kJson, "TEXT"},
      {kPg, "jsonb", ValueKind::kJson, "TEXT"},
      {kPg, "integer[]", ValueKind::kServerText, "TEXT"},
      {kPg, "inet", ValueKind::kServerText, "TEXT"},
      {kMy, "tinyint(1)", ValueKind::kBoolean, "INTEGER"},
      {kMy, "tinyint(4)", ValueKind::kInteger, "INTEGER"},
      {kMy, "bit(1)", ValueKind::kInteger, "INTEGER"},
      {kMy, "bit(64)", ValueKind::kInteger, "INTEGER"},
      {kMy, "smallint(5) unsigned", ValueKind::kInteger, "INTEGER"},
      {kMy, "mediumint(9)", ValueKind::kInteger, "INTEGER"},
      {kMy, "int(11)", ValueKind::kInteger, "INTEGER"},
      {kMy, "bigint(20) unsigned", ValueKind::kInteger, "INTEGER"},
      {kMy, "year(4)", ValueKind::kInteger, "INTEGER"},
      {kMy, "float", ValueKind::kReal, "REAL"},
      {kMy, "double", ValueKind::kReal, "REAL"},
      {kMy, "decimal(10,2)", ValueKind::kDecimal, "TEXT"},
      {kMy, "varchar(64)", ValueKind::kText, "TEXT"},
      {kMy, "char(3)", ValueKind::kText, "TEXT"},
      {kMy, "longtext", ValueKind::kText, "TEXT"},
      {kMy, "enum('a','b')", ValueKind::kText, "TEXT"},
      {kMy, "set('x','y')", ValueKind::kText, "TEXT"},
      {kMy, "binary(16)", ValueKind::kBlob, "BLOB"},
      {kMy, "varbinary(255)", ValueKind::kBlob, "BLOB"},
      {kMy, "blob", ValueKind::kBlob, "BLOB"},
      {kMy, "uuid", ValueKind::kUuid, "TEXT"},
      {kMy, "date", ValueKind::kDate, "TEXT"},
      {kMy, "datetime(6)", ValueKind::kTimestamp, "TEXT"},
      {kMy, "timestamp(6)", ValueKind::kTimestampTz, "TEXT"},
      {kMy, "time(3)", ValueKind::kServerText, "TEXT"},
      {kMy, "json", ValueKind::kJson, "TEXT"},
  };
  for (const ClassifyCase& c : cases) {
    const ColumnType type = Classify(c.source, c.type);
    EXPECT_EQ(type.kind, c.kind) << c.type;
    EXPECT_EQ(type.SqliteType(), c.sqlite) << c.type;
  }
  EXPECT_EQ(Classify(kPg, "mood", /*is_enum=*/true).kind, ValueKind::kServerText);
}

TEST(TypeMappingTest, RefusesTypesThatCannotRoundTrip) {
  for (const auto& [source, type] : std::vector<std::pair<SourceType, std::string>>{
           {kPg, "money"}, {kMy, "geometry"}, {kMy, "point"}}) {
    ServerColumn column{"c", type, false, false, false, 0, ""};
    ColumnType out;
    const Status s = ClassifyColumn(source, column, &out);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << type;
    EXPECT_NE(s.message().find(type == "money" ? "money" : type), std::string::npos) << s.message();
  }
}

struct ReadCase {
  SourceType source;
  const char* type;
  std::string server_text;
  Value expected;
};

TEST(TypeMappingTest, ServerTextBecomesTheCanonicalValue) {
  const ReadCase cases[] = {
      {kPg, "integer", "-42", Value::Integer(-42)},
      {kPg, "bigint", "9223372036854775807", Value::Integer(INT64_MAX)},
      {kPg, "boolean", "t", Value::Integer(1)},
      {kPg, "boolean", "f", Value::Integer(0)},
      {kPg, "double precision", "1.5", Value::Float(1.5)},
      {kPg, "real", "-0.25", Value::Float(-0.25)},
      {kPg, "double precision", "Infinity", Value::Float(INFINITY)},
      {kPg, "double precision", "-Infinity", Value::Float(-INFINITY)},
      // SQLite stores a REAL NaN as NULL: NaN travels as text.
      {kPg, "double precision", "NaN", Value::Text("NaN")},
      {kPg, "real", "NaN", Value::Text("NaN")},
      {kPg, "numeric", "NaN", Value::Text("NaN")},
      {kPg, "numeric(10,2)", "12.50", Value::Text("12.50")},
      {kPg, "text", "héllo", Value::Text("héllo")},
      {kPg, "character(3)", "ab ", Value::Text("ab ")},
      {kPg, "bytea", "\\x00ff10", Value::BlobValue({0x00, 0xff, 0x10})},
      {kPg, "bytea", "\\x", Value::BlobValue({})},
      {kPg, "uuid", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
      {kPg, "date", "2024-02-29", Value::Text("2024-02-29")},
      {kPg, "date", "infinity", Value::Text("infinity")},
      {kPg, "date", "-infinity", Value::Text("-infinity")},
      {kPg, "date", "0044-03-15 BC", Value::Text("0044-03-15 BC")},
      {kPg, "date", "10000-01-01", Value::Text("10000-01-01")},
      {kPg, "timestamp without time zone", "infinity", Value::Text("infinity")},
      {kPg, "timestamp without time zone", "0044-03-15 12:00:00 BC", Value::Text("0044-03-15T12:00:00 BC")},
      {kPg, "timestamp without time zone", "10000-01-01 00:00:00", Value::Text("10000-01-01T00:00:00")},
      {kPg, "timestamp with time zone", "-infinity", Value::Text("-infinity")},
      {kPg, "timestamp with time zone", "0044-03-15 12:00:00+00 BC", Value::Text("0044-03-15T12:00:00Z BC")},
      {kPg, "timestamp with time zone", "10000-01-01 00:00:00+00", Value::Text("10000-01-01T00:00:00Z")},
      {kPg, "timestamp without time zone", "2024-01-02 03:04:05.123456", Value::Text("2024-01-02T03:04:05.123456")},
      {kPg, "timestamp without time zone", "2024-01-02 03:04:05", Value::Text("2024-01-02T03:04:05")},
      {kPg, "timestamp with time zone", "2024-01-02 03:04:05.5+00", Value::Text("2024-01-02T03:04:05.5Z")},
      {kPg, "time without time zone", "13:14:15", Value::Text("13:14:15")},
      {kPg, "interval", "1 day 02:00:00", Value::Text("1 day 02:00:00")},
      {kPg, "jsonb", "{\"a\": 1, \"b\": [true, null]}", Value::Text("{\"a\": 1, \"b\": [true, null]}")},
      {kPg, "integer[]", "{1,2,3}", Value::Text("{1,2,3}")},
      {kMy, "tinyint(1)", "1", Value::Integer(1)},
      {kMy, "tinyint(1)", "0", Value::Integer(0)},
      {kMy, "bigint(20) unsigned", "9223372036854775807", Value::Integer(INT64_MAX)},
      {kMy, "double", "2.5", Value::Float(2.5)},
      {kMy, "decimal(10,2)", "0.05", Value::Text("0.05")},
      {kMy, "enum('open','done')", "done", Value::Text("done")},
      {kMy, "set('x','y')", "x,y", Value::Text("x,y")},
      {kMy, "varbinary(8)", std::string("\x00\xff", 2), Value::BlobValue({0x00, 0xff})},
      {kMy, "date", "2024-02-29", Value::Text("2024-02-29")},
      {kMy, "date", "0000-00-00", Value::Text("0000-00-00")},
      {kMy, "date", "2024-00-15", Value::Text("2024-00-15")},
      {kMy, "datetime", "0000-00-00 00:00:00", Value::Text("0000-00-00T00:00:00")},
      {kMy, "timestamp", "0000-00-00 00:00:00", Value::Text("0000-00-00T00:00:00Z")},
      {kMy, "datetime(6)", "2024-01-02 03:04:05.500000", Value::Text("2024-01-02T03:04:05.500000")},
      {kMy, "timestamp(6)", "2024-01-02 03:04:05.500000", Value::Text("2024-01-02T03:04:05.500000Z")},
      {kMy, "time", "-01:02:03", Value::Text("-01:02:03")},
      {kMy, "json", "{\"a\": 1}", Value::Text("{\"a\": 1}")},
  };
  for (const ReadCase& c : cases) {
    Value value;
    const Status s = FromServerText(Classify(c.source, c.type), c.server_text, &value);
    ASSERT_TRUE(s.ok()) << c.type << " " << c.server_text << ": " << s.ToString();
    EXPECT_EQ(value, c.expected) << c.type << " " << c.server_text << " -> " << value.ToSql();
  }
}

TEST(TypeMappingTest, ServerValuesThatDoNotFitAreErrorsNotWraps) {
  const std::pair<const char*, const char*> bad[] = {
      {"bigint(20) unsigned", "18446744073709551615"},
      {"int(11)", "12x"},
      {"tinyint(1)", "maybe"},
      {"double", "x"},
  };
  for (const auto& [type, text] : bad) {
    Value value;
    EXPECT_EQ(FromServerText(Classify(kMy, type), text, &value).code(), Status::Code::kCorruption) << type << " " << text;
  }
  Value value;
  EXPECT_EQ(FromServerText(Classify(kPg, "bytea"), "\\x0g", &value).code(), Status::Code::kCorruption);
  // Text that is not UTF-8 (a SQL_ASCII database, a charset not converted)
  // would reach clients as another string: it does not map, and the
  // message shows its bytes escaped.
  const Status not_utf8 = FromServerText(Classify(kPg, "text"), "caf\xe9", &value);
  EXPECT_EQ(not_utf8.code(), Status::Code::kCorruption);
  EXPECT_NE(not_utf8.message().find("caf\\xe9"), std::string::npos) << not_utf8.message();
  EXPECT_NE(not_utf8.message().find("not valid UTF-8"), std::string::npos) << not_utf8.message();
  // MariaDB's text can hold NUL; the published client cuts text there.
  EXPECT_EQ(FromServerText(Classify(kMy, "text"), std::string("a\0b", 3), &value).code(), Status::Code::kCorruption);
}

struct WriteCase {
  SourceType source;
  const char* type;
  Value client;
  std::optional<std::string> parameter;  // kRefused: refused
};

constexpr std::nullopt_t kRefused = std::nullopt;

// Valid UTF-8 without control characters: what a message may show.
bool Printable(const std::string& text) {
  return IsUtf8(text) && std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

TEST(TypeMappingTest, ClientValuesBecomeServerParametersOrClearErrors) {
  const WriteCase cases[] = {
      {kPg, "integer", Value::Integer(7), "7"},
      {kPg, "integer", Value::Float(7.0), "7"},  // JavaScript numbers arrive as floats
      {kPg, "integer", Value::Float(7.5), kRefused},
      {kPg, "integer", Value::Text("7"), kRefused},
      {kPg, "smallint", Value::Integer(40000), kRefused},
      {kPg, "integer", Value::Integer(2147483648), kRefused},
      {kPg, "bigint", Value::Integer(INT64_MIN), "-9223372036854775808"},
      {kPg, "boolean", Value::Integer(1), "true"},
      {kPg, "boolean", Value::Float(0.0), "false"},
      {kPg, "boolean", Value::Integer(2), kRefused},
      {kPg, "double precision", Value::Float(0.1), "0.10000000000000001"},
      {kPg, "double precision", Value::Integer(3), "3"},
      {kPg, "double precision", Value::Text("x"), kRefused},
      // NaN and the infinities, as floats or as the text a server prints;
      // a float NaN once became -Infinity.
      {kPg, "double precision", Value::Float(NAN), "NaN"},
      {kPg, "double precision", Value::Text("NaN"), "NaN"},
      {kPg, "double precision", Value::Float(INFINITY), "Infinity"},
      {kPg, "real", Value::Float(-INFINITY), "-Infinity"},
      {kPg, "double precision", Value::Text("-Infinity"), "-Infinity"},
      {kPg, "double precision", Value::Text("nan"), kRefused},
      {kMy, "double", Value::Float(NAN), kRefused},
      {kMy, "float", Value::Text("NaN"), kRefused},
      {kMy, "double", Value::Float(-INFINITY), kRefused},
      {kPg, "numeric(10,2)", Value::Text("12.5"), "12.5"},
      {kPg, "numeric(10,2)", Value::Integer(12), "12"},
      {kPg, "numeric(10,2)", Value::Text("12,5"), kRefused},
      {kPg, "numeric(10,2)", Value::Text("NaN"), "NaN"},
      {kPg, "numeric(10,2)", Value::Float(NAN), "NaN"},
      {kPg, "numeric", Value::Float(INFINITY), "Infinity"},
      {kPg, "numeric(10,2)", Value::Text("Infinity"), kRefused},
      {kPg, "numeric(10,2)", Value::Text("-99999999.994"), "-99999999.994"},
      {kPg, "numeric(10,2)", Value::Text("99999999.995"), kRefused},  // rounds to 10^8
      {kPg, "numeric(10,2)", Value::Text("123456789"), kRefused},
      {kPg, "numeric(10,2)", Value::Text("1e7"), "1e7"},
      {kPg, "numeric(10,2)", Value::Text("0.1e8"), "0.1e8"},
      {kPg, "numeric(10,2)", Value::Text("1e8"), kRefused},
      {kPg, "numeric(10,2)", Value::Text("0.000001"), "0.000001"},
      {kPg, "numeric(10,2)", Value::Float(1e20), kRefused},
      {kPg, "numeric", Value::Text("1e300"), "1e300"},
      {kMy, "decimal(5,2)", Value::Text("999.994"), "999.994"},
      {kMy, "decimal(5,2)", Value::Text("1000"), kRefused},
      {kMy, "decimal(5,2)", Value::Text("NaN"), kRefused},
      {kMy, "decimal", Value::Integer(12345678901), kRefused},  // DECIMAL(10,0)
      {kPg, "text", Value::Text("héllo"), "héllo"},
      {kPg, "text", Value::Integer(5), "5"},
      {kPg, "text", Value::BlobValue({1}), kRefused},
      // No server takes bytes that are not UTF-8; Postgres's text holds no
      // NUL, and MariaDB's text with one would not reach clients whole.
      {kPg, "text", Value::Text(std::string("a\0b", 3)), kRefused},
      {kPg, "text", Value::Text("caf\xe9"), kRefused},
      {kPg, "integer[]", Value::Text(std::string("{1,\0}", 5)), kRefused},
      {kMy, "text", Value::Text(std::string("a\0b", 3)), kRefused},
      {kMy, "text", Value::Text("caf\xe9"), kRefused},
      {kPg, "character varying(3)", Value::Text("h\xc3\xa9h"), "h\xc3\xa9h"},  // characters, not bytes
      {kPg, "character varying(3)", Value::Text("abcd"), kRefused},
      {kPg, "character varying(3)", Value::Text("abc  "), "abc  "},  // trailing spaces are dropped, not refused
      {kPg, "character(2)", Value::Text("abc"), kRefused},
      {kMy, "varchar(3)", Value::Text("abcd"), kRefused},
      {kMy, "varbinary(2)", Value::BlobValue({1, 2, 3}), kRefused},
      {kMy, "tinyblob", Value::BlobValue(Blob(256, 1)), kRefused},
      {kPg, "bytea", Value::BlobValue({0x00, 0xff}), "\\x00ff"},
      {kPg, "bytea", Value::Text("abc"), kRefused},
      {kPg, "uuid", Value::Text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
      {kPg, "uuid", Value::Text("not-a-uuid"), kRefused},
      {kPg, "date", Value::Text("2024-02-29"), "2024-02-29"},
      {kPg, "date", Value::Text("29/02/2024"), kRefused},
      {kPg, "date", Value::Text("2023-02-29"), kRefused},
      {kPg, "date", Value::Text("2024-04-31"), kRefused},
      {kPg, "date", Value::Text("2024-13-01"), kRefused},
      {kPg, "date", Value::Text("0000-01-01"), kRefused},
      {kPg, "date", Value::Text("infinity"), "infinity"},
      {kPg, "date", Value::Text("-infinity"), "-infinity"},
      {kPg, "date", Value::Text("0044-03-15 BC"), "0044-03-15 BC"},
      {kPg, "date", Value::Text("0001-02-29 BC"), "0001-02-29 BC"},  // 1 BC is a leap year
      {kPg, "date", Value::Text("10000-01-01"), "10000-01-01"},
      {kMy, "date", Value::Text("0000-00-00"), "0000-00-00"},
      {kMy, "date", Value::Text("2024-00-15"), "2024-00-15"},
      {kMy, "date", Value::Text("2023-02-29"), kRefused},
      {kMy, "date", Value::Text("10000-01-01"), kRefused},
      {kMy, "date", Value::Text("0044-03-15 BC"), kRefused},
      {kMy, "date", Value::Text("infinity"), kRefused},
      {kPg, "timestamp without time zone", Value::Text("2024-01-02T03:04:05.25"), "2024-01-02 03:04:05.25"},
      {kPg, "timestamp without time zone", Value::Text("2024-01-02T03:04:05Z"), kRefused},
      {kPg, "timestamp with time zone", Value::Text("2024-01-02T03:04:05Z"), "2024-01-02 03:04:05+00"},
      {kPg, "timestamp with time zone", Value::Text("2024-01-02T01:30:00-02:00"), "2024-01-02 03:30:00+00"},
      {kPg, "timestamp with time zone", Value::Text("2024-01-01T23:00:00.5+0100"), "2024-01-01 22:00:00.5+00"},
      {kPg, "timestamp with time zone", Value::Text("2024-03-01T00:30:00+01:00"), "2024-02-29 23:30:00+00"},
      {kPg, "timestamp with time zone", Value::Integer(1700000000), kRefused},
      {kPg, "timestamp with time zone", Value::Text("infinity"), "infinity"},
      {kPg, "timestamp without time zone", Value::Text("-infinity"), "-infinity"},
      {kPg, "timestamp with time zone", Value::Text("0044-03-15T12:00:00Z BC"), "0044-03-15 12:00:00+00 BC"},
      {kPg, "timestamp with time zone", Value::Text("0001-01-01T00:30:00+01:00"), "0001-12-31 23:30:00+00 BC"},
      {kPg, "timestamp without time zone", Value::Text("0044-03-15T12:00:00 BC"), "0044-03-15 12:00:00 BC"},
      {kPg, "timestamp without time zone", Value::Text("10000-01-01T00:00:00"), "10000-01-01 00:00:00"},
      {kPg, "timestamp without time zone", Value::Text("2024-02-30T00:00:00"), kRefused},
      {kPg, "timestamp without time zone", Value::Text("2024-01-01T24:00:00"), kRefused},
      {kPg, "timestamp without time zone", Value::Text("2024-01-01T12:00:00 XX"), kRefused},
      {kPg, "time without time zone", Value::Text("13:14"), "13:14"},
      {kPg, "time without time zone", Value::Text("24:00:00"), "24:00:00"},
      {kPg, "time(3) without time zone", Value::Text("25:00:00"), kRefused},
      {kPg, "time without time zone", Value::Text("noon"), kRefused},
      {kPg, "interval", Value::Text("1 day"), "1 day"},
      {kPg, "jsonb", Value::Text("{\"a\":1}"), "{\"a\":1}"},
      {kPg, "jsonb", Value::Integer(1), kRefused},
      {kMy, "tinyint(1)", Value::Integer(1), "1"},
      {kMy, "tinyint(1)", Value::Integer(0), "0"},
      {kMy, "tinyint(4)", Value::Integer(-128), "-128"},
      {kMy, "tinyint(4)", Value::Integer(128), kRefused},
      {kMy, "int(10) unsigned", Value::Integer(-1), kRefused},
      {kMy, "bigint(20) unsigned", Value::Integer(INT64_MAX), "9223372036854775807"},
      {kMy, "double", Value::Float(INFINITY), kRefused},
      {kMy, "decimal(10,2)", Value::Text("-0.05"), "-0.05"},
      {kMy, "enum('open','done')", Value::Text("done"), "done"},
      {kMy, "varbinary(8)", Value::BlobValue({0x00, 0xff}), std::string("\x00\xff", 2)},
      {kMy, "datetime(6)", Value::Text("2024-01-02T03:04:05.5"), "2024-01-02 03:04:05.5"},
      {kMy, "timestamp(6)", Value::Text("2024-01-02T05:04:05+02:00"), "2024-01-02 03:04:05"},
      {kMy, "datetime", Value::Text("0000-00-00T00:00:00"), "0000-00-00 00:00:00"},
      {kMy, "timestamp", Value::Text("0000-00-00T00:00:00Z"), "0000-00-00 00:00:00"},
      {kMy, "timestamp", Value::Text("2038-01-19T03:14:07Z"), "2038-01-19 03:14:07"},
      {kMy, "timestamp", Value::Text("2038-01-19T03:14:08Z"), kRefused},
      {kMy, "timestamp", Value::Text("1970-01-01T01:00:00+02:00"), kRefused},
      {kMy, "datetime(6)", Value::Text("2024-02-30T00:00:00"), kRefused},
      {kMy, "time", Value::Text("-838:59:59"), "-838:59:59"},
      {kMy, "time", Value::Text("1 02:00:00"), "1 02:00:00"},
      {kMy, "time", Value::Text("839:00:00"), kRefused},
      {kMy, "json", Value::Text("[1,2]"), "[1,2]"},
      {kPg, "jsonb", Value::Text("{\"a\":"), kRefused},
      {kPg, "json", Value::Text(""), kRefused},
  };
  for (const WriteCase& c : cases) {
    ServerParameter parameter;
    const Status s = ToServerParameter(c.source, Classify(c.source, c.type), c.client, "todos.c", &parameter);
    if (!c.parameter) {
      EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.type << " " << c.client.ToSql();
      EXPECT_TRUE(s.message().starts_with("todos.c: cannot store ")) << s.message();
      EXPECT_NE(s.message().find(c.type), std::string::npos) << s.message();
      EXPECT_TRUE(Printable(s.message())) << "raw bytes in the message";
      continue;
    }
    ASSERT_TRUE(s.ok()) << c.type << " " << c.client.ToSql() << ": " << s.ToString();
    EXPECT_FALSE(parameter.is_null);
    EXPECT_EQ(parameter.text, *c.parameter) << c.type << " " << c.client.ToSql();
  }
}

// A refusal names the table and column, and the rule the value breaks.
TEST(TypeMappingTest, RefusalsNameTheRule) {
  const struct {
    SourceType source;
    const char* type;
    Value client;
    const char* rule;
  } cases[] = {
      {kPg, "text", Value::Text(std::string("a\0b", 3)), "text must be valid UTF-8 without NUL bytes"},
      {kMy, "text", Value::Text(std::string("a\0b", 3)), "text must be valid UTF-8 without NUL bytes"},
      {kMy, "double", Value::Float(NAN), "MySQL's and MariaDB's FLOAT and DOUBLE cannot hold NaN or infinities"},
      {kPg, "numeric(10,2)", Value::Text("123456789"), "more than 8 digits before the point"},
      {kPg, "character varying(3)", Value::Text("abcd"), "longer than 3 characters"},
      {kPg, "date", Value::Text("2023-02-29"), "not a day of the calendar"},
      {kMy, "date", Value::Text("10000-01-01"), "expected YYYY-MM-DD"},
      {kMy, "timestamp", Value::Text("1969-01-01T00:00:00Z"), "a TIMESTAMP holds 1970-01-01T00:00:01Z to"},
      {kPg, "jsonb", Value::Text("{"), "not valid JSON"},
      {kMy, "time", Value::Text("839:00:00"), "within -838:59:59 and 838:59:59"},
  };
  for (const auto& c : cases) {
    ServerParameter parameter;
    const Status s = ToServerParameter(c.source, Classify(c.source, c.type), c.client, "todos.title", &parameter);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.type;
    EXPECT_TRUE(s.message().starts_with("todos.title: ")) << s.message();
    EXPECT_NE(s.message().find(c.rule), std::string::npos) << s.message();
  }
  ServerParameter parameter;
  const Status escaped = ToServerParameter(kPg, Classify(kPg, "text"), Value::Text(std::string("a\0\xff", 3)), "t.c",
                                           &parameter);
  EXPECT_NE(escaped.message().find("'a\\x00\\xff' (text)"), std::string::npos) << escaped.message();
}

// BIT(n) is the n-bit number clients see; MySQL takes a string's bytes
// as a BIT value, so the parameter is the number's big-endian bytes.
TEST(TypeMappingTest, MysqlBitIsAnUnsignedNumberWrittenAsItsBytes) {
  const ColumnType bits = Classify(kMy, "bit(5)");
  EXPECT_EQ(bits.min, 0);
  EXPECT_EQ(bits.max, 31u);
  Value value;
  ASSERT_TRUE(FromServerText(bits, "19", &value).ok());
  EXPECT_EQ(value, Value::Integer(19));
  ServerParameter parameter;
  ASSERT_TRUE(ToServerParameter(kMy, bits, Value::Integer(19), "t.b", &parameter).ok());
  EXPECT_EQ(parameter.text, std::string("\x13"));
  ASSERT_TRUE(ToServerParameter(kMy, bits, Value::Integer(0), "t.b", &parameter).ok());
  EXPECT_EQ(parameter.text, std::string(1, '\0'));
  const ColumnType wide = Classify(kMy, "bit(16)");
  ASSERT_TRUE(ToServerParameter(kMy, wide, Value::Integer(0x1234), "t.b", &parameter).ok());
  EXPECT_EQ(parameter.text, "\x12\x34");
  EXPECT_EQ(ToServerParameter(kMy, bits, Value::Integer(32), "t.b", &parameter).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ToServerParameter(kMy, bits, Value::Integer(-1), "t.b", &parameter).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Classify(kMy, "bit(64)").max, UINT64_MAX);
}

TEST(TypeMappingTest, NullIsANullParameterForEveryType) {
  for (const char* type : {"integer", "text", "bytea", "timestamp with time zone", "jsonb"}) {
    ServerParameter parameter;
    ASSERT_TRUE(ToServerParameter(kPg, Classify(kPg, type), Value::Null(), "t.c", &parameter).ok());
    EXPECT_TRUE(parameter.is_null) << type;
  }
}

}  // namespace
}  // namespace crbridge
