// ServedSchema: what a client moving between schema versions lacks, which
// changes a client of a version has the table and column of, and the
// columns' stored form.
#include "crbridge/server/core/served_schema.h"

#include <gtest/gtest.h>

namespace crbridge {
namespace {

Change ColumnChange(const std::string& table, const std::string& cid) {
  return Change{table, Blob{1, 9, 1}, cid, Value::Text("x"), 1, 5, std::nullopt, 1, 0};
}

TEST(ServedSchemaTest, AnUpgradeAddsNewTablesWholeAndNewColumnsOfTablesBothHave) {
  const SchemaColumns first = {{"todos", {"title", "done"}}, {"todo_lists", {"name"}}};
  const SchemaColumns second = {{"todos", {"title", "done", "priority"}}, {"todo_lists", {"name"}}, {"tags", {"label"}}};
  const AddedColumns added = ColumnsAdded(first, second);
  EXPECT_EQ(added.columns, (SchemaColumns{{"todos", {"priority"}}}));
  EXPECT_EQ(added.tables, (std::set<std::string>{"tags"}));
  EXPECT_TRUE(AddedHas(added, ColumnChange("todos", "priority")));
  EXPECT_FALSE(AddedHas(added, ColumnChange("todos", "title")));
  EXPECT_FALSE(AddedHas(added, ColumnChange("todos", kSentinelColumn))) << "todos rows exist on the client";
  EXPECT_TRUE(AddedHas(added, ColumnChange("tags", kSentinelColumn)));
  EXPECT_TRUE(AddedHas(added, ColumnChange("tags", "label")));
  EXPECT_TRUE(ColumnsAdded(second, first).empty()) << "going back adds nothing";
  EXPECT_TRUE(ColumnsAdded(first, first).empty());
}

TEST(ServedSchemaTest, AClientOfAVersionHasItsTablesAndColumnsOnly) {
  const SchemaColumns first = {{"todos", {"title", "done"}}};
  EXPECT_TRUE(SchemaHas(first, ColumnChange("todos", "title")));
  EXPECT_TRUE(SchemaHas(first, ColumnChange("todos", kSentinelColumn)));
  EXPECT_FALSE(SchemaHas(first, ColumnChange("todos", "priority")));
  EXPECT_FALSE(SchemaHas(first, ColumnChange("tags", kSentinelColumn)));
}

TEST(ServedSchemaTest, ColumnsRoundTripAndCorruptTextIsSaidSo) {
  const SchemaColumns columns = {{"todos", {"title", "d\"one"}}, {"empty", {}}};
  SchemaColumns decoded;
  ASSERT_TRUE(DecodeSchemaColumns(EncodeSchemaColumns(columns), &decoded).ok());
  EXPECT_EQ(decoded, columns);
  for (const std::string bad : {"", "[]", R"({"todos": "title"})", R"({"todos": [1]})"}) {
    EXPECT_EQ(DecodeSchemaColumns(bad, &decoded).code(), Status::Code::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace crbridge
