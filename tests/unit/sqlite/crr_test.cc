// The native CRR layer against what the published cr-sqlite (0.16) was
// observed to record for the same statements (tests/interop checks the same
// with randomized workloads against the real thing).
#include "crbridge/sqlite/crr.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "crbridge/sqlite/packed_pk.h"
#include "crr/local_write_cases.h"
#include "processes/subprocess.h"

namespace crbridge {
namespace {

// Rows of `sql`, each as its columns' quote() forms joined by "|".
std::vector<std::string> Rows(CrrDatabase& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.handle(), ("SELECT * FROM (" + sql + ")").c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db.handle());
  std::vector<std::string> rows;
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      sqlite3_stmt* quote = nullptr;
      sqlite3_prepare_v2(db.handle(), "SELECT quote(?)", -1, &quote, nullptr);
      sqlite3_bind_value(quote, 1, sqlite3_column_value(stmt, i));
      sqlite3_step(quote);
      if (i > 0) row += '|';
      row += reinterpret_cast<const char*>(sqlite3_column_text(quote, 0));
      sqlite3_finalize(quote);
    }
    rows.push_back(row);
  }
  sqlite3_finalize(stmt);
  return rows;
}

// cid|val|col_version|db_version|cl|seq of every change, in order.
std::vector<std::string> Changes(CrrDatabase& db) {
  return Rows(db, "SELECT cid, val, col_version, db_version, cl, seq FROM crsql_changes ORDER BY db_version, seq");
}

std::unique_ptr<CrrDatabase> OpenTodo() {
  std::unique_ptr<CrrDatabase> db;
  EXPECT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  EXPECT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b)").ok());
  EXPECT_TRUE(db->MakeCrr("t").ok());
  return db;
}

Blob Pk(int64_t id) {
  Blob pk;
  const Value v = Value::Integer(id);
  EXPECT_TRUE(EncodePackedPk(std::span(&v, 1), &pk).ok());
  return pk;
}

SiteId Site(uint8_t b) {
  SiteId s;
  s.fill(b);
  return s;
}

Change Col(int64_t id, const char* cid, Value val, int64_t col_version, int64_t db_version, int64_t cl,
           int64_t seq = 0) {
  return Change{"t", Pk(id), cid, std::move(val), col_version, db_version, Site(7), cl, seq};
}

void Apply(CrrDatabase& db, const Changeset& changes) {
  const Status s = db.ApplyChanges(changes);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// The update trigger hands over which columns changed, not their values,
// so a table may have more columns than a SQL function has arguments.
TEST(CrrLocalWritesTest, AnUpdateOfAWideTableRecordsTheColumnsItChanged) {
  std::string columns;
  for (int column = 1; column <= 150; ++column) columns += ", c" + std::to_string(column);
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE w (id INTEGER PRIMARY KEY NOT NULL" + columns +
                       "); SELECT crsql_as_crr('w');"
                       "INSERT INTO w (id, c1, c150) VALUES (1, 'x', 'y'); UPDATE w SET c75 = 'z', c150 = 'y2'")
                  .ok());
  EXPECT_EQ(Rows(*db, "SELECT cid, val, col_version FROM crsql_changes WHERE db_version = 2"),
            (std::vector<std::string>{"'c75'|'z'|2", "'c150'|'y2'|2"}));
}

// Files made by earlier crbridge versions have update triggers that hand
// over the new and the old values; they keep recording updates.
TEST(CrrLocalWritesTest, AnUpdateTriggerOfAnEarlierVersionStillRecords) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("DROP TRIGGER t__crsql_utrig; CREATE TRIGGER t__crsql_utrig AFTER UPDATE ON t "
                       "WHEN crsql_internal_sync_bit() = 0 BEGIN "
                       "SELECT crsql_after_update('t', NEW.id, OLD.id, NEW.a, NEW.b, OLD.a, OLD.b); END;"
                       "INSERT INTO t VALUES (1, 'x', 'y'); UPDATE t SET b = 'z'")
                  .ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'a'|'x'|1|1|1|0", "'b'|'z'|2|2|1|0"}));
}

// As cr-sqlite, which compares text byte for byte: a change of case is a
// change, whatever the column's collation.
TEST(CrrLocalWritesTest, ACaseChangeInANocaseColumnIsAChange) {
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE n (id INTEGER PRIMARY KEY NOT NULL, name TEXT COLLATE NOCASE);"
                       "SELECT crsql_as_crr('n'); INSERT INTO n VALUES (1, 'ada'); UPDATE n SET name = 'Ada'")
                  .ok());
  EXPECT_EQ(Rows(*db, "SELECT cid, val, col_version FROM crsql_changes"), (std::vector<std::string>{"'name'|'Ada'|2"}));
}

