// BinlogChangeMapper on hand-built table maps and row images: kinds, key
// changes, values as a SELECT would map them (latin1, FLOAT, UUID), images
// without some columns, refusals naming the table and column, and rows
// whose values do not map kept as rejections.
#include "crbridge/connector/mysql/binlog_change_mapper.h"

#include <gtest/gtest.h>

#include <bit>

#include "crbridge/server/core/clock_columns.h"

namespace crbridge {
using namespace crbridge::mysql;  // the dialect under test
namespace {

constexpr uint64_t kTableId = 42;
constexpr uint32_t kLatin1 = 8;
const std::string kUuidBytes("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11", 16);

// app.items (id INT, name VARCHAR(10) latin1, score FLOAT, u UUID, extra INT).
BinlogTableMap ItemsTableMap(bool with_names = true) {
  BinlogTableMap map;
  map.table_id = kTableId;
  map.database = "app";
  map.table = "items";
  map.has_column_names = with_names;
  const auto column = [&](const char* name, MysqlType type) -> BinlogColumn& {
    BinlogColumn& c = map.columns.emplace_back();
    c.type = type;
    c.nullable = true;
    if (with_names) c.name = name;
    return c;
  };
  column("id", MysqlType::kLong);
  column("name", MysqlType::kVarchar).max_bytes = 10;
  map.columns.back().charset = kLatin1;
  column("score", MysqlType::kFloat).pack_length = 4;
  column("u", MysqlType::kString).max_bytes = 16;
  map.columns.back().charset = kMysqlBinaryCharset;
  column("extra", MysqlType::kLong);
  return map;
}

struct ItemsMapping {
  ItemsMapping() {
    mapping.name = "items";
    mapping.source_table = "items";
    mapping.exclude = {"extra"};
    ResolvedTable& table = tables.emplace_back();
    table.mapping = &mapping;
    table.pk_count = 1;
    for (const auto& [name, type] : {std::pair{"id", "int(11)"}, {"name", "varchar(10)"}, {"score", "float"},
                                     {"u", "uuid"}}) {
      ResolvedColumn& column = table.columns.emplace_back();
      column.name = name;
      column.server.name = name;
      column.server.type = type;
      EXPECT_TRUE(ClassifyColumn(SourceType::kMysql, column.server, &column.type).ok());
    }
  }
  TableMapping mapping;
  std::vector<ResolvedTable> tables;
};

std::string Le32(uint32_t value) {
  std::string bytes;
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(value >> (8 * i)));
  return bytes;
}

// One full image: no NULLs.
std::string Image(int32_t id, const std::string& latin1_name, float score) {
  return std::string(1, '\0') + Le32(static_cast<uint32_t>(id)) + static_cast<char>(latin1_name.size()) +
         latin1_name + Le32(std::bit_cast<uint32_t>(score)) + static_cast<char>(16) + kUuidBytes + Le32(7);
}

BinlogRowsEvent Rows(BinlogRowsKind kind, const std::string& rows, std::vector<bool> present = {}) {
  BinlogRowsEvent event;
  event.kind = kind;
  event.table_id = kTableId;
  event.column_count = 5;
  event.present_columns = present.empty() ? std::vector<bool>(5, true) : present;
  if (kind == BinlogRowsKind::kUpdate) event.present_columns_after = event.present_columns;
  event.rows = rows;
  return event;
}

class BinlogChangeMapperTest : public ::testing::Test {
 protected:
  BinlogChangeMapperTest() : mapper_(items_.tables, "app") {}

  std::vector<CapturedRow> Map(const BinlogRowsEvent& event) {
    std::vector<CapturedRow> rows;
    const Status s = mapper_.OnRows(event, &rows);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }

