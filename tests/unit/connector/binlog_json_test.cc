// MySQL's binary JSON decoded into the text MySQL prints: values built here
// from json_binary.h's layout, independently of the decoder, for every type,
// small and large containers, nesting, escapes and opaque dates, times and
// decimals; truncated and randomly damaged values are Corruption, never a
// crash; and a JSON column through a ROWS v2 event and the change mapper.
#include "binlog_json.h"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <optional>
#include <random>

#include "crbridge/connector/mysql/binlog_change_mapper.h"
#include "crbridge/connector/mysql/binlog_events.h"
#include "crbridge/connector/mysql/binlog_rows.h"

namespace crbridge {
using namespace crbridge::mysql;  // the dialect under test
namespace {

std::string LittleEndian(uint64_t value, size_t width) {
  std::string bytes;
  for (size_t i = 0; i < width; ++i) bytes.push_back(static_cast<char>(value >> (8 * i)));
  return bytes;
}

// 7 bits per byte, least significant first, the top bit on all but the last.
std::string VariableLength(size_t length) {
  std::string bytes;
  do {
    const auto low = static_cast<uint8_t>(length & 0x7f);
    length >>= 7;
    bytes.push_back(static_cast<char>(length > 0 ? low | 0x80 : low));
  } while (length > 0);
  return bytes;
}

// A value: its type byte and the bytes after it.
struct Json {
  uint8_t type;
  std::string bytes;
};

std::string Document(const Json& value) { return static_cast<char>(value.type) + value.bytes; }

Json Literal(uint8_t literal) { return {0x04, std::string(1, static_cast<char>(literal))}; }
Json Null() { return Literal(0x00); }
Json True() { return Literal(0x01); }
Json False() { return Literal(0x02); }
Json Int16(int16_t value) { return {0x05, LittleEndian(static_cast<uint16_t>(value), 2)}; }
Json Uint16(uint16_t value) { return {0x06, LittleEndian(value, 2)}; }
Json Int32(int32_t value) { return {0x07, LittleEndian(static_cast<uint32_t>(value), 4)}; }
Json Uint32(uint32_t value) { return {0x08, LittleEndian(value, 4)}; }
Json Int64(int64_t value) { return {0x09, LittleEndian(static_cast<uint64_t>(value), 8)}; }
Json Uint64(uint64_t value) { return {0x0a, LittleEndian(value, 8)}; }
Json Double(double value) { return {0x0b, LittleEndian(std::bit_cast<uint64_t>(value), 8)}; }
Json String(std::string_view text) { return {0x0c, VariableLength(text.size()) + std::string(text)}; }
Json Opaque(MysqlType field_type, std::string_view data) {
  return {0x0f, static_cast<char>(field_type) + VariableLength(data.size()) + std::string(data)};
}

// Json_datetime's packed form: the date and time above 24 bits of
// microseconds, negated for a negative TIME.
Json DateTime(MysqlType field_type, uint64_t year, uint64_t month, uint64_t day, uint64_t hour, uint64_t minute,
              uint64_t second, uint64_t micros) {
  const uint64_t date = (year * 13 + month) << 5 | day;
  const uint64_t time = hour << 12 | minute << 6 | second;
  return Opaque(field_type, LittleEndian(((date << 17 | time) << 24) + micros, 8));
}
Json Time(bool negative, uint64_t hour, uint64_t minute, uint64_t second, uint64_t micros) {
  const uint64_t packed = ((hour << 12 | minute << 6 | second) << 24) + micros;
  return Opaque(MysqlType::kTime, LittleEndian(negative ? 0 - packed : packed, 8));
}
// A precision byte, a scale byte, then the packed digits (hex).
Json Decimal(uint8_t precision, uint8_t scale, std::string_view packed) {
  return Opaque(MysqlType::kNewDecimal, std::string{static_cast<char>(precision), static_cast<char>(scale)} +
                                            std::string(packed));
}

// Literals and 16-bit integers sit in their value entries, 32-bit ones too
// in large containers.
bool IsInlined(uint8_t type, bool large) {
  return type == 0x04 || type == 0x05 || type == 0x06 || (large && (type == 0x07 || type == 0x08));
}

// Counts, key entries, value entries, keys, values; offsets from the count.
Json Container(bool is_object, bool large, const std::vector<std::string>& keys, const std::vector<Json>& values) {
  const size_t offset_size = large ? 4 : 2;
  const size_t count = values.size();
  const size_t header = 2 * offset_size + (is_object ? count * (offset_size + 2) : 0) + count * (1 + offset_size);
  std::string key_entries;
  std::string key_bytes;
  for (const std::string& key : keys) {
    key_entries += LittleEndian(header + key_bytes.size(), offset_size) + LittleEndian(key.size(), 2);
    key_bytes += key;
  }
  std::string value_entries;
  std::string value_bytes;
  for (const Json& value : values) {
    value_entries.push_back(static_cast<char>(value.type));
    if (IsInlined(value.type, large)) {
      std::string inlined = value.bytes;
      inlined.resize(offset_size, '\0');
      value_entries += inlined;
    } else {
      value_entries += LittleEndian(header + key_bytes.size() + value_bytes.size(), offset_size);
      value_bytes += value.bytes;
    }
  }
  const size_t size = header + key_bytes.size() + value_bytes.size();
  const uint8_t type = (is_object ? 0x00 : 0x02) | (large ? 0x01 : 0x00);
  return {type, LittleEndian(count, offset_size) + LittleEndian(size, offset_size) + key_entries + value_entries +
                    key_bytes + value_bytes};
}
Json Array(const std::vector<Json>& values, bool large = false) { return Container(false, large, {}, values); }
Json Object(const std::vector<std::pair<std::string, Json>>& members, bool large = false) {
  std::vector<std::string> keys;
  std::vector<Json> values;
  for (const auto& [key, value] : members) {
    keys.push_back(key);
    values.push_back(value);
  }
  return Container(true, large, keys, values);
}

std::string TextOf(const std::string& binary) {
  std::string text;
  const Status status = DecodeMysqlJson(binary, &text);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return text;
}
std::string TextOf(const Json& value) { return TextOf(Document(value)); }

Status::Code CodeOf(const std::string& binary) {
  std::string text;
  return DecodeMysqlJson(binary, &text).code();
}

Json Nested(int depth) {
  Json value = Int16(1);
  for (int i = 0; i < depth; ++i) value = Array({value}, i % 2 == 1);
  return value;
}

std::string Hex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 3) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

struct TextCase {
  const char* name;
  Json value;
  std::string expected;
};

// {"a": 1, "b": [true, null]}, stored with its keys sorted.
Json SmallDocument(bool large) {
  return Object({{"a", Int16(1)}, {"b", Array({True(), Null()}, large)}}, large);
}

const std::vector<TextCase>& TextCases() {
  static const auto* cases = new std::vector<TextCase>{
      {"null", Null(), "null"},
      {"true", True(), "true"},
      {"false", False(), "false"},
      {"int16 min", Int16(INT16_MIN), "-32768"},
      {"uint16 max", Uint16(UINT16_MAX), "65535"},
      {"int32 min", Int32(INT32_MIN), "-2147483648"},
      {"uint32 max", Uint32(UINT32_MAX), "4294967295"},
      {"int64 min", Int64(INT64_MIN), "-9223372036854775808"},
      {"uint64 max", Uint64(UINT64_MAX), "18446744073709551615"},
      {"double 1.5", Double(1.5), "1.5"},
      {"double 1", Double(1.0), "1.0"},
      {"double 0", Double(0.0), "0.0"},
      {"double -0", Double(-0.0), "-0.0"},
      {"double -2.25", Double(-2.25), "-2.25"},
      {"double 0.1", Double(0.1), "0.1"},
      {"double 1/3", Double(1.0 / 3), "0.3333333333333333"},
      {"double 1e300", Double(1e300), "1e300"},
      {"double -1.5e-300", Double(-1.5e-300), "-1.5e-300"},
      {"double 1e14", Double(1e14), "100000000000000.0"},
      {"double 1e15", Double(1e15), "1e15"},
      {"double 1.2345678901234568e17", Double(123456789012345678.0), "1.2345678901234568e17"},
      {"double 1234567890123456.8", Double(1234567890123456.8), "1234567890123456.8"},
      {"double 0.0001", Double(0.0001), "0.0001"},
      {"double 1.5e-7", Double(1.5e-7), "0.00000015"},
      {"double 1e-15", Double(1e-15), "0.000000000000001"},
      {"double 1e-16", Double(1e-16), "1e-16"},
      {"double max", Double(DBL_MAX), "1.7976931348623157e308"},
      {"double min subnormal", Double(5e-324), "5e-324"},
      {"string empty", String(""), "\"\""},
      {"string escapes", String("q\"b\\s/\b\f\n\r\t\x01\x1f\x7f"),
       "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""},
      {"string unicode", String("é€🙂"), "\"é€🙂\""},
      {"string 2-byte length", String(std::string(200, 'x')), "\"" + std::string(200, 'x') + "\""},
      {"string 3-byte length", String(std::string(20'000, 'y')), "\"" + std::string(20'000, 'y') + "\""},
      {"empty object", Object({}), "{}"},
      {"empty array", Array({}), "[]"},
      {"empty large object", Object({}, true), "{}"},
      {"small object", SmallDocument(false), "{\"a\": 1, \"b\": [true, null]}"},
      {"large object", SmallDocument(true), "{\"a\": 1, \"b\": [true, null]}"},
      {"keys in stored order", Object({{"b", Int16(2)}, {"a", Int16(1)}, {"aa", Int16(3)}}),
       "{\"b\": 2, \"a\": 1, \"aa\": 3}"},
      {"escaped key", Object({{"k\"\n", Null()}}), "{\"k\\\"\\n\": null}"},
      {"small array of every scalar",
       Array({Null(), True(), False(), Int16(-1), Uint16(7), Int32(-70'000), Uint32(70'000), Int64(-1),
              Uint64(UINT64_MAX), Double(2.5), String("s")}),
       "[null, true, false, -1, 7, -70000, 70000, -1, 18446744073709551615, 2.5, \"s\"]"},
      {"large array inlines 32-bit values",
       Array({Int32(-70'000), Uint32(70'000), Int16(-2), Uint16(2), False(), String("t")}, true),
       "[-70000, 70000, -2, 2, false, \"t\"]"},
      {"nesting", Array({Object({{"x", Array({Object({{"y", Array({})}})})}}), Array({Array({})}, true)}),
       "[{\"x\": [{\"y\": []}]}, [[]]]"},
      {"100 levels", Nested(100), std::string(100, '[') + "1" + std::string(100, ']')},
      {"DATETIME", DateTime(MysqlType::kDateTime, 2015, 1, 15, 23, 24, 25, 0), "\"2015-01-15 23:24:25.000000\""},
      {"DATETIME with micros", DateTime(MysqlType::kDateTime, 9999, 12, 31, 23, 59, 59, 999'999),
       "\"9999-12-31 23:59:59.999999\""},
      {"TIMESTAMP", DateTime(MysqlType::kTimestamp, 2024, 5, 6, 7, 8, 9, 120'000), "\"2024-05-06 07:08:09.120000\""},
      {"DATE", DateTime(MysqlType::kDate, 2015, 1, 15, 0, 0, 0, 0), "\"2015-01-15\""},
      {"TIME", Time(false, 12, 34, 56, 789'012), "\"12:34:56.789012\""},
      {"TIME negative", Time(true, 838, 59, 59, 0), "\"-838:59:59.000000\""},
      {"TIME zero", Time(false, 0, 0, 0, 0), "\"00:00:00.000000\""},
      {"DECIMAL(3,2) 3.14", Decimal(3, 2, Hex("83 0e")), "3.14"},
      {"DECIMAL(5,2) -12.50", Decimal(5, 2, Hex("7f f3 cd")), "-12.50"},
      {"DECIMAL(20,9)", Decimal(20, 9, Hex("81 0d fb 38 d2 07 5b cd 15")), "1234567890.123456789"},
      {"DECIMAL in an array", Array({Decimal(5, 2, Hex("80 00 05"))}), "[0.05]"},
      {"VAR_STRING opaque is a string", Opaque(MysqlType::kVarString, "a\"b"), "\"a\\\"b\""},
      {"BLOB opaque", Opaque(MysqlType::kBlob, "hello"), "\"base64:type252:aGVsbG8=\""},
      {"long opaque breaks base64 lines", Opaque(MysqlType::kBit, std::string(60, '\xff')),
       "\"base64:type16:" + std::string(76, '/') + "\\n" + std::string(4, '/') + "\""},
      {"dates and decimals in an object",
       Object({{"d", DateTime(MysqlType::kDate, 2024, 2, 29, 0, 0, 0, 0)}, {"n", Decimal(3, 0, Hex("7f f8"))}}),
       "{\"d\": \"2024-02-29\", \"n\": -7}"},
  };
  return *cases;
}

TEST(BinlogJsonTest, EveryValueType) {
  for (const TextCase& c : TextCases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(TextOf(c.value), c.expected);
  }
}

TEST(BinlogJsonTest, EmptyValueIsNull) { EXPECT_EQ(TextOf(std::string()), "null"); }

TEST(BinlogJsonTest, MalformedValuesAreCorruption) {
  const auto corrupt = [](const std::string& binary) { return CodeOf(binary); };
  constexpr auto kCorruption = Status::Code::kCorruption;
  EXPECT_EQ(corrupt(Hex("0d 00")), kCorruption);                                 // unknown type
  EXPECT_EQ(corrupt(Hex("04 03")), kCorruption);                                 // literal 3
  EXPECT_EQ(corrupt(Hex("0c 05 61 62")), kCorruption);                           // string past the end
  EXPECT_EQ(corrupt(Hex("0c 80 80 80 80 80 00")), kCorruption);                 // length in more than 5 bytes
  EXPECT_EQ(corrupt(Hex("0c ff ff ff ff 7f")), kCorruption);                    // length above 32 bits
  EXPECT_EQ(corrupt(Hex("02 01 00 09 00 05 01 00")), kCorruption);              // size past the end
  EXPECT_EQ(corrupt(Hex("02 02 00 07 00 05 01 00")), kCorruption);              // entries past the size
  EXPECT_EQ(corrupt(Hex("02 01 00 08 00 0c 00 00")), kCorruption);              // value offset before its entry
  EXPECT_EQ(corrupt(Hex("02 01 00 08 00 0c 09 00")), kCorruption);              // value offset past the size
  EXPECT_EQ(corrupt(Hex("00 01 00 0b 00 0b 00 01 00 04 01 00")), kCorruption);  // key past the size
  EXPECT_EQ(corrupt(Hex("0b 00 00 00 00 00 00 f8 7f")), kCorruption);           // NaN
  EXPECT_EQ(corrupt(Document(Opaque(MysqlType::kDateTime, std::string(7, '\0')))), kCorruption);
  EXPECT_EQ(corrupt(Document(DateTime(MysqlType::kDateTime, 2015, 1, 1, 0, 0, 0, 1'000'000))), kCorruption);
  EXPECT_EQ(corrupt(Document(Decimal(5, 2, Hex("80 00")))), kCorruption);        // too few digit bytes
  EXPECT_EQ(corrupt(Document(Decimal(5, 2, Hex("80 00 05 00")))), kCorruption);  // too many
  EXPECT_EQ(corrupt(Document(Decimal(0, 0, ""))), kCorruption);
  EXPECT_EQ(corrupt(Document(Decimal(3, 4, Hex("80 00 00")))), kCorruption);    // scale above precision
  EXPECT_EQ(corrupt(Document(Nested(101))), kCorruption);
}

// Entries that share their values: 2^40 elements from a few hundred bytes.
TEST(BinlogJsonTest, SharedValuesCannotPrintExponentialText) {
  uint8_t type = 0x09;  // an int64, which arrays do not inline
  std::string value = LittleEndian(1, 8);
  for (int level = 0; level < 40; ++level) {
    const size_t header = 4 + 2 * 3;
    std::string array = LittleEndian(2, 2) + LittleEndian(header + value.size(), 2);
    for (int i = 0; i < 2; ++i) array += static_cast<char>(type) + LittleEndian(header, 2);
    value = array + value;
    type = 0x02;
  }
  EXPECT_EQ(CodeOf(static_cast<char>(type) + value), Status::Code::kCorruption);
}

TEST(BinlogJsonTest, EveryTruncationIsCorruption) {
  for (const TextCase& c : TextCases()) {
    SCOPED_TRACE(c.name);
    const std::string binary = Document(c.value);
    for (size_t length = 1; length < binary.size(); ++length) {
      EXPECT_EQ(CodeOf(binary.substr(0, length)), Status::Code::kCorruption) << "length " << length;
    }
  }
}

TEST(BinlogJsonTest, RandomlyDamagedValuesNeverCrash) {
  std::mt19937 random(8);
  for (const TextCase& c : TextCases()) {
    const std::string binary = Document(c.value);
    for (int trial = 0; trial < 300; ++trial) {
      std::string damaged = binary;
      const int changes = 1 + static_cast<int>(random() % 4);
      for (int i = 0; i < changes; ++i) damaged[random() % damaged.size()] = static_cast<char>(random());
      std::string text;
      const Status status = DecodeMysqlJson(damaged, &text);
      EXPECT_TRUE(status.ok() || status.code() == Status::Code::kCorruption) << status.ToString();
      EXPECT_LE(text.size(), damaged.size() * 16 + 64);
    }
  }
  for (int trial = 0; trial < 20'000; ++trial) {
    std::string noise(random() % 64, '\0');
    for (char& byte : noise) byte = static_cast<char>(random() % 16 == 0 ? random() : random() % 16);
    std::string text;
    const Status status = DecodeMysqlJson(noise, &text);
    EXPECT_TRUE(status.ok() || status.code() == Status::Code::kCorruption) << status.ToString();
  }
}

// ---- through a ROWS event ----

constexpr uint64_t kTableId = 77;

// app.docs (id INT, doc JSON) as MySQL's TABLE_MAP gives it.
BinlogTableMap DocsTableMap() {
  BinlogTableMap map;
  map.table_id = kTableId;
  map.database = "app";
  map.table = "docs";
  map.has_column_names = true;
  BinlogColumn& id = map.columns.emplace_back();
  id.type = MysqlType::kLong;
  id.name = "id";
  BinlogColumn& doc = map.columns.emplace_back();
  doc.type = MysqlType::kJson;
  doc.pack_length = 4;
  doc.nullable = true;
  doc.name = "doc";
  return map;
}

// An image of both columns: the null bitmap, id, then doc's length and value.
std::string Image(uint32_t id, const std::optional<std::string>& doc) {
  if (!doc) return Hex("02") + LittleEndian(id, 4);
  return Hex("00") + LittleEndian(id, 4) + LittleEndian(doc->size(), 4) + *doc;
}

// A ROWS v2 event without checksum: header, table id, flags, extra data
// (its own length only), column count, present columns, images.
std::string RowsV2Event(BinlogEventType type, const std::string& images) {
  const bool is_update = type == BinlogEventType::kUpdateRowsV2;
  const std::string body = LittleEndian(kTableId, 6) + LittleEndian(kBinlogRowsStatementEnd, 2) + LittleEndian(2, 2) +
                           Hex("02") + Hex("03") + (is_update ? Hex("03") : "") + images;
  const size_t size = kBinlogEventHeaderSize + body.size();
  return LittleEndian(1'715'000'000, 4) + static_cast<char>(type) + LittleEndian(1, 4) + LittleEndian(size, 4) +
         LittleEndian(4'096, 4) + LittleEndian(0, 2) + body;
}

BinlogRowsEvent DecodeRowsEvent(const std::string& bytes) {
  BinlogEvent event;
  const Status status = DecodeBinlogEvent(bytes, BinlogChecksum::kOff, &event);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(std::holds_alternative<BinlogRowsEvent>(event.data));
  return std::holds_alternative<BinlogRowsEvent>(event.data) ? std::get<BinlogRowsEvent>(event.data)
                                                              : BinlogRowsEvent{};
}

TEST(BinlogJsonRowsTest, JsonColumnDecodesToText) {
  const std::string images = Image(1, Document(SmallDocument(false))) + Image(2, std::nullopt) +
                             Image(3, std::string()) + Image(4, Document(Double(1e300)));
  const std::string event = RowsV2Event(BinlogEventType::kWriteRowsV2, images);
  std::vector<BinlogRowChange> changes;
  const Status status = DecodeBinlogRows(DocsTableMap(), DecodeRowsEvent(event), &changes);
  ASSERT_TRUE(status.ok()) << status.ToString();
  const auto row = [](int64_t id, BinlogValue doc) {
    return BinlogRowChange{{}, {{0, BinlogValue(id)}, {1, std::move(doc)}}};
  };
  EXPECT_EQ(changes, (std::vector<BinlogRowChange>{row(1, std::string("{\"a\": 1, \"b\": [true, null]}")),
                                                   row(2, BinlogNull{}), row(3, std::string("null")),
                                                   row(4, std::string("1e300"))}));
}

TEST(BinlogJsonRowsTest, MalformedJsonNamesTheColumn) {
  const std::string event = RowsV2Event(BinlogEventType::kWriteRowsV2, Image(1, Hex("04 07")));
  std::vector<BinlogRowChange> changes;
  const Status status = DecodeBinlogRows(DocsTableMap(), DecodeRowsEvent(event), &changes);
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
  EXPECT_NE(status.message().find("JSON literal 7"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("`doc`"), std::string::npos) << status.message();
}

TEST(BinlogJsonRowsTest, ChangeMapperMapsJsonAsText) {
  TableMapping mapping;
  mapping.name = "docs";
  mapping.source_table = "docs";
  std::vector<ResolvedTable> tables(1);
  tables[0].mapping = &mapping;
  tables[0].pk_count = 1;
  for (const auto& [name, type] : {std::pair{"id", "int(11)"}, {"doc", "json"}}) {
    ResolvedColumn& column = tables[0].columns.emplace_back();
    column.name = name;
    column.server.name = name;
    column.server.type = type;
    ASSERT_TRUE(ClassifyColumn(SourceType::kMysql, column.server, &column.type).ok());
  }
  ASSERT_EQ(tables[0].columns[1].type.kind, ValueKind::kJson);
  BinlogChangeMapper mapper(tables, "app");
  ASSERT_TRUE(mapper.OnTableMap(DocsTableMap()).ok());
  const Json document = Object({{"name", String("café")}, {"tags", Array({String("a"), Int16(2)})}});
  const std::string before = Image(5, Document(Null()));
  const std::string after = Image(5, Document(document));
  const std::string event = RowsV2Event(BinlogEventType::kUpdateRowsV2, before + after);
  std::vector<CapturedRow> rows;
  const Status status = mapper.OnRows(DecodeRowsEvent(event), &rows);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kind, CapturedRow::Kind::kUpdate);
  ASSERT_EQ(rows[0].values.size(), 1u);
  ASSERT_TRUE(rows[0].values[0].has_value());
  EXPECT_EQ(*rows[0].values[0], Value::Text("{\"name\": \"café\", \"tags\": [\"a\", 2]}"));
}

}  // namespace
}  // namespace crbridge