TEST(CrrLocalWritesTest, LifecycleOfARowMatchesCrSqlite) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'x', 'y')").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'a'|'x'|1|1|1|0", "'b'|'y'|1|1|1|1"}));

  ASSERT_TRUE(db->Exec("UPDATE t SET a = 'x2' WHERE id = 1").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'b'|'y'|1|1|1|1", "'a'|'x2'|2|2|1|0"}));

  ASSERT_TRUE(db->Exec("UPDATE t SET a = 'x2', b = 'y' WHERE id = 1").ok());  // same values: no change
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'b'|'y'|1|1|1|1", "'a'|'x2'|2|2|1|0"}));

  ASSERT_TRUE(db->Exec("DELETE FROM t WHERE id = 1").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'-1'|NULL|2|3|2|0"}));

  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'z', NULL)").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'-1'|NULL|3|4|3|0", "'a'|'z'|1|4|3|1", "'b'|NULL|1|4|3|2"}));

  ASSERT_TRUE(db->Exec("INSERT OR REPLACE INTO t VALUES (1, 'r', 'r')").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'-1'|NULL|5|5|5|0", "'a'|'r'|2|5|5|1", "'b'|'r'|2|5|5|2"}));

  ASSERT_TRUE(db->Exec("BEGIN; UPDATE t SET a = 'm1' WHERE id = 1; UPDATE t SET a = 'm2' WHERE id = 1; COMMIT").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'-1'|NULL|5|5|5|0", "'b'|'r'|2|5|5|2", "'a'|'m2'|4|6|5|1"}));
  int64_t version = 0;
  ASSERT_TRUE(db->DbVersion(&version).ok());
  EXPECT_EQ(version, 6);
}

TEST(CrrLocalWritesTest, TableWithOnlyAPrimaryKeyRecordsASentinel) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("CREATE TABLE tags (name TEXT PRIMARY KEY NOT NULL); SELECT crsql_as_crr('tags');").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO tags VALUES ('red')").ok());
  EXPECT_EQ(Rows(*db, "SELECT \"table\", hex(pk), cid, col_version, cl FROM crsql_changes"),
            (std::vector<std::string>{"'tags'|'010B03726564'|'-1'|1|1"}));
}

TEST(CrrLocalWritesTest, PrimaryKeyChangeKillsTheOldKeyAndCarriesTheColumns) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'x', 'y')").ok());
  ASSERT_TRUE(db->Exec("UPDATE t SET id = 3 WHERE id = 1").ok());
  EXPECT_EQ(Rows(*db, "SELECT hex(pk), cid, val, col_version, cl FROM crsql_changes ORDER BY pk, cid"),
            (std::vector<std::string>{"'010901'|'-1'|NULL|2|2", "'010903'|'-1'|NULL|1|1", "'010903'|'a'|'x'|1|1",
                                      "'010903'|'b'|'y'|1|1"}));
  // Moved clocks carry this write's db_version, so a peer that already saw
  // version 1 still learns the new row's values.
  EXPECT_EQ(Rows(*db, "SELECT count(*) FROM crsql_changes WHERE db_version > 1"), (std::vector<std::string>{"4"}));
}

TEST(CrrLocalWritesTest, RowsThatExistedBeforeBecomingACrrGetClocks) {
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a); INSERT INTO t VALUES (1, 'old');").ok());
  ASSERT_TRUE(db->MakeCrr("t").ok());
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'a'|'old'|1|1|1|0"}));
  ASSERT_TRUE(db->MakeCrr("t").ok());  // again: nothing changes
  EXPECT_EQ(Changes(*db), (std::vector<std::string>{"'a'|'old'|1|1|1|0"}));
}

TEST(CrrLocalWritesTest, RefusesTablesItCannotReplicate) {
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE nopk (a); CREATE TABLE strict_col (id INTEGER PRIMARY KEY, a NOT NULL)").ok());
  EXPECT_NE(db->MakeCrr("nopk").message().find("has no primary key"), std::string::npos);
  EXPECT_NE(db->MakeCrr("strict_col").message().find("NOT NULL without a default"), std::string::npos);
  EXPECT_NE(db->MakeCrr("missing").message().find("no such table"), std::string::npos);
}

class CrrLocalWriteCaseTest : public ::testing::TestWithParam<testing::LocalWriteCase> {};

TEST_P(CrrLocalWriteCaseTest, RecordsWhatCrSqliteRecords) {
  auto db = OpenTodo();
  const Status s = db->Exec(GetParam().statements);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Rows(*db, "SELECT hex(pk), cid, col_version, cl FROM crsql_changes"), GetParam().changes);
}

INSTANTIATE_TEST_SUITE_P(Cases, CrrLocalWriteCaseTest, ::testing::ValuesIn(testing::LocalWriteCases()),
                         [](const ::testing::TestParamInfo<testing::LocalWriteCase>& test) {
                           return std::string(test.param.name);
                         });