  ItemsMapping items_;
  BinlogChangeMapper mapper_;
};

TEST_F(BinlogChangeMapperTest, MapsWritesUpdatesAndDeletesAsASelectWould) {
  ASSERT_TRUE(mapper_.OnTableMap(ItemsTableMap()).ok());
  const std::string written = Image(1, "caf\xe9\x80", 1.1f);
  const std::vector<CapturedRow> inserts = Map(Rows(BinlogRowsKind::kWrite, written));
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_EQ(inserts[0].kind, CapturedRow::Kind::kInsert);
  EXPECT_EQ(inserts[0].table, &items_.tables[0]);
  EXPECT_EQ(inserts[0].key, std::vector<Value>{Value::Integer(1)});
  // latin1 (cp1252) in UTF-8, a FLOAT as the server's 6 digits, the UUID as text.
  const std::vector<std::optional<Value>> values = {Value::Text("caf\xc3\xa9\xe2\x82\xac"), Value::Float(1.1),
                                                    Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")};
  EXPECT_EQ(inserts[0].values, values);

  const std::string same_key = Image(1, "caf\xe9\x80", 1.1f) + Image(1, "x", 2.5f);
  const std::vector<CapturedRow> updates = Map(Rows(BinlogRowsKind::kUpdate, same_key));
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].kind, CapturedRow::Kind::kUpdate);
  EXPECT_EQ(updates[0].values[0], std::optional<Value>(Value::Text("x")));
  EXPECT_EQ(updates[0].values[1], std::optional<Value>(Value::Float(2.5)));

  // A key change is a delete of the old key and an insert of the new.
  const std::string new_key = Image(1, "x", 2.5f) + Image(2, "x", 2.5f);
  const std::vector<CapturedRow> moved = Map(Rows(BinlogRowsKind::kUpdate, new_key));
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_EQ(moved[0].kind, CapturedRow::Kind::kDelete);
  EXPECT_EQ(moved[0].key, std::vector<Value>{Value::Integer(1)});
  EXPECT_TRUE(moved[0].values.empty());
  EXPECT_EQ(moved[1].kind, CapturedRow::Kind::kInsert);
  EXPECT_EQ(moved[1].key, std::vector<Value>{Value::Integer(2)});
  EXPECT_EQ(moved[1].values.size(), 3u);

  const std::vector<CapturedRow> deletes = Map(Rows(BinlogRowsKind::kDelete, Image(2, "x", 2.5f)));
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].kind, CapturedRow::Kind::kDelete);
  EXPECT_EQ(deletes[0].key, std::vector<Value>{Value::Integer(2)});
  EXPECT_TRUE(deletes[0].values.empty());
}

TEST_F(BinlogChangeMapperTest, NullsAndColumnsAnImageLeavesOut) {
  ASSERT_TRUE(mapper_.OnTableMap(ItemsTableMap()).ok());
  // name NULL (bit 1 of the null bitmap).
  const std::string with_null = std::string(1, '\x02') + Le32(3) + Le32(std::bit_cast<uint32_t>(0.5f)) +
                                static_cast<char>(16) + kUuidBytes + Le32(7);
  const std::vector<CapturedRow> rows = Map(Rows(BinlogRowsKind::kWrite, with_null));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].values[0], std::optional<Value>(Value::Null()));

  // binlog_row_image=MINIMAL: only id and score.
  const std::vector<bool> present = {true, false, true, false, false};
  const std::string minimal = std::string(1, '\0') + Le32(4) + Le32(std::bit_cast<uint32_t>(0.5f));
  const std::vector<CapturedRow> partial = Map(Rows(BinlogRowsKind::kWrite, minimal, present));
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial[0].values, (std::vector<std::optional<Value>>{std::nullopt, Value::Float(0.5), std::nullopt}));

  const std::vector<bool> no_key = {false, true, false, false, false};
  const std::string keyless = std::string(1, '\0') + static_cast<char>(1) + "a";
  std::vector<CapturedRow> none;
  EXPECT_EQ(mapper_.OnRows(Rows(BinlogRowsKind::kWrite, keyless, no_key), &none).code(), Status::Code::kCorruption);
}

