// Recording captured app writes in the clocks (ChangeRecorder)
// against the real Postgres fixture: which columns bump, deletes,
// resurrections, truncates, exact skipping of what is already recorded, and
// the race with a client merge.
#include "crbridge/server/change_recorder.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "crbridge/server/sync_store.h"
#include "crbridge/sqlite/packed_pk.h"
#include "test_databases.h"
#include "todo_app.h"

namespace crbridge::testing {
namespace {

struct Recording {
  std::string url = TestDatabases::Get().NewPostgresDatabase("todo_app.postgres.sql");
  std::unique_ptr<MappedApp> app = MapTodoApp(url);
  std::unique_ptr<PostgresShadowStore> capture_writer = OpenClockStore(url, *app, ShadowStore::Marking::kNone);
  ChangeRecorder recorder{*capture_writer, SourceType::kPostgres};
  pqxx::connection conn{url};

  const ResolvedTable* Table(const std::string& name) const {
    for (const ResolvedTable& t : app->check.tables) {
      if (t.mapping->name == name) return &t;
    }
    return nullptr;
  }

  // A todo as the source reports it: id, list_id, title, done, position, due.
  CapturedRow Todo(CapturedRow::Kind kind, const std::string& id, std::optional<std::string> title = "milk",
                   bool done = false) const {
    CapturedRow row{kind, Table("todos"), {Value::Text(id)}, {}};
    if (kind == CapturedRow::Kind::kDelete) return row;
    row.values = {Value::Text("l1"), title ? std::optional<Value>(Value::Text(*title)) : std::nullopt,
                  Value::Integer(done ? 1 : 0), Value::Null(), Value::Null()};
    return row;
  }