// Readers page through crsql_changes by the last row's version: without
// an ORDER BY its rows must already come in db_version, seq order, across
// tables, and a db_version bound must hold whatever the plan.
TEST(CrrChangesTest, RowsComeInVersionThenSeqOrderAcrossTables) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("CREATE TABLE u (id INTEGER PRIMARY KEY NOT NULL, c); SELECT crsql_as_crr('u');").ok());
  ASSERT_TRUE(
      db->Exec("BEGIN; INSERT INTO u VALUES (9, 'u9'); INSERT INTO t VALUES (1, 'x', 'y'); "
               "INSERT INTO u VALUES (1, 'u1'); COMMIT; UPDATE t SET a = 'x2'; UPDATE u SET c = 'v' WHERE id = 9")
          .ok());
  EXPECT_EQ(Rows(*db, "SELECT db_version, seq, cid, val FROM crsql_changes"),
            (std::vector<std::string>{"1|2|'b'|'y'", "1|3|'c'|'u1'", "2|0|'a'|'x2'", "3|0|'c'|'v'"}));
  EXPECT_EQ(Rows(*db, "SELECT db_version, seq, cid FROM crsql_changes WHERE db_version > 1"),
            (std::vector<std::string>{"2|0|'a'", "3|0|'c'"}));
  EXPECT_EQ(Rows(*db, "SELECT db_version, seq FROM crsql_changes WHERE db_version >= 2 AND db_version < 3"),
            (std::vector<std::string>{"2|0"}));
  EXPECT_EQ(Rows(*db, "SELECT cid FROM crsql_changes ORDER BY db_version DESC, seq DESC LIMIT 2"),
            (std::vector<std::string>{"'c'", "'a'"}));
}

// A moved key's columns are changes of this write: no (db_version, seq)
// pair may repeat, or a reader paging by them would skip one.
TEST(CrrChangesTest, AMovedKeyGivesEveryChangeItsOwnSeq) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'x', 'y'); UPDATE t SET id = 2, a = 'z' WHERE id = 1").ok());
  EXPECT_EQ(Rows(*db, "SELECT count(*), count(DISTINCT db_version || '.' || seq) FROM crsql_changes"),
            (std::vector<std::string>{"4|4"}));
}

TEST(CrrChangesTest, OnlyInsertsAreAccepted) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'x', 'y')").ok());
  EXPECT_NE(db->Exec("DELETE FROM crsql_changes").message().find("only INSERT"), std::string::npos);
  EXPECT_NE(db->Exec("UPDATE crsql_changes SET val = 1").message().find("only INSERT"), std::string::npos);
  EXPECT_EQ(Rows(*db, "SELECT count(*) FROM crsql_changes"), (std::vector<std::string>{"2"}));
}

// crsql_pack_columns gives the pk crsql_changes carries for the row.
TEST(CrrChangesTest, PackColumnsGivesTheKeyOfTheChanges) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("CREATE TABLE m (k TEXT NOT NULL, n INTEGER NOT NULL, v, PRIMARY KEY (k, n)); "
                       "SELECT crsql_as_crr('m'); INSERT INTO m VALUES ('key', -5, 1.5)")
                  .ok());
  EXPECT_EQ(Rows(*db, "SELECT pk = crsql_pack_columns('key', -5) FROM crsql_changes WHERE \"table\" = 'm'"),
            (std::vector<std::string>{"1"}));
}

// Rows already in a table become changes of one db_version, written
// atomically, even when crsql_as_crr runs outside a transaction (each of
// its writes would otherwise commit on its own).
TEST(CrrLocalWritesTest, ExistingRowsGetOneVersionOutsideATransaction) {
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a); "
                       "INSERT INTO t VALUES (1, 'p'), (2, 'q'), (3, 'r'); SELECT crsql_as_crr('t');")
                  .ok());
  EXPECT_EQ(Rows(*db, "SELECT DISTINCT db_version FROM crsql_changes"), (std::vector<std::string>{"1"}));
  EXPECT_EQ(Rows(*db, "SELECT seq FROM crsql_changes"), (std::vector<std::string>{"0", "1", "2"}));
}

// What cr-sqlite refuses, with its reasons.
TEST(CrrLocalWritesTest, RefusesTheSchemasCrSqliteRefuses) {
  for (const auto& [schema, reason] : testing::RefusedSchemas()) {
    std::unique_ptr<CrrDatabase> db;
    ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
    ASSERT_TRUE(db->Exec(schema).ok()) << schema;
    const Status s = db->MakeCrr("x");
    EXPECT_NE(s.message().find(reason), std::string::npos) << schema << ": " << s.ToString();
    EXPECT_EQ(Rows(*db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'x__crsql%'"),
              (std::vector<std::string>{"0"}))
        << schema;
  }
  // An index that is not unique is fine.
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(":memory:", &db).ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE x (id INTEGER PRIMARY KEY NOT NULL, e); CREATE INDEX x_e ON x (e)").ok());
  EXPECT_TRUE(db->MakeCrr("x").ok());
}

// crsql_config_set('merge-equal-values', 1), as cr-sqlite: kept in
// crsql_master across connections; equal values at equal clocks then go
// to the greater site id, so every peer settles on the same writer.
TEST(CrrMergeTest, MergeEqualValuesTieBreaksOnTheSiteId) {
  const std::string path = (std::filesystem::temp_directory_path() / "crbridge_crr_config_test.db").string();
  std::filesystem::remove(path);
  {
    std::unique_ptr<CrrDatabase> db;
    ASSERT_TRUE(CrrDatabase::Open(path, &db).ok());
    EXPECT_EQ(Rows(*db, "SELECT crsql_config_set('merge-equal-values', 1)"), (std::vector<std::string>{"1"}));
    EXPECT_NE(db->Exec("SELECT crsql_config_set('no-such-setting', 1)").message().find("Unknown setting"),
              std::string::npos);
  }
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(path, &db).ok());
  EXPECT_EQ(Rows(*db, "SELECT crsql_config_get('merge-equal-values')"), (std::vector<std::string>{"1"}));
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b); SELECT crsql_as_crr('t')").ok());
  Apply(*db, {Change{"t", Pk(1), "a", Value::Text("same"), 1, 1, Site(0x10), 1, 0}});
  const auto writer = [&] { return Rows(*db, "SELECT hex(site_id) FROM crsql_changes WHERE cid = 'a'"); };
  Apply(*db, {Change{"t", Pk(1), "a", Value::Text("same"), 1, 1, Site(0x05), 1, 0}});  // lesser: ignored
  EXPECT_EQ(writer(), (std::vector<std::string>{"'10101010101010101010101010101010'"}));
  Apply(*db, {Change{"t", Pk(1), "a", Value::Text("same"), 1, 1, Site(0x20), 1, 0}});  // greater: wins
  EXPECT_EQ(writer(), (std::vector<std::string>{"'20202020202020202020202020202020'"}));
  ASSERT_TRUE(db->Exec("SELECT crsql_config_set('merge-equal-values', 0)").ok());
  Apply(*db, {Change{"t", Pk(1), "a", Value::Text("same"), 1, 1, Site(0x30), 1, 0}});  // option off: ignored
  EXPECT_EQ(writer(), (std::vector<std::string>{"'20202020202020202020202020202020'"}));
  db.reset();
  std::filesystem::remove(path);
}

