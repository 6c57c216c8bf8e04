#include "crbridge/mappings/client_schema.h"

#include <gtest/gtest.h>

namespace crbridge {
namespace {

// Values of cryb64 from @vlcn.io/xplat-api 0.15 for the same strings.
TEST(ClientSchemaTest, SchemaVersionIsTheVlcnClientsHash) {
  EXPECT_EQ(SchemaVersion(""), 5227514475777527171);
  EXPECT_EQ(SchemaVersion("a"), 5772536816540940545);
  EXPECT_EQ(SchemaVersion("CREATE TABLE t (id PRIMARY KEY);"), 4915181865052784315);
  EXPECT_EQ(SchemaVersion("h\xc3\xa9llo w\xc3\xb6rld"), -1668948687270805195);
  EXPECT_EQ(SchemaVersion("emoji \xf0\x9f\x8e\x89 and \xe6\xbc\xa2\xe5\xad\x97"), 5669543863145968833);
  EXPECT_EQ(SchemaVersion(std::string(1000, 'x')), -9107833973389318341);
}

ResolvedColumn Column(const std::string& name, const std::string& type, bool not_null, const std::string& default_expression,
                      int pk_position = 0) {
  ServerColumn server{name, type, false, not_null, !default_expression.empty(), pk_position, default_expression};
  ColumnType column_type;
  EXPECT_TRUE(ClassifyColumn(SourceType::kPostgres, server, &column_type).ok());
  return ResolvedColumn{name, server, column_type};
}

TEST(ClientSchemaTest, CreatesEachTableWithItsKeyAndTheDefaultsSqliteCanExpress) {
  TableMapping mapping;
  mapping.name = "notes";
  ResolvedTable table{&mapping,
                      {Column("space", "text", true, "", 1), Column("n", "bigint", true, "", 2),
                       Column("body", "text", true, "''::text"), Column("pinned", "boolean", true, "false"),
                       Column("weight", "double precision", false, "'-1.5'::double precision"),
                       Column("created", "timestamp with time zone", true, "now()"),
                       Column("status", "character varying(10)", false, "'it''s'::character varying"),
                       Column("data", "bytea", false, "")},
                      2,
                      std::nullopt,
                      std::nullopt};
  EXPECT_EQ(ClientSchemaSql({table}),
            "CREATE TABLE IF NOT EXISTS \"notes\" (\n"
            "  \"space\" TEXT NOT NULL,\n"
            "  \"n\" INTEGER NOT NULL,\n"
            "  \"body\" TEXT NOT NULL DEFAULT '',\n"
            "  \"pinned\" INTEGER NOT NULL DEFAULT 0,\n"
            "  \"weight\" REAL DEFAULT -1.5,\n"
            "  \"created\" TEXT,\n"
            "  \"status\" TEXT DEFAULT 'it''s',\n"
            "  \"data\" BLOB,\n"
            "  PRIMARY KEY (\"space\", \"n\")\n"
            ");\n"
            "SELECT crsql_as_crr('notes');\n");
}

TEST(ClientSchemaTest, MysqlDefaultsToo) {
  ColumnType type;
  ASSERT_TRUE(ClassifyColumn(SourceType::kMysql, ServerColumn{"c", "varchar(20)", false, true, true, 0, "'open'"}, &type).ok());
  EXPECT_EQ(SqliteDefault(type, "'open'"), "'open'");
  EXPECT_EQ(SqliteDefault(type, "current_timestamp()"), "");
  EXPECT_EQ(SqliteDefault(type, "NULL"), "");
  ASSERT_TRUE(ClassifyColumn(SourceType::kMysql, ServerColumn{"c", "int(11)", false, true, true, 0, "0"}, &type).ok());
  EXPECT_EQ(SqliteDefault(type, "0"), "0");
}

}  // namespace
}  // namespace crbridge
