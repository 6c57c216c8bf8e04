#include "crbridge/sqlite/packed_pk.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "crbridge/sqlite/crr.h"
#include "golden/golden_file.h"

namespace crbridge {
namespace {

using testing::ReadGolden;

// Every key in tests/data/packed_pk.golden was packed by the real
// crsqlite-wasm from SQL literals; the native layer must produce the same
// bytes from the same literals, and decode them back to the same values.
TEST(PackedPkTest, MatchesCrSqliteWasmByteForByte) {
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  const auto cases = ReadGolden("packed_pk.golden");
  ASSERT_GE(cases.size(), 40u);
  for (const auto& golden : cases) {
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = "SELECT crsql_pack_columns(" + golden.name + ")";
    ASSERT_EQ(sqlite3_prepare_v2(db->handle(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 0));
    const Blob packed(data, data + sqlite3_column_bytes(stmt, 0));
    EXPECT_EQ(packed, golden.bytes) << golden.name.substr(0, 60);

    std::vector<Value> columns;
    ASSERT_TRUE(DecodePackedPk(golden.bytes, &columns).ok()) << golden.name.substr(0, 60);
    EXPECT_EQ(columns.size(), golden.bytes[0]);
    Blob reencoded;
    ASSERT_TRUE(EncodePackedPk(columns, &reencoded).ok());
    EXPECT_EQ(reencoded, golden.bytes) << golden.name.substr(0, 60);
    sqlite3_finalize(stmt);
  }
}

TEST(PackedPkTest, DecodesToTheValuesThatWerePacked) {
  const std::vector<Value> values = {Value::Text("k"), Value::Integer(-5), Value::Float(2.5), Value::Null(),
                                     Value::BlobValue({1, 2, 3}), Value::Integer(128), Value::Text("")};
  Blob packed;
  ASSERT_TRUE(EncodePackedPk(values, &packed).ok());
  std::vector<Value> decoded;
  ASSERT_TRUE(DecodePackedPk(packed, &decoded).ok());
  EXPECT_EQ(decoded, values);
}

TEST(PackedPkTest, RejectsMalformedKeys) {
  const std::vector<std::pair<const char*, Blob>> bad = {
      {"empty", {}},
      {"count without columns", {0x01}},
      {"truncated integer", {0x01, 0x11, 0x01}},
      {"integer wider than 8 bytes", {0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
      {"truncated float", {0x01, 0x02, 0x3f, 0xf8}},
      {"float with a width", {0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0}},
      {"text longer than the buffer", {0x01, 0x0b, 0x05, 'a', 'b'}},
      {"blob length truncated", {0x01, 0x14, 0x01}},
      {"length wider than 4 bytes", {0x01, 0x2b, 0, 0, 0, 0, 1, 'a'}},
      {"NULL with a payload", {0x01, 0x0d}},
      {"unknown type 0", {0x01, 0x00}},
      {"unknown type 6", {0x01, 0x06}},
      {"trailing bytes", {0x01, 0x09, 0x01, 0xff}},
      {"fewer columns than counted", {0x02, 0x09, 0x01}},
  };
  for (const auto& [what, bytes] : bad) {
    std::vector<Value> columns;
    EXPECT_EQ(DecodePackedPk(bytes, &columns).code(), Status::Code::kCorruption) << what;
  }
}

TEST(PackedPkTest, AtMost255Columns) {
  const std::vector<Value> too_many(256, Value::Integer(1));
  Blob packed;
  EXPECT_EQ(EncodePackedPk(too_many, &packed).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace crbridge