// Each step applies changes from site 7 to one database, in order; the
// expected rows are what the published extension recorded in the same case.
// An alter is opened and closed once (crsql_begin_alter, then
// crsql_commit_alter); one that cannot be followed is rolled back whole,
// and the table records writes as before.
TEST(CrrAlterTest, AlterCallsPairUpAndAFailedCommitLeavesTheTableAsItWas) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'x', 'y')").ok());
  const Status unopened = db->Exec("SELECT crsql_commit_alter('t')");
  EXPECT_NE(unopened.message().find("no crsql_begin_alter of t"), std::string::npos) << unopened.ToString();
  ASSERT_TRUE(db->Exec("SELECT crsql_begin_alter('t')").ok());
  const Status twice = db->Exec("SELECT crsql_begin_alter('t')");
  EXPECT_NE(twice.message().find("being altered already"), std::string::npos) << twice.ToString();
  // A NOT NULL column without a default cannot be replicated (LoadCrrTable).
  ASSERT_TRUE(db->Exec("CREATE TABLE t_new (id INTEGER PRIMARY KEY NOT NULL, a, b, c NOT NULL); "
                       "INSERT INTO t_new SELECT id, a, b, 0 FROM t; DROP TABLE t; ALTER TABLE t_new RENAME TO t")
                  .ok());
  const Status refused = db->Exec("SELECT crsql_commit_alter('t')");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(Rows(*db, "SELECT name FROM pragma_table_info('t')"), (std::vector<std::string>{"'id'", "'a'", "'b'"}));
  ASSERT_TRUE(db->Exec("UPDATE t SET a = 'z' WHERE id = 1").ok());
  EXPECT_EQ(Rows(*db, "SELECT cid, val, col_version FROM crsql_changes WHERE cid = 'a'"),
            (std::vector<std::string>{"'a'|'z'|2"}));
  ASSERT_TRUE(db->Exec("SELECT crsql_begin_alter('t'); ALTER TABLE t ADD COLUMN c").ok());
  // crsql_changes stays readable in the middle of the alter, as cr-sqlite's.
  EXPECT_EQ(Rows(*db, "SELECT count(*) FROM crsql_changes"), (std::vector<std::string>{"2"}));
  ASSERT_TRUE(db->Exec("SELECT crsql_commit_alter('t')").ok());
}