  RecordReport Record(int64_t position, std::vector<CapturedRow> rows) {
    RecordReport report;
    const Status s = recorder.Record({CapturedTransaction{position, std::move(rows)}}, &report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }

  // "cl versions sites db_version" of a todo's clock.
  std::string Clock(const std::string& id) {
    pqxx::nontransaction db(conn);
    const pqxx::result r = db.exec_params(
        "SELECT __cl || ' ' || __col_versions::text || ' ' || __col_sites::text || ' ' || __db_version "
        "FROM crbridge.todos__clock WHERE id = $1", id);
    return r.empty() ? "none" : r[0][0].as<std::string>();
  }
  int64_t Position() {
    SourcePosition position;
    EXPECT_TRUE(capture_writer->CapturePosition(&position).ok());
    return position.offset;
  }
};

using Kind = CapturedRow::Kind;

TEST(ChangeRecorderTest, AnInsertGivesEveryColumnAServerClock) {
  Recording r;
  const RecordReport report = r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  EXPECT_EQ(report.rows_changed, 1u);
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,1,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
  EXPECT_EQ(r.Position(), 100);
}

TEST(ChangeRecorderTest, AnUpdateBumpsOnlyTheColumnsThatReallyChanged) {
  Recording r;
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  // done changes; title is the same; an unchanged TOASTed value is not sent.
  const RecordReport report = r.Record(200, {r.Todo(Kind::kUpdate, "t1", "milk", true)});
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,2,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
  r.Record(300, {r.Todo(Kind::kUpdate, "t1", std::nullopt, true)});
  EXPECT_EQ(r.Clock("t1"), "1 {1,1,2,1,1} {0,0,0,0,0} " + std::to_string(report.db_version))
      << "nothing changed: no new version";
  EXPECT_EQ(r.Position(), 300);
}

TEST(ChangeRecorderTest, DeletesAndReinsertsMoveTheCausalLength) {
  Recording r;
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  r.Record(200, {r.Todo(Kind::kDelete, "t1")});
  EXPECT_EQ(r.Clock("t1").substr(0, 2), "2 ");
  r.Record(300, {r.Todo(Kind::kInsert, "t1", "eggs")});
  EXPECT_EQ(r.Clock("t1").substr(0, 15), "3 {2,2,2,2,2} {");
  // A delete of a row never recorded leaves nothing behind.
  r.Record(400, {r.Todo(Kind::kDelete, "t9")});
  EXPECT_EQ(r.Clock("t9"), "none");
}

TEST(ChangeRecorderTest, ChangesWithinOneTransactionApplyInOrder) {
  Recording r;
  const RecordReport report = r.Record(100, {r.Todo(Kind::kInsert, "t1"), r.Todo(Kind::kUpdate, "t1", "eggs"),
                                             r.Todo(Kind::kDelete, "t2"), r.Todo(Kind::kInsert, "t2")});
  EXPECT_EQ(report.rows_changed, 2u);
  EXPECT_EQ(r.Clock("t1"), "1 {1,2,1,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
  EXPECT_EQ(r.Clock("t2"), "1 {1,1,1,1,1} {0,0,0,0,0} " + std::to_string(report.db_version));
}

TEST(ChangeRecorderTest, ATransactionRecordedTwiceCountsOnce) {
  Recording r;
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  const std::string once = r.Clock("t1");
  const RecordReport again = r.Record(100, {r.Todo(Kind::kInsert, "t1", "other")});
  EXPECT_EQ(again.rows_skipped, 1u);
  EXPECT_EQ(again.rows_changed, 0u);
  EXPECT_EQ(r.Clock("t1"), once);
}

TEST(ChangeRecorderTest, ATruncateKillsEveryLiveRowButNotLaterOnes) {
  Recording r;
  r.Record(100, {r.Todo(Kind::kInsert, "t1"), r.Todo(Kind::kInsert, "t2")});
  r.Record(200, {r.Todo(Kind::kDelete, "t2")});
  CapturedRow truncate{Kind::kTruncate, r.Table("todos"), {}, {}};
  const RecordReport report = r.Record(300, {truncate, r.Todo(Kind::kInsert, "t3")});
  EXPECT_EQ(report.rows_changed, 2u);
  EXPECT_EQ(r.Clock("t1").substr(0, 2), "2 ");
  EXPECT_EQ(r.Clock("t2").substr(0, 2), "2 ") << "already dead: unchanged";
  EXPECT_EQ(r.Clock("t3").substr(0, 2), "1 ");
  // Replayed, the truncate leaves the row inserted after it alone.
  r.Record(300, {truncate});
  EXPECT_EQ(r.Clock("t3").substr(0, 2), "1 ");
}

// design.md, "App write racing a client merge": the app writes a row, a
// client merge reaches it before capture does. The merge records the app
// write first; capture, arriving later, skips it. Table and clock agree.
TEST(ChangeRecorderTest, AnAppWriteAMergeRecordedFirstIsNotRecordedAgain) {
  Recording r;
  r.Record(100, {r.Todo(Kind::kInsert, "t1")});
  {
    pqxx::work tx(r.conn);
    tx.exec0("INSERT INTO todos (id, list_id, title, done) VALUES ('t1', 'l1', 'milk', false)");
    tx.commit();
  }
  int64_t app_commit = 0;
  {
    pqxx::work tx(r.conn);
    tx.exec0("UPDATE todos SET title = 'oat milk' WHERE id = 't1'");
    tx.commit();
    app_commit = pqxx::nontransaction(r.conn).exec1("SELECT pg_current_wal_lsn() - '0/0'")[0].as<int64_t>();
  }
  auto merge_writer = OpenClockStore(r.url, *r.app);
  auto store = std::make_unique<SyncStore>(r.app->config, r.app->check.tables, *merge_writer);
  SiteId client;
  client.fill(7);
  const Value key = Value::Text("t1");
  Blob pk;
  ASSERT_TRUE(EncodePackedPk(std::span(&key, 1), &pk).ok());
  MergeReport merged;
  ASSERT_TRUE(store->Merge(client, {Change{"todos", pk, "done", Value::Integer(1), 1, 1, std::nullopt, 1, 0}},
                           PeerVersion{1, 0}, &merged)
                  .ok());
  // title: the app's write, recorded by the merge (version 2, the server);
  // done: the client's, which beat the server's version 1 on value.
  EXPECT_EQ(r.Clock("t1"), "1 {1,2,1,1,1} {0,0,1,0,0} " + std::to_string(merged.db_version));

  const RecordReport late = r.Record(app_commit, {r.Todo(Kind::kUpdate, "t1", "oat milk")});
  EXPECT_EQ(late.rows_skipped, 1u);
  EXPECT_EQ(r.Clock("t1"), "1 {1,2,1,1,1} {0,0,1,0,0} " + std::to_string(merged.db_version));
}

}  // namespace
}  // namespace crbridge::testing