TEST_F(BinlogChangeMapperTest, RefusesTablesWithoutAMappedColumnOrColumnNames) {
  BinlogTableMap renamed = ItemsTableMap();
  renamed.columns[2].name = "points";
  items_.mapping.columns = {{"id", "id"}, {"name", "name"}, {"score", "score"}, {"u", "u"}};  // score listed
  const Status missing = mapper_.OnTableMap(renamed);
  EXPECT_EQ(missing.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(missing.message().find("table items no longer has column score"), std::string::npos) << missing.ToString();
  EXPECT_NE(missing.message().find("score"), std::string::npos) << missing.ToString();

  const Status unnamed = mapper_.OnTableMap(ItemsTableMap(false));
  EXPECT_EQ(unnamed.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(unnamed.message().find("binlog_row_metadata"), std::string::npos) << unnamed.ToString();
}

// A column the table's mapping neither maps nor excludes (the app added it
// to a table mapped without a columns: list) stops capture for the
// mappings to be checked again; one a columns: list leaves out does not.
TEST(BinlogChangeMapperAddedColumnTest, AColumnTheMappingNeitherMapsNorExcludesMeansTheMappingsChanged) {
  ItemsMapping items;
  items.mapping.exclude.clear();
  BinlogChangeMapper mapper(items.tables, "app");
  const Status changed = mapper.OnTableMap(ItemsTableMap());
  EXPECT_TRUE(IsMappingsChanged(changed)) << changed.ToString();
  EXPECT_NE(changed.message().find("added column extra to items"), std::string::npos) << changed.message();
  items.mapping.columns = {{"id", "id"}, {"name", "name"}, {"score", "score"}, {"u", "u"}};
  EXPECT_TRUE(mapper.OnTableMap(ItemsTableMap()).ok());
}

// A value column dropped from a table mapped without a columns: list stops
// capture for the mappings to be checked again (the rest keeps syncing
// once they are); a key column, or one a columns: list names, is for a
// person to mend, and the error names it.
TEST(BinlogChangeMapperAddedColumnTest, ADroppedValueColumnMeansTheMappingsChangedAndADroppedKeyIsAnError) {
  ItemsMapping items;
  BinlogChangeMapper mapper(items.tables, "app");
  BinlogTableMap without_score = ItemsTableMap();
  without_score.columns.erase(without_score.columns.begin() + 2);
  const Status changed = mapper.OnTableMap(without_score);
  EXPECT_TRUE(IsMappingsChanged(changed)) << changed.ToString();
  EXPECT_NE(changed.message().find("dropped column score of items (mapped as items.score)"), std::string::npos)
      << changed.message();

  BinlogTableMap without_key = ItemsTableMap();
  without_key.columns.erase(without_key.columns.begin());
  const Status keyless = mapper.OnTableMap(without_key);
  EXPECT_EQ(keyless.code(), Status::Code::kInvalidArgument) << keyless.ToString();
  EXPECT_NE(keyless.message().find("no longer has column id"), std::string::npos) << keyless.message();

  items.mapping.columns = {{"id", "id"}, {"name", "name"}, {"score", "score"}, {"u", "u"}};
  const Status listed = mapper.OnTableMap(without_score);
  EXPECT_EQ(listed.code(), Status::Code::kInvalidArgument) << listed.ToString();
}

TEST_F(BinlogChangeMapperTest, SkipsUnmappedTablesAndRefusesRowsWithoutATableMap) {
  std::vector<CapturedRow> rows;
  EXPECT_EQ(mapper_.OnRows(Rows(BinlogRowsKind::kWrite, Image(1, "a", 1)), &rows).code(), Status::Code::kCorruption);

  BinlogTableMap other = ItemsTableMap();
  other.database = "elsewhere";  // the same table name in another database
  ASSERT_TRUE(mapper_.OnTableMap(other).ok());
  EXPECT_TRUE(mapper_.OnRows(Rows(BinlogRowsKind::kWrite, Image(1, "a", 1)), &rows).ok());
  EXPECT_TRUE(rows.empty());
}

// A value that does not map stops neither the event nor the stream: its
// row is a rejection naming the column, and only the key of a delete is
// read.
TEST_F(BinlogChangeMapperTest, ARowWithTextItCannotConvertIsARejectionNamingTheColumn) {
  BinlogTableMap map = ItemsTableMap();
  map.columns[1].charset = 28;  // gbk
  ASSERT_TRUE(mapper_.OnTableMap(map).ok());
  const std::vector<CapturedRow> rows =
      Map(Rows(BinlogRowsKind::kWrite, Image(1, "\xd6\xd0", 1) + Image(2, "ascii", 1)));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, std::vector<Value>{Value::Integer(1)});
  EXPECT_NE(rows[0].rejection.find("items.name: "), std::string::npos) << rows[0].rejection;
  EXPECT_TRUE(rows[1].rejection.empty()) << rows[1].rejection;
  EXPECT_EQ(rows[1].values[0], std::optional<Value>(Value::Text("ascii")));

  const std::vector<CapturedRow> deletes = Map(Rows(BinlogRowsKind::kDelete, Image(1, "\xd6\xd0", 1)));
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].kind, CapturedRow::Kind::kDelete);
  EXPECT_TRUE(deletes[0].rejection.empty()) << deletes[0].rejection;
}

}  // namespace
}  // namespace crbridge