TEST(CrrMergeTest, MergesLikeCrSqlite) {
  auto db = OpenTodo();
  const auto row = [&](int64_t id) {
    return Rows(*db, "SELECT cid, col_version, cl FROM crsql_changes WHERE pk = crsql_pack_columns(" +
                         std::to_string(id) + ") ORDER BY cid");
  };
  const auto table = [&] { return Rows(*db, "SELECT * FROM t ORDER BY id"); };

  Apply(*db, {Col(1, "a", Value::Text("hello"), 3, 10, 1)});  // unknown row: created, no sentinel
  EXPECT_EQ(row(1), (std::vector<std::string>{"'a'|3|1"}));
  EXPECT_EQ(table(), (std::vector<std::string>{"1|'hello'|NULL"}));

  Apply(*db, {Col(2, "-1", Value::Null(), 2, 11, 2)});  // delete of an unknown row
  EXPECT_EQ(row(2), (std::vector<std::string>{"'-1'|2|2"}));

  Apply(*db, {Col(1, "b", Value::Text("bee"), 1, 12, 3)});  // resurrect via a column: others zeroed
  EXPECT_EQ(row(1), (std::vector<std::string>{"'-1'|3|3", "'a'|0|3", "'b'|1|3"}));
  EXPECT_EQ(table(), (std::vector<std::string>{"1|'hello'|'bee'"}));

  Apply(*db, {Col(1, "a", Value::Integer(5), 3, 13, 3)});
  EXPECT_EQ(table(), (std::vector<std::string>{"1|5|'bee'"}));

  Apply(*db, {Col(1, "-1", Value::Null(), 3, 14, 3)});  // same cl: nothing
  EXPECT_EQ(row(1), (std::vector<std::string>{"'-1'|3|3", "'a'|3|3", "'b'|1|3"}));

  Apply(*db, {Col(9, "-1", Value::Null(), 1, 15, 1)});  // sentinel creates an empty row
  EXPECT_EQ(table(), (std::vector<std::string>{"1|5|'bee'", "9|NULL|NULL"}));

  Apply(*db, {Col(20, "a", Value::Text("m"), 1, 16, 1), Col(20, "b", Value::Text("n"), 1, 16, 1, 1)});
  Apply(*db, {Col(20, "a", Value::Float(9.5), 1, 17, 1)});         // tie: float beats text
  Apply(*db, {Col(20, "a", Value::Integer(9), 1, 18, 1)});         // tie: integer beats float
  Apply(*db, {Col(20, "b", Value::BlobValue({0xff}), 1, 19, 1)});  // tie: blob loses to text
  EXPECT_EQ(table().back(), "20|9|'n'");

  Apply(*db, {Col(1, "-1", Value::Null(), 4, 40, 4)});  // delete: column clocks go
  EXPECT_EQ(row(1), (std::vector<std::string>{"'-1'|4|4"}));
  Apply(*db, {Col(1, "-1", Value::Null(), 5, 41, 5)});  // resurrect by sentinel: an empty row
  EXPECT_EQ(table().front(), "1|NULL|NULL");
}

TEST(CrrMergeTest, MergedChangesTakeTheHigherDbVersionAndKeepTheirSeq) {
  auto db = OpenTodo();
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'x', 'y'); UPDATE t SET a = 'x2' WHERE id = 1;").ok());
  Apply(*db, {Col(1, "b", Value::Text("yy"), 5, 1, 1, 3)});  // incoming 1 < local 2: the next local version
  Apply(*db, {Col(2, "a", Value::Text("p"), 1, 2, 1), Col(3, "a", Value::Text("q"), 1, 25, 1),
              Col(4, "a", Value::Text("r"), 1, 30, 1, 7)});
  EXPECT_EQ(Rows(*db, "SELECT hex(pk), db_version, seq FROM crsql_changes WHERE db_version > 2 ORDER BY db_version"),
            (std::vector<std::string>{"'010901'|3|3", "'010902'|4|0", "'010903'|25|0", "'010904'|30|7"}));
  int64_t version = 0;
  ASSERT_TRUE(db->DbVersion(&version).ok());
  EXPECT_EQ(version, 30);
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (10, 'l', 'm')").ok());
  EXPECT_EQ(
      Rows(*db,
           "SELECT db_version, seq, site_id = crsql_site_id() FROM crsql_changes WHERE pk = crsql_pack_columns(10)"),
      (std::vector<std::string>{"31|0|1", "31|1|1"}));
}

TEST(CrrMergeTest, ReappliedAndReorderedChangesetsGiveTheSameState) {
  auto source = OpenTodo();
  ASSERT_TRUE(source
                  ->Exec("INSERT INTO t VALUES (1, 'a', 1); INSERT INTO t VALUES (2, 'b', 2.5); "
                         "UPDATE t SET a = 'c' WHERE id = 1; DELETE FROM t WHERE id = 2; "
                         "INSERT INTO t VALUES (2, x'00', NULL);")
                  .ok());
  Changeset changes;
  ASSERT_TRUE(source->ChangesSince(0, std::nullopt, &changes).ok());
  auto forward = OpenTodo();
  auto backward = OpenTodo();
  Apply(*forward, changes);
  Apply(*forward, changes);
  Apply(*backward, Changeset(changes.rbegin(), changes.rend()));
  const std::string state = "SELECT hex(pk), cid, val, col_version, cl FROM crsql_changes ORDER BY pk, cid";
  EXPECT_EQ(Rows(*forward, state), Rows(*source, state));
  EXPECT_EQ(Rows(*backward, state), Rows(*source, state));
  EXPECT_EQ(Rows(*forward, "SELECT * FROM t ORDER BY id"), Rows(*source, "SELECT * FROM t ORDER BY id"));
  EXPECT_EQ(Rows(*backward, "SELECT * FROM t ORDER BY id"), Rows(*source, "SELECT * FROM t ORDER BY id"));
}

// ApplyChanges writes a run of changes that creates a new row as one row
// (MergeChanges); the result must be what merging each change in turn
// through crsql_changes gives: values, clocks, db_versions, seqs, writers.
TEST(CrrMergeTest, ABatchMergesAsItsChangesOneByOne) {
  const Changeset changes = {
      Col(1, "a", Value::Text("x"), 1, 4, 1, 0),
      Col(1, "b", Value::Integer(2), 3, 5, 1, 1),  // a new row
      Col(2, "a", Value::Text("p"), 1, 4, 1, 2),
      Col(2, "a", Value::Text("q"), 2, 4, 1, 3),  // a column twice
      Col(3, "-1", Value::Null(), 1, 6, 3, 0),
      Col(3, "a", Value::Text("r"), 1, 6, 3, 1),  // a later life
      Col(4, "a", Value::Text("s"), 1, 6, 1, 2),
      Col(4, "b", Value::Text("t"), 1, 6, 1, 3),                       // over a local row
      Col(5, "b", Value::Text("u"), 1, 2, 1, 0),                       // one column
      Change{"t", Pk(6), "a", Value::Text("v"), 1, 7, Site(9), 1, 0},  // two writers
      Col(6, "b", Value::Text("w"), 1, 7, 1, 1),
  };
  auto batched = OpenTodo();
  auto one_by_one = OpenTodo();
  for (CrrDatabase* db : {batched.get(), one_by_one.get()})
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (4, 'l', 'l')").ok());
  Apply(*batched, changes);
  ASSERT_TRUE(one_by_one->Exec("BEGIN").ok());  // one transaction, as the batch's
  for (const Change& c : changes) Apply(*one_by_one, {c});
  ASSERT_TRUE(one_by_one->Exec("COMMIT").ok());
  const std::string state =
      "SELECT hex(pk), cid, val, col_version, db_version, "
      "CASE WHEN site_id IS crsql_site_id() THEN 'local' ELSE hex(site_id) END, cl, seq "
      "FROM crsql_changes";
  EXPECT_EQ(Rows(*batched, state), Rows(*one_by_one, state));
  EXPECT_EQ(Rows(*batched, "SELECT * FROM t ORDER BY id"), Rows(*one_by_one, "SELECT * FROM t ORDER BY id"));
  EXPECT_EQ(Rows(*batched, "SELECT count(*) FROM t"), (std::vector<std::string>{"6"}));
}

// Random changesets (runs of one to three columns of a row, rows the
// database has and has not, a second table with a two-column key, later
// lives, deletes, equal clocks with equal and different values, several
// writers) merged as one batch and one change at a time: the batch's
// windows and new-row runs must give the clocks and rows Merge of each
// change gives, with and without merge-equal-values.
TEST(CrrMergeTest, RandomBatchesMergeAsTheirChangesOneByOne) {
  const Value values[] = {Value::Text("x"), Value::Text("y"), Value::Integer(1), Value::Null()};
  const std::string setup_path = ::testing::TempDir() + "/crr_random_batches.db";
  const std::string batched_path = ::testing::TempDir() + "/crr_random_batches_batched.db";
  const std::string one_by_one_path = ::testing::TempDir() + "/crr_random_batches_one_by_one.db";
  std::filesystem::remove(setup_path);
  {
    std::unique_ptr<CrrDatabase> setup;
    ASSERT_TRUE(CrrDatabase::Open(setup_path, &setup).ok());
    ASSERT_TRUE(setup
                    ->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b); SELECT crsql_as_crr('t');"
                           "CREATE TABLE u (x TEXT NOT NULL, y INTEGER NOT NULL, a, b, PRIMARY KEY (x, y));"
                           "SELECT crsql_as_crr('u');"
                           "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 12) "
                           "INSERT INTO t SELECT v, 'l', v FROM n;"
                           "UPDATE t SET a = 'm' WHERE id % 3 = 0; DELETE FROM t WHERE id % 4 = 0;"
                           "INSERT INTO u VALUES ('p', 1, 'l', 'l'), ('q', 2, 'l', 'l');")
                    .ok());
  }
  for (const bool merge_equal_values : {false, true}) {
    for (uint32_t seed = 1; seed <= 25; ++seed) {
      for (const std::string& path : {batched_path, one_by_one_path}) {
        std::filesystem::copy_file(setup_path, path, std::filesystem::copy_options::overwrite_existing);
      }
      std::mt19937 random(seed);
      const auto pick = [&](uint32_t n) { return static_cast<int64_t>(random() % n); };
      Changeset changes;
      while (changes.size() < 400) {
        const bool second_table = pick(4) == 0;
        Blob pk = Pk(pick(16) + 1);
        if (second_table) {
          const Value key[] = {Value::Text(pick(2) == 0 ? "p" : "q"), Value::Integer(pick(4))};
          ASSERT_TRUE(EncodePackedPk(key, &pk).ok());
        }
        std::vector<std::string> columns = {"a", "b"};
        std::shuffle(columns.begin(), columns.end(), random);
        if (pick(5) == 0) columns.insert(columns.begin() + pick(3), "-1");
        const int64_t count = pick(columns.size()) + 1;
        for (int64_t c = 0; c < count; ++c) {
          const std::string cid = columns[static_cast<size_t>(c)];
          const std::optional<SiteId> site =
              pick(8) == 0 ? std::nullopt : std::optional(Site(static_cast<uint8_t>(7 + pick(3))));
          changes.push_back(Change{second_table ? "u" : "t", pk, cid, cid == "-1" ? Value::Null() : values[pick(4)],
                                   pick(3) + 1, pick(40) + 1, site, pick(4) == 0 ? pick(4) + 1 : 1, pick(4)});
        }
      }
      // Copies of one file: the same local site id (merge-equal-values
      // tie-breaks on it).
      std::unique_ptr<CrrDatabase> batched;
      std::unique_ptr<CrrDatabase> one_by_one;
      ASSERT_TRUE(CrrDatabase::Open(batched_path, &batched).ok());
      ASSERT_TRUE(CrrDatabase::Open(one_by_one_path, &one_by_one).ok());
      for (CrrDatabase* db : {batched.get(), one_by_one.get()}) {
        ASSERT_TRUE(
            db->Exec("SELECT crsql_config_set('merge-equal-values', " + std::to_string(merge_equal_values) + ")").ok());
      }
      Apply(*batched, changes);
      ASSERT_TRUE(one_by_one->Exec("BEGIN").ok());
      for (const Change& c : changes) Apply(*one_by_one, {c});
      ASSERT_TRUE(one_by_one->Exec("COMMIT").ok());
      const std::string state =
          "SELECT \"table\", hex(pk), cid, val, col_version, db_version, "
          "CASE WHEN site_id IS crsql_site_id() THEN 'local' ELSE hex(site_id) END, cl, seq "
          "FROM crsql_changes";
      EXPECT_EQ(Rows(*batched, state), Rows(*one_by_one, state)) << "seed " << seed;
      for (const char* rows : {"SELECT * FROM t ORDER BY id", "SELECT * FROM u ORDER BY x, y"}) {
        EXPECT_EQ(Rows(*batched, rows), Rows(*one_by_one, rows)) << "seed " << seed;
      }
    }
  }
}

// A row of more columns than a merge window's usual size is still merged
// whole, and as one change at a time would.
TEST(CrrMergeTest, ARowWiderThanAWindowMergesWhole) {
  std::string schema = "CREATE TABLE w (id INTEGER PRIMARY KEY NOT NULL";
  for (int column = 1; column <= 100; ++column) schema += ", c" + std::to_string(column);
  Changeset changes;  // row by row, as a peer sends them
  for (int64_t id : {1, 2}) {
    for (int column = 1; column <= 100; ++column) {
      changes.push_back(Change{"w", Pk(id), "c" + std::to_string(column), Value::Integer(id * 1000 + column), 1, 3,
                               Site(7), 1, column});
    }
  }
  schema += "); SELECT crsql_as_crr('w');";
  std::unique_ptr<CrrDatabase> batched;
  std::unique_ptr<CrrDatabase> one_by_one;
  for (auto* db : {&batched, &one_by_one}) {
    ASSERT_TRUE(CrrDatabase::Open(":memory:", db).ok());
    const Status created = (*db)->Exec(schema);
    ASSERT_TRUE(created.ok()) << created.ToString();
  }
  Apply(*batched, changes);
  ASSERT_TRUE(one_by_one->Exec("BEGIN").ok());
  for (const Change& c : changes) Apply(*one_by_one, {c});
  ASSERT_TRUE(one_by_one->Exec("COMMIT").ok());
  const std::string state = "SELECT hex(pk), cid, val, col_version, db_version, cl, seq FROM crsql_changes";
  EXPECT_EQ(Rows(*batched, state), Rows(*one_by_one, state));
  EXPECT_EQ(Rows(*batched, "SELECT * FROM w ORDER BY id"), Rows(*one_by_one, "SELECT * FROM w ORDER BY id"));
  EXPECT_EQ(Rows(*batched, "SELECT c1, c64, c100 FROM w ORDER BY id"),
            (std::vector<std::string>{"1001|1064|1100", "2001|2064|2100"}));
}

TEST(CrrMergeTest, BadChangesAreRefusedAndTheBatchIsNotApplied) {
  auto db = OpenTodo();
  const Change good = Col(1, "a", Value::Text("ok"), 1, 1, 1);
  Change unknown_table = good;
  unknown_table.table = "nope";
  Change unknown_column = good;
  unknown_column.cid = "nope";
  Change bad_pk = good;
  bad_pk.pk = {0x01, 0x09};
  Change two_column_pk = good;
  const Value two[] = {Value::Integer(1), Value::Integer(2)};
  ASSERT_TRUE(EncodePackedPk(two, &two_column_pk.pk).ok());
  for (const auto& [bad, message] : std::vector<std::pair<Change, std::string>>{
           {unknown_table, "not a CRR table: nope"},
           {unknown_column, "table t has no column nope"},
           {bad_pk, "packed pk: truncated integer"},
           {two_column_pk, "the primary key of t has 1 columns, the change has 2"}}) {
    const Status s = db->ApplyChanges({good, bad});
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
    EXPECT_TRUE(Rows(*db, "SELECT * FROM t").empty());
    EXPECT_TRUE(Changes(*db).empty());
  }
  EXPECT_NE(db->Exec("INSERT INTO crsql_changes VALUES ('t', x'010901', 'a', 1, 1, 1, x'0102', 1, 0)")
                .message()
                .find("16-byte"),
            std::string::npos);
}

TEST(CrrDatabaseTest, ReopenedFileKeepsSiteIdTablesAndVersion) {
  const std::string path = ::testing::TempDir() + "/crr_reopen.db";
  std::filesystem::remove(path);
  SiteId site;
  {
    std::unique_ptr<CrrDatabase> db;
    ASSERT_TRUE(CrrDatabase::Open(path, &db).ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a); SELECT crsql_as_crr('t');"
                         "INSERT INTO t VALUES (1, 'x'); INSERT INTO t VALUES (2, 'y');")
                    .ok());
    site = db->site_id();
  }
  std::unique_ptr<CrrDatabase> db;
  ASSERT_TRUE(CrrDatabase::Open(path, &db).ok());
  EXPECT_EQ(db->site_id(), site);
  ASSERT_TRUE(db->Exec("UPDATE t SET a = 'z' WHERE id = 1").ok());
  EXPECT_EQ(Rows(*db, "SELECT cid, val, col_version, db_version FROM crsql_changes WHERE db_version = 3"),
            (std::vector<std::string>{"'a'|'z'|2|3"}));
  std::filesystem::remove(path);
}

TEST(CrrDatabaseTest, TrackedPeersAcceptTheSyncClientsUpsert) {
  auto db = OpenTodo();
  const std::string upsert =
      "INSERT INTO crsql_tracked_peers (site_id, event, version, seq, tag) VALUES "
      "(x'0707070707070707070707070707070F', 0, "
      "%d, 0, 0) ON CONFLICT DO UPDATE SET version = MAX(version, excluded.version)";
  char sql[512];
  std::snprintf(sql, sizeof sql, upsert.c_str(), 5);
  ASSERT_TRUE(db->Exec(sql).ok());
  std::snprintf(sql, sizeof sql, upsert.c_str(), 3);
  ASSERT_TRUE(db->Exec(sql).ok());
  EXPECT_EQ(Rows(*db, "SELECT version FROM crsql_tracked_peers"), (std::vector<std::string>{"5"}));
}

TEST(CrrDatabaseTest, PeerProgressAdvancesWithTheChangesAndNeverBackwards) {
  auto db = OpenTodo();
  const SiteId peer = Site(7);
  PeerProgress progress;
  ASSERT_TRUE(db->GetPeerProgress(peer, &progress).ok());
  EXPECT_EQ(progress.version, 0);

  ASSERT_TRUE(db->ApplyChanges({Col(1, "a", Value::Text("x"), 1, 5, 1)}, PeerProgress{peer, 5, 2}).ok());
  ASSERT_TRUE(db->GetPeerProgress(peer, &progress).ok());
  EXPECT_EQ(progress.version, 5);
  EXPECT_EQ(progress.seq, 2);

  ASSERT_TRUE(db->ApplyChanges({}, PeerProgress{peer, 3, 9}).ok());  // older: ignored
  ASSERT_TRUE(db->GetPeerProgress(peer, &progress).ok());
  EXPECT_EQ(progress.version, 5);
  EXPECT_EQ(progress.seq, 2);

  Change bad = Col(2, "nope", Value::Text("y"), 1, 9, 1);
  EXPECT_FALSE(db->ApplyChanges({Col(2, "a", Value::Text("y"), 1, 9, 1), bad}, PeerProgress{peer, 9, 0}).ok());
  ASSERT_TRUE(db->GetPeerProgress(peer, &progress).ok());
  EXPECT_EQ(progress.version, 5) << "a failed batch must not advance the peer";
  EXPECT_EQ(Rows(*db, "SELECT id FROM t"), (std::vector<std::string>{"1"}));
}

TEST(CrrExtensionTest, LoadsIntoTheStockSqliteShell) {
  const std::string extension = std::filesystem::path(CRBRIDGE_CRR_EXTENSION).replace_extension().string();
  testing::Subprocess shell({"/usr/bin/sqlite3", ":memory:", ".load " + extension,
                             "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a)", "SELECT crsql_as_crr('t')",
                             "INSERT INTO t VALUES (1, 'x')",
                             "SELECT cid, val, col_version, cl, length(crsql_site_id()) FROM crsql_changes"});
  // No crsql_finalize(): the shell closes the connection cleanly without it.
  EXPECT_EQ(shell.Wait(std::chrono::seconds(30)), 0) << shell.Output();
  EXPECT_EQ(shell.Output(), "\na|x|1|1|16\n");
}

TEST(CrrExtensionTest, LoadsThroughTheCApi) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  sqlite3_enable_load_extension(db, 1);
  char* error = nullptr;
  ASSERT_EQ(sqlite3_load_extension(db, CRBRIDGE_CRR_EXTENSION, "sqlite3_crbridgecrr_init", &error), SQLITE_OK)
      << (error ? error : "");
  // Writes, merges and reads leave the layer's statements cached; closing
  // finalizes them (sqlite3_close refuses a connection with live ones).
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a); SELECT crsql_as_crr('t'); "
                         "INSERT INTO t VALUES (1, 'x'); UPDATE t SET a = 'y'; DELETE FROM t; "
                         "INSERT INTO crsql_changes VALUES ('t', crsql_pack_columns(2), 'a', 'z', 1, 1, NULL, 1, 0); "
                         "SELECT * FROM crsql_changes",
                         nullptr, nullptr, &error),
            SQLITE_OK)
      << (error ? error : "");
  EXPECT_EQ(sqlite3_close(db), SQLITE_OK) << sqlite3_errmsg(db);
}

}  // namespace
}  // namespace crbridge
